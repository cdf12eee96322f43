"""The last StoreStatus of every store, read back from URUMI_EVENTS.

A watcher that starts (or takes over) continues from what was published: the
previous status keeps transition times and the ready-once memory, and a store
whose namespace vanished while no watcher ran still gets its `deleted`.
"""

from nats.js import JetStreamContext

from services.contracts.events import StoreStatus
from services.contracts.streams import EVENTS
from services.contracts.subjects import PREFIX, EventKind
from services.runtime import stream_reader

STATUS_SUBJECTS = f"{PREFIX}.evt.*.*.{EventKind.STATUS.value}"


async def last_statuses(js: JetStreamContext) -> list[StoreStatus]:
    """One status per store, the newest."""
    return await stream_reader.last_statuses(js, EVENTS.name, STATUS_SUBJECTS)
