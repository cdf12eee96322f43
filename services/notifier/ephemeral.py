"""Dropping the short-lived JetStream consumers of snapshots and catch-ups."""

import asyncio
import logging

from nats.js import JetStreamContext

from services.contracts.streams import EVENTS

log = logging.getLogger(__name__)


async def discard(
    js: JetStreamContext, sub: JetStreamContext.PullSubscription, name: str, what: str
) -> None:
    """Unsubscribe and delete the consumer, even when the caller is cancelled.
    It also expires by itself, so a failed cleanup is harmless."""
    try:
        await asyncio.shield(sub.unsubscribe())
        await asyncio.shield(js.delete_consumer(EVENTS.name, name))
    except Exception as exc:
        log.debug(f"{what} cleanup failed", extra={"error": str(exc)})
