"""Graceful SIGTERM/SIGINT: stop taking work, finish in-flight work, exit."""

import asyncio
import contextlib
import signal


def stop_event_on_signals() -> asyncio.Event:
    """An event set by the first SIGTERM or SIGINT (must run inside the loop)."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    return stop


async def sleep_or_stop(stop: asyncio.Event, seconds: float) -> None:
    """Sleep `seconds`, or less when `stop` is set meanwhile."""
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), seconds)
