"""The tenant's current state: the last status of each store, from JetStream.

A short-lived pull consumer with ``DeliverPolicy.LAST_PER_SUBJECT`` on
``urumi.evt.<tenant>.*.status`` yields one message per store. The snapshot is cut at
a stream position ``seq`` read first: a status newer than ``seq`` is left out, because
the live feed (which starts at ``seq + 1``) will deliver it. So snapshot + feed never
skip and never repeat a status.
"""

import logging
from typing import Final, NamedTuple

import msgspec
from nats.js import JetStreamContext
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy

from services.contracts import subjects, wire
from services.contracts.events import StoreStatus
from services.contracts.phases import Phase
from services.contracts.streams import EVENTS
from services.notifier.ephemeral import discard

log = logging.getLogger(__name__)

SNAPSHOT_TIMEOUT_S: Final = 5.0
BATCH: Final = 256
INACTIVE_THRESHOLD_S: Final = 30.0


class Bounds(NamedTuple):
    first_seq: int
    last_seq: int


async def stream_bounds(js: JetStreamContext) -> Bounds:
    info = await js.stream_info(EVENTS.name)
    return Bounds(info.state.first_seq, info.state.last_seq)


async def last_statuses(js: JetStreamContext, tenant: str, upto: int) -> list[StoreStatus]:
    """The newest status at or before stream position ``upto`` of each live store."""
    # A pull consumer delivers nothing until asked, so its pending count at creation
    # is exactly the number of stores (a push consumer may already have sent some).
    sub = await js.pull_subscribe(
        subjects.tenant_statuses(tenant),
        stream=EVENTS.name,
        config=ConsumerConfig(
            deliver_policy=DeliverPolicy.LAST_PER_SUBJECT,
            ack_policy=AckPolicy.NONE,
            inactive_threshold=INACTIVE_THRESHOLD_S,
            mem_storage=True,
        ),
    )
    statuses: list[StoreStatus] = []
    info = await sub.consumer_info()
    try:
        pending = info.num_pending or 0
        while pending > 0:
            for msg in await sub.fetch(min(pending, BATCH), timeout=SNAPSHOT_TIMEOUT_S):
                pending = msg.metadata.num_pending
                # Delivery is in stream order, so the first one past the cut ends it.
                if msg.metadata.sequence.stream > upto:
                    pending = 0
                    break
                status = _status(msg.data)
                if status is not None and status.phase != Phase.DELETED:
                    statuses.append(status)
    finally:
        await discard(js, sub, info.name, "snapshot")
    return statuses


def _status(data: bytes) -> StoreStatus | None:
    try:
        event = wire.decode_event(data)
    except msgspec.DecodeError:
        log.warning("undecodable status skipped in snapshot")
        return None
    return event if isinstance(event, StoreStatus) else None
