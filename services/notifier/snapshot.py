"""The tenant's current state: the last status of each store, from JetStream.

The snapshot reads the last message of each ``urumi.evt.<tenant>.*.status``
subject, cut at a stream position ``seq`` read first: a status newer than ``seq``
is left out, because the live feed (which starts at ``seq + 1``) will deliver it.
So snapshot + feed never skip and never repeat a status.
"""

from typing import NamedTuple

from nats.js import JetStreamContext

from services.contracts import subjects
from services.contracts.events import StoreStatus
from services.contracts.phases import Phase
from services.contracts.streams import EVENTS
from services.runtime import stream_reader


class Bounds(NamedTuple):
    first_seq: int
    last_seq: int


async def stream_bounds(js: JetStreamContext) -> Bounds:
    info = await js.stream_info(EVENTS.name)
    return Bounds(info.state.first_seq, info.state.last_seq)


async def last_statuses(js: JetStreamContext, tenant: str, upto: int) -> list[StoreStatus]:
    """The newest status at or before stream position ``upto`` of each live store."""
    statuses = await stream_reader.last_statuses(
        js, EVENTS.name, subjects.tenant_statuses(tenant), upto
    )
    return [s for s in statuses if s.phase != Phase.DELETED]
