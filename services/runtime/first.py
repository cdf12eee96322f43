"""Run awaitables side by side until the first of them finishes."""

import asyncio
from collections.abc import Awaitable


async def first_done(*aws: Awaitable[object]) -> None:
    """Return when the first finishes, the others cancelled and awaited, so none
    outlives the call, also when the caller is cancelled. (For a time limit, pass
    an `asyncio.sleep` too.)

    Pass tasks to see afterwards which one finished and how: a finished task's
    outcome (result or exception) is left for the caller to read.
    """
    tasks = [asyncio.ensure_future(a) for a in aws]
    try:
        await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
