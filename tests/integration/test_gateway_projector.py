"""The gateway's projector folding a burst of events, many stores' at once, on
real NATS and each database backend: every store ends where its last event
says, with its whole history in order; a redelivery adds nothing; a bad event
is reported and retried on its own while the rest of its batch is projected."""

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime, timedelta

import pytest
from nats.js import JetStreamContext

from services.contracts import streams
from services.contracts.events import StepState, StoreProgress, StoreStatus
from services.contracts.phases import Phase
from services.contracts.subjects import EventKind, event_subject
from services.contracts.wire import encode
from services.gateway import projector
from services.gateway import repository as repo
from services.gateway.db import Database
from services.gateway.deps import GatewayDeps
from services.gateway.models import CreateStoreRequest, TenantView
from services.gateway.outbox import OutboxRelay
from services.gateway.pg import PgDatabase
from services.gateway.ratelimit import LocalRateLimiter
from services.gateway.settings import GatewaySettings
from services.gateway.sql import Backend
from services.gateway.store_service import StoreService
from services.runtime import bus
from tests.fixtures.waiting import eventually

ACME = TenantView(id="acme", display_name="", max_stores=100, created_at=datetime.now(UTC))
STEPS = ("namespace", "render", "apply", "database", "web", "ingress")
START = datetime(2026, 12, 5, 12, tzinfo=UTC)


@pytest.fixture
async def db(gateway_database: str) -> AsyncIterator[Backend]:
    pg = gateway_database.startswith("postgresql://")
    db: Backend = PgDatabase(gateway_database) if pg else Database(gateway_database)
    await db.open()
    async with db.transaction() as conn:
        await repo.add_tenant(conn, ACME)
    yield db
    await db.close()


async def _stores(db: Backend, count: int) -> list[str]:
    service = StoreService(
        GatewayDeps(
            GatewaySettings(base_domain="shops.test"), db, OutboxRelay(db), LocalRateLimiter(600)
        )
    )
    ids = [f"shop-{i:02d}" for i in range(count)]
    for store in ids:
        await service.create(ACME, CreateStoreRequest(id=store))
    return ids


def _history(store: str, last: Phase, generation: int = 1) -> list[StoreProgress | StoreStatus]:
    """A store's provisioning as the provisioner and the watcher report it,
    ending `last` (degraded after ready: folded out of order, it would be ready)."""
    at = iter(START + timedelta(seconds=s) for s in range(100))
    events: list[StoreProgress | StoreStatus] = [
        StoreProgress("acme", store, generation, "c1", step, state, next(at),
                      phase=Phase.PROVISIONING if step == STEPS[0] else None)
        for step in STEPS
        for state in (StepState.STARTED, StepState.SUCCEEDED)
    ]  # fmt: skip
    url = f"http://{store}.shops.test"
    events.append(StoreStatus("acme", store, Phase.READY, generation, next(at), url=url))
    if last is Phase.DEGRADED:
        events.append(
            StoreStatus(
                "acme", store, Phase.DEGRADED, generation, next(at), reason="WebDown", url=url
            )
        )
    return events


async def _publish_interleaved(
    js: JetStreamContext, histories: list[list[StoreProgress | StoreStatus]]
) -> None:
    """Round-robin over the stores, as a burst's events arrive."""
    for i in range(max(len(h) for h in histories)):
        for history in histories:
            if i < len(history):
                event = history[i]
                kind = EventKind.STATUS if isinstance(event, StoreStatus) else EventKind.PROGRESS
                await js.publish(event_subject("acme", event.store, kind), encode(event))


async def _timeline(db: Backend, store: str) -> list[str]:
    """The store's timeline as the API lists it: each entry's step/state or phase."""
    entries = await repo.list_events(db.reader, store, 0, 1000)
    return [
        f"{e.event['step']}:{e.event['state']}" if e.type == "progress" else e.event["phase"]
        for e in entries
    ]


def _expected(history: list[StoreProgress | StoreStatus]) -> list[str]:
    return [
        f"{e.step}:{e.state.value}" if isinstance(e, StoreProgress) else e.phase.value
        for e in history
    ]


async def _recorded(db: Backend) -> int:
    row = await db.reader.fetchone("SELECT count(*) FROM store_events WHERE stream_seq IS NOT NULL")
    assert row is not None
    return int(row[0])


