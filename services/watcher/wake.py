"""Waiting for a loop's wake-up event, with a timeout, cheaply."""

import asyncio
import contextlib


async def wake_or_timeout(wake: asyncio.Event, timeout_s: float) -> None:
    """Return once `wake` is set, or after `timeout_s`.

    The controller's loop waits here once per burst of watch events; unlike
    `asyncio.wait_for`, which wraps the wait in a new task each time, this costs
    one timer (none when `wake` is already set)."""
    if wake.is_set():
        return
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(timeout_s):
            await wake.wait()
