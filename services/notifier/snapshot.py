"""The tenant's current state: the last status of each store, from JetStream.

A short-lived ordered consumer with ``DeliverPolicy.LAST_PER_SUBJECT`` on
``urumi.evt.<tenant>.*.status`` yields one message per store. The snapshot is cut at
a stream position ``seq`` read first: a status newer than ``seq`` is left out, because
the live feed (which starts at ``seq + 1``) will deliver it. So snapshot + feed never
skip and never repeat a status.
"""

import asyncio
import logging
from typing import Final, NamedTuple

import msgspec
from nats.js import JetStreamContext
from nats.js.api import DeliverPolicy

from services.contracts import subjects, wire
from services.contracts.events import StoreStatus
from services.contracts.phases import Phase
from services.contracts.streams import EVENTS

log = logging.getLogger(__name__)

SNAPSHOT_TIMEOUT_S: Final = 5.0


class Bounds(NamedTuple):
    first_seq: int
    last_seq: int


async def stream_bounds(js: JetStreamContext) -> Bounds:
    info = await js.stream_info(EVENTS.name)
    return Bounds(info.state.first_seq, info.state.last_seq)


async def last_statuses(js: JetStreamContext, tenant: str, upto: int) -> list[StoreStatus]:
    """The newest status at or before stream position ``upto`` of each live store."""
    sub = await js.subscribe(
        subjects.tenant_statuses(tenant),
        stream=EVENTS.name,
        ordered_consumer=True,
        deliver_policy=DeliverPolicy.LAST_PER_SUBJECT,
    )
    statuses: list[StoreStatus] = []
    try:
        info = await sub.consumer_info()
        pending = info.num_pending or 0
        while pending > 0:
            msg = await sub.next_msg(timeout=SNAPSHOT_TIMEOUT_S)
            # Delivery is in stream order, so the first one past the cut ends it.
            if msg.metadata.sequence.stream > upto:
                break
            pending = msg.metadata.num_pending
            status = _status(msg.data)
            if status is not None and status.phase != Phase.DELETED:
                statuses.append(status)
    finally:
        await _quietly_unsubscribe(sub)
    return statuses


def _status(data: bytes) -> StoreStatus | None:
    try:
        event = wire.decode_event(data)
    except msgspec.DecodeError:
        log.warning("undecodable status skipped in snapshot")
        return None
    return event if isinstance(event, StoreStatus) else None


async def _quietly_unsubscribe(sub: JetStreamContext.PushSubscription) -> None:
    # The ephemeral consumer also expires by itself; a failed cleanup is harmless.
    try:
        await asyncio.shield(sub.unsubscribe())
    except Exception as exc:
        log.debug("snapshot unsubscribe failed", extra={"error": str(exc)})
