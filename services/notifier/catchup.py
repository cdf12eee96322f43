"""A session's catch-up: its tenant's events from ``start`` through ``upto``.

``upto`` is the hub's position when the session registered; the hub delivers
every event after it. So catch-up plus the shared feed is every event from
``start`` on, each once, in order (see ``hub.py``).

The events of ``urumi.evt.<tenant>.>`` from ``start``, read back by a throwaway
consumer; batches are fetched only as the socket takes them, so a long replay
uses bounded memory. Nothing is created when there is nothing to replay
(``upto < start``: the common case, a fresh connection cut at the stream's end).
"""

import logging
from collections.abc import AsyncGenerator
from contextlib import aclosing

import msgspec
from nats.js import JetStreamContext

from services.contracts import subjects, wire
from services.contracts.frames import raw_event_frame
from services.contracts.streams import EVENTS
from services.runtime.stream_reader import read_stream

log = logging.getLogger(__name__)


async def replay(
    js: JetStreamContext, tenant: str, start: int, upto: int
) -> AsyncGenerator[tuple[int, str], None]:
    """``(seq, event frame text)`` of the tenant's events with start <= seq <= upto."""
    if upto < start:
        return
    events = read_stream(js, EVENTS.name, subjects.tenant_events(tenant), start=start, upto=upto)
    async with aclosing(events) as msgs:
        async for msg in msgs:
            if _decodes(msg.data):
                seq = msg.metadata.sequence.stream
                yield seq, raw_event_frame(seq, msg.data)


def _decodes(data: bytes) -> bool:
    try:
        wire.decode_bus_event(data)
    except msgspec.DecodeError:
        log.warning("undecodable event skipped in catch-up")
        return False
    return True
