"""The watcher's lease and its read-back of previous statuses, on a real nats-server."""

import asyncio
import time
from datetime import UTC, datetime

from nats.js import JetStreamContext

from services.contracts.events import StoreStatus
from services.contracts.phases import Phase
from services.contracts.streams import BucketDef
from services.runtime import bus
from services.watcher.history import last_statuses
from services.watcher.lease import KEY, Lease
from services.watcher.publisher import Publisher
from tests.fixtures.waiting import eventually

TTL = 2.0


async def lease_pair(js: JetStreamContext, name: str) -> tuple[Lease, Lease]:
    kv = await bus.ensure_bucket(js, BucketDef(name=name, ttl_s=TTL))
    return Lease(kv, TTL, holder="a"), Lease(kv, TTL, holder="b")


async def test_one_holder_and_takeover_after_expiry(js: JetStreamContext) -> None:
    a, b = await lease_pair(js, "lease-expiry")
    await a.step()
    await b.step()
    assert a.active()
    assert not b.active()
    assert a.healthy()
    assert b.healthy()
    assert (await a.kv.get(KEY)).value == b"a"
    # `a` dies silently (no renewals): the key expires and `b` takes over.
    took = await _standby_loop_until_active(b, limit_s=TTL + 5)
    assert took <= TTL + 3
    assert (await b.kv.get(KEY)).value == b"b"
    # The old holder, back from a pause, finds another revision and steps down.
    a._renewed_at = time.monotonic()  # as if it had not noticed the pause
    await a.step()
    assert not a.active()


async def _standby_loop_until_active(lease: Lease, limit_s: float) -> float:
    stop = asyncio.Event()
    task = asyncio.create_task(lease.run(stop))
    try:
        start = time.monotonic()
        await eventually(lease.active, limit_s, interval=0.05, what="standby to take over")
        return time.monotonic() - start
    finally:
        stop.set()
        await asyncio.wait_for(task, 5)  # it ends when told to, without a cancel


async def test_renewal_that_landed_unanswered_keeps_the_lease(js: JetStreamContext) -> None:
    """A renewal that timed out while NATS was away may still have been applied:
    the key's revision moved on, but it names us, so we stay active."""
    a, b = await lease_pair(js, "lease-lost-reply")
    await a.step()
    assert a._revision is not None
    await a.kv.update(KEY, b"a", last=a._revision)  # the renewal whose reply was lost
    await a.step()
    assert a.active()
    assert a.term == 1
    await b.step()
    assert not b.active()


async def test_holder_that_stepped_down_in_an_outage_takes_its_key_back(
    js: JetStreamContext,
) -> None:
    a, b = await lease_pair(js, "lease-outage")
    await a.step()
    a._lose("could not renew in time")  # what NATS being away for 8 s leads to
    await b.step()
    assert not b.active(), "the key has not expired: nobody else may take it"
    await a.step()
    assert a.active(), "waited for its own key to expire"
    assert a.term == 2  # a new term: the controller takes over again from the stream


async def test_release_hands_over_at_once(js: JetStreamContext) -> None:
    a, b = await lease_pair(js, "lease-release")
    await a.step()
    assert a.active()
    await a.release()
    assert not a.active()
    await b.step()
    assert b.active()
    assert b.term == 1


async def test_holder_steps_down_without_renewals(js: JetStreamContext) -> None:
    a, _ = await lease_pair(js, "lease-stale")
    await a.step()
    assert a.active()
    await eventually(
        lambda: not a.active(), TTL, interval=0.05, what="the unrenewed lease to lapse locally"
    )


async def test_renewals_keep_the_lease(js: JetStreamContext) -> None:
    a, b = await lease_pair(js, "lease-renew")
    stop = asyncio.Event()
    runner = asyncio.create_task(a.run(stop))
    try:
        await eventually(a.active, 2, interval=0.05, what="a active")
        deadline = time.monotonic() + 2.5 * TTL
        while time.monotonic() < deadline:
            await b.step()
            assert not b.active()
            assert a.active()
            await asyncio.sleep(0.3)
    finally:
        stop.set()
        await asyncio.wait_for(runner, 5)


def status(store: str, phase: Phase, generation: int = 1) -> StoreStatus:
    return StoreStatus("acme", store, phase, generation, datetime.now(UTC))


async def test_last_statuses_reads_one_per_store(js: JetStreamContext) -> None:
    assert await last_statuses(js) == []
    pub = Publisher(js)
    assert await pub.status("store-one", status("one", Phase.PENDING))
    assert await pub.status("store-one", status("one", Phase.PROVISIONING))
    assert await pub.status("store-two", status("two", Phase.READY))
    got = {s.store: s.phase for s in await last_statuses(js)}
    assert got == {"one": Phase.PROVISIONING, "two": Phase.READY}


async def test_publisher_sends_only_changes(js: JetStreamContext) -> None:
    pub = Publisher(js)
    first = status("shop", Phase.PROVISIONING)
    assert await pub.status("store-shop", first)
    again = StoreStatus("acme", "shop", Phase.PROVISIONING, 1, datetime.now(UTC))
    assert not await pub.status("store-shop", again)
    assert await pub.status("store-shop", again, force=True)
    info = await js.stream_info("URUMI_EVENTS")
    assert info.state.messages == 2
