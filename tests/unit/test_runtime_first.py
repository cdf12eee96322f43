"""first_done: the first to finish ends the wait; nothing outlives it."""

import asyncio

import pytest

from services.runtime.first import first_done


async def test_returns_on_the_first_and_cancels_the_rest() -> None:
    fast = asyncio.create_task(asyncio.sleep(0, "fast"))
    slow = asyncio.create_task(asyncio.sleep(60))
    await first_done(fast, slow)
    assert fast.result() == "fast"
    assert slow.cancelled()


async def test_a_sleep_bounds_the_wait() -> None:
    event = asyncio.Event()
    waiter = asyncio.create_task(event.wait())
    await asyncio.wait_for(first_done(waiter, asyncio.sleep(0.01)), timeout=5)
    assert waiter.cancelled()


async def test_a_failure_is_left_for_the_caller() -> None:
    async def fail() -> None:
        raise ValueError("boom")

    failing = asyncio.create_task(fail())
    await first_done(failing, asyncio.sleep(60))
    with pytest.raises(ValueError, match="boom"):
        await failing


async def test_cancelling_the_caller_cancels_every_one() -> None:
    inner = asyncio.create_task(asyncio.sleep(60))
    outer = asyncio.create_task(first_done(inner, asyncio.Event().wait()))
    await asyncio.sleep(0)
    outer.cancel()
    with pytest.raises(asyncio.CancelledError):
        await outer
    assert inner.cancelled()
