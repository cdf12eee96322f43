"""The last StoreStatus of every store, read back from URUMI_EVENTS.

A watcher that starts (or takes over) continues from what was published: the
previous status keeps transition times and the ready-once memory, and a store
whose namespace vanished while no watcher ran still gets its `deleted`.
"""

import contextlib
import logging

from nats.errors import TimeoutError as NatsTimeout
from nats.js import JetStreamContext
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy

from services.contracts import wire
from services.contracts.events import StoreStatus
from services.contracts.streams import EVENTS
from services.contracts.subjects import PREFIX, EventKind

log = logging.getLogger(__name__)

STATUS_SUBJECTS = f"{PREFIX}.evt.*.*.{EventKind.STATUS.value}"
BATCH = 256


async def last_statuses(js: JetStreamContext) -> list[StoreStatus]:
    """One message per status subject, read with a throwaway last-per-subject consumer."""
    config = ConsumerConfig(
        deliver_policy=DeliverPolicy.LAST_PER_SUBJECT,
        ack_policy=AckPolicy.NONE,
        inactive_threshold=30.0,
        filter_subject=STATUS_SUBJECTS,
    )
    sub = await js.pull_subscribe(STATUS_SUBJECTS, stream=EVENTS.name, config=config)
    try:
        pending = (await sub.consumer_info()).num_pending or 0
        out: list[StoreStatus] = []
        fetched = 0
        while fetched < pending:
            try:
                msgs = await sub.fetch(min(BATCH, pending - fetched), timeout=5)
            except NatsTimeout:
                break
            fetched += len(msgs)
            out.extend(s for s in map(_status, (m.data for m in msgs)) if s is not None)
        return out
    finally:
        with contextlib.suppress(Exception):
            await sub.unsubscribe()


def _status(data: bytes) -> StoreStatus | None:
    try:
        event = wire.decode_event(data)
    except Exception:
        log.warning("undecodable status message skipped")
        return None
    return event if isinstance(event, StoreStatus) else None
