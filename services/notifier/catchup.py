"""A session's catch-up: its tenant's events from ``start`` through ``upto``.

``upto`` is the hub's position when the session registered; the hub delivers
every event after it. So catch-up plus the shared feed is every event from
``start`` on, each once, in order (see ``hub.py``).

A short-lived pull consumer filtered on ``urumi.evt.<tenant>.>`` from ``start``:
it delivers nothing until asked, so its pending count at creation is exactly what
the stream holds for the tenant from ``start`` to its end, and the stream's end is
at or beyond ``upto``. Batches are fetched only as the socket takes them, so a long
replay uses bounded memory. Nothing is created when there is nothing to replay
(``upto < start``: the common case, a fresh connection cut at the stream's end).
"""

import logging
from collections.abc import AsyncGenerator
from typing import Final

import msgspec
from nats.js import JetStreamContext
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy

from services.contracts import subjects, wire
from services.contracts.frames import raw_event_frame
from services.contracts.streams import EVENTS
from services.notifier.ephemeral import discard

log = logging.getLogger(__name__)

FETCH_TIMEOUT_S: Final = 5.0
BATCH: Final = 256
INACTIVE_THRESHOLD_S: Final = 30.0


async def replay(
    js: JetStreamContext, tenant: str, start: int, upto: int
) -> AsyncGenerator[tuple[int, str], None]:
    """``(seq, event frame text)`` of the tenant's events with start <= seq <= upto."""
    if upto < start:
        return
    sub = await js.pull_subscribe(
        subjects.tenant_events(tenant),
        stream=EVENTS.name,
        config=ConsumerConfig(
            deliver_policy=DeliverPolicy.BY_START_SEQUENCE,
            opt_start_seq=start,
            ack_policy=AckPolicy.NONE,
            inactive_threshold=INACTIVE_THRESHOLD_S,
            mem_storage=True,
        ),
    )
    info = await sub.consumer_info()
    try:
        pending = info.num_pending or 0
        while pending > 0:
            for msg in await sub.fetch(min(pending, BATCH), timeout=FETCH_TIMEOUT_S):
                pending = msg.metadata.num_pending
                seq = msg.metadata.sequence.stream
                if seq > upto:  # the shared feed has this one and all after it
                    return
                if _decodes(msg.data):
                    yield seq, raw_event_frame(seq, msg.data)
    finally:
        await discard(js, sub, info.name, "catch-up")


def _decodes(data: bytes) -> bool:
    try:
        wire.decode_event(data)
    except msgspec.DecodeError:
        log.warning("undecodable event skipped in catch-up")
        return False
    return True
