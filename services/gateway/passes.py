"""The gateway's level-triggered loops (fleet upgrades, own domains, auto-sleep):
a pass now, whenever something wakes the loop, and at least every
`PASS_INTERVAL_S` (or the loop's own interval); each pass reads everything it
needs from the database, so a restart loses nothing."""

import asyncio
import logging
from collections.abc import Awaitable, Callable

from services.runtime.first import first_done

log = logging.getLogger(__name__)

# How often every replica passes when nothing wakes it: a store's `ready`, which
# the loops wait on, reaches the database through the projector, which does not.
PASS_INTERVAL_S = 1.0


async def run_passes(
    what: str,
    one_pass: Callable[[], Awaitable[bool]],
    wake: asyncio.Event,
    relay: asyncio.Event,
    stop: asyncio.Event,
    interval_s: float = PASS_INTERVAL_S,
) -> None:
    """`one_pass` until `stop`, at least every `interval_s`; a pass that changed
    anything wakes the outbox `relay` (what it queued is sent at once); a failed
    one is retried."""
    while not stop.is_set():
        wake.clear()
        try:
            if await one_pass():
                relay.set()
        except Exception as exc:
            log.warning("%s pass failed; will retry", what, extra={"error": repr(exc)})
        await first_done(wake.wait(), stop.wait(), asyncio.sleep(interval_s))