async def _project_until(
    db: Backend, js: JetStreamContext, probe: Callable[[], Awaitable[bool]], what: str
) -> None:
    """Run the projector, as the gateway runs it, until `probe` holds."""
    stop = asyncio.Event()
    task = asyncio.create_task(projector.run_projector(db, js, stop))
    try:
        await eventually(probe, what=what)
    finally:
        stop.set()
        await asyncio.wait_for(task, 10)


async def _project(db: Backend, js: JetStreamContext, events: int) -> None:
    async def recorded() -> bool:
        return await _recorded(db) >= events

    await _project_until(db, js, recorded, f"{events} events recorded")


async def test_a_burst_of_stores_is_projected_each_in_order_with_its_whole_history(
    db: Backend, js: JetStreamContext
) -> None:
    ids = await _stores(db, 40)
    histories = [_history(s, Phase.DEGRADED if i % 2 else Phase.READY) for i, s in enumerate(ids)]
    await _publish_interleaved(js, histories)
    total = sum(len(h) for h in histories)
    assert total > 2 * projector.BATCH  # several batches, each store's events across them

    await _project(db, js, total)

    for store, history in zip(ids, histories, strict=True):
        view = await repo.get_store(db.reader, store)
        assert view is not None
        last = history[-1]
        assert isinstance(last, StoreStatus)
        assert (view.phase, view.url, view.reason) == (last.phase, last.url, last.reason), store
        assert view.updated_at == last.observed_at
        assert await _timeline(db, store) == _expected(history), store
    assert await _recorded(db) == total


async def test_a_batch_committed_but_not_acked_is_redelivered_and_changes_nothing(
    db: Backend, js: JetStreamContext
) -> None:
    ids = await _stores(db, 5)
    histories = [_history(s, Phase.READY) for s in ids]
    await _publish_interleaved(js, histories)
    total = sum(len(h) for h in histories)
    # A replica folds a batch and dies before its acks: the events come back.
    consumer = streams.GATEWAY_PROJECTOR
    await bus.ensure_consumer(js, consumer)
    sub = await js.pull_subscribe_bind(consumer.durable, stream=consumer.stream)
    first = await sub.fetch(total, timeout=5)
    async with db.transaction() as conn:
        batch = projector._Batch(conn)
        for msg in first[: total // 2]:
            await projector._fold_msg(batch, msg)
    for msg in first:
        await msg.nak()  # what the ack wait's expiry would do, without waiting 30 s
    await sub.unsubscribe()

    async def drained() -> bool:
        info = await js.consumer_info(consumer.stream, consumer.durable)
        return await _recorded(db) >= total and info.num_ack_pending == info.num_pending == 0

    await _project_until(db, js, drained, "every event projected and acknowledged")

    assert await _recorded(db) == total
    for store, history in zip(ids, histories, strict=True):
        assert await _timeline(db, store) == _expected(history), store
        view = await repo.get_store(db.reader, store)
        assert view is not None and view.phase is Phase.READY


async def test_a_bad_event_is_reported_and_retried_alone_and_its_batch_is_projected(
    db: Backend, js: JetStreamContext, caplog: pytest.LogCaptureFixture
) -> None:
    ids = await _stores(db, 10)
    histories = [_history(s, Phase.READY) for s in ids]
    poisoned = ids[3]
    # Decodes, but no database can store its generation (beyond 64-bit integers).
    bad = StoreProgress("acme", poisoned, 2**64 - 1, "c9", "apply", StepState.FAILED, START,
                        message="from a broken publisher", phase=Phase.FAILED)  # fmt: skip
    histories[3].insert(len(histories[3]) // 2, bad)
    await _publish_interleaved(js, histories)
    good = sum(len(h) for h in histories) - 1

    with caplog.at_level(logging.WARNING, logger=projector.__name__):
        await _project(db, js, good)
        await asyncio.sleep(0.5)

    assert await _recorded(db) == good
    for store, history in zip(ids, histories, strict=True):
        view = await repo.get_store(db.reader, store)
        assert view is not None and view.phase is Phase.READY, store  # the bad one did not fail it
        assert await _timeline(db, store) == _expected([e for e in history if e is not bad])
    reported = [r for r in caplog.records if r.getMessage() == "event not projected; will retry"]
    assert reported and poisoned in str(getattr(reported[0], "subject", ""))
    # Still unacknowledged: retried (alone) until someone fixes or drops it.
    info = await js.consumer_info(
        streams.GATEWAY_PROJECTOR.stream, streams.GATEWAY_PROJECTOR.durable
    )
    assert info.num_ack_pending + info.num_redelivered >= 1
