"""Status projector: a durable consumer on URUMI_EVENTS that updates store rows.

Every replica pulls from the same durable consumer, so each event reaches one
of them (again only if unacknowledged); the timeline's unique stream sequence
makes a redelivery a no-op, and an event older than one already folded for its
store is kept in the timeline but not folded.

A fetch's events are folded in ONE transaction, in the order they came, and
acknowledged once it has committed: a crash before the acks redelivers them, and
the stream sequence makes that a no-op. A store is read once per batch and its
row is kept as this transaction left it, so its next event in the batch folds
onto what the previous one saved. When the batch's transaction fails, its
events are folded again one transaction each, as they were before batching: a
bad event is nak'd (retried later) and every other one is projected.
"""

import asyncio
import logging
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from typing import Final

import msgspec
from nats.aio.msg import Msg
from nats.errors import TimeoutError as NatsTimeout
from nats.js import JetStreamContext

from services.contracts import streams
from services.contracts.backups import BackupStatus
from services.contracts.domains import DomainStatus
from services.contracts.events import (
    KubeEvent,
    StepState,
    StoreActivity,
    StoreProgress,
    StoreStatus,
)
from services.contracts.fleet import FleetProgress
from services.contracts.phases import Phase
from services.contracts.store_state import StoreState
from services.contracts.wire import decode_bus_event
from services.gateway import fleet_events, metrics, rollback, spec_changes
from services.gateway import repository as repo
from services.gateway.backup_service import record_report
from services.gateway.models import StoreView
from services.gateway.projection import apply
from services.gateway.sql import Backend, Conn
from services.runtime import bus
from services.runtime.shutdown import sleep_or_stop

log = logging.getLogger(__name__)

KEEP_EVENTS_PER_STORE = 1000
# Events one fetch brings, and one transaction folds (a burst of 100 stores
# publishes ≈ 2,500; a batch of them costs one commit instead of one each).
BATCH: Final = 200
# After a fetch that did not fill a batch, wait this long before the next one.
# A burst's events arrive a few milliseconds apart, and a fetch returns as soon
# as it has one, so without a pause nearly every event was fetched, folded and
# committed alone: a pull request, a status reply, a transaction and the store's
# row read per event, ≈ 0.8 ms of CPU each (≈ 0.3 ms with this pause; a 100-store
# burst publishes ≈ 60 events per store). A store row (GET) then lags the bus by
# at most this; live views (the notifier) read the bus, not the row.
LINGER_S: Final = 0.1
_KIND = {
    StoreStatus: "status",
    StoreProgress: "progress",
    KubeEvent: "kube",
    BackupStatus: "backup",
}

Folded = StoreStatus | StoreProgress | KubeEvent | BackupStatus


@dataclass
class _Done:
    """What a transaction did that is acted on only once it has committed."""

    projected: Counter[str] = field(default_factory=Counter)  # kind → events recorded anew
    first_ready: list[tuple[StoreView, datetime]] = field(default_factory=list)
    rolled_back: bool = False  # an automatic rollback's command is in the outbox


class _Batch:
    """One transaction's view of the stores its events touch: each row as this
    transaction left it (read once), and each store's newest status, progress or
    backup stream sequence recorded (what `newer folded` compares with)."""

    def __init__(self, conn: Conn) -> None:
        self.conn = conn
        self.done = _Done()
        self._stores: dict[str, StoreView | None] = {}
        self._newest: dict[str, int] = {}

    async def store(self, store_id: str) -> StoreView | None:
        if store_id not in self._stores:
            self._stores[store_id] = await repo.get_store(self.conn, store_id)
        return self._stores[store_id]

    def saved(self, view: StoreView) -> None:
        self._stores[view.id] = view

    def forget(self, store_id: str) -> None:
        """Its row changed in ways only a read shows (a rollback's new generation)."""
        self._stores.pop(store_id, None)

    async def newest(self, store_id: str) -> int:
        if store_id not in self._newest:
            self._newest[store_id] = await repo.newest_event_seq(self.conn, store_id)
        return self._newest[store_id]

    def recorded(self, store_id: str, seq: int) -> None:
        self._newest[store_id] = max(self._newest.get(store_id, 0), seq)


async def project(db: Backend, msgs: list[Msg], wake: asyncio.Event | None = None) -> None:
    """Fold `msgs` into their stores' rows in one transaction and ack them after
    its commit; if that transaction fails, fold each in its own, nak'ing (to
    retry) those that fail alone. `wake` is set when a fold queued a command (an
    automatic rollback) for the outbox relay."""
    try:
        done = await _fold_all(db, msgs)
    except Exception as exc:
        if len(msgs) == 1:
            log.warning(
                "event not projected; will retry",
                extra={"subject": msgs[0].subject, "error": repr(exc)},
            )
            await msgs[0].nak(delay=2)
            return
        log.warning(
            "batch not projected; projecting its events one by one",
            extra={"events": len(msgs), "error": repr(exc)},
        )
        for msg in msgs:
            await project(db, [msg], wake)
        return
    _after_commit(done, wake)
    for msg in msgs:
        await msg.ack()


async def _fold_all(db: Backend, msgs: list[Msg]) -> _Done:
    async with db.transaction() as conn:
        batch = _Batch(conn)
        for msg in msgs:
            await _fold_msg(batch, msg)
    return batch.done


def _after_commit(done: _Done, wake: asyncio.Event | None) -> None:
    # Observed after the commit: a transaction that fails is retried, and counts once.
    for kind, count in done.projected.items():
        metrics.EVENTS_PROJECTED.labels(kind).inc(count)
    for store, at in done.first_ready:
        metrics.STORE_READY_SECONDS.labels(store.engine.value, store.plan.value).observe(
            max(0.0, (at - store.created_at).total_seconds())
        )
    if done.rolled_back and wake is not None:
        wake.set()  # after the commit, so the relay finds the command


async def _fold_msg(batch: _Batch, msg: Msg) -> None:
    try:
        event = decode_bus_event(msg.data)
    except msgspec.DecodeError:
        log.warning("undecodable event dropped", extra={"subject": msg.subject})
        return
    if isinstance(event, FleetProgress | DomainStatus):
        return  # the gateway's own news (fleet_events, domain_events), not to fold
    if isinstance(event, StoreActivity):
        await _visited(batch, event)
        return
    await _fold(batch, msg.metadata.sequence.stream, event, msg.data)


async def _fold(batch: _Batch, seq: int, event: Folded, data: bytes) -> None:
    current = await batch.store(event.store)
    if current is None or current.tenant != event.tenant:
        return
    kind = _KIND[type(event)]
    at = event.observed_at if isinstance(event, StoreStatus | BackupStatus) else event.at
    generation = event.generation if isinstance(event, StoreStatus | StoreProgress) else 0
    newest = 0 if isinstance(event, KubeEvent) else await batch.newest(event.store)
    conn = batch.conn
    if not await repo.add_event(
        conn, seq, event.store, generation or current.generation, kind, at, data
    ):
        return  # a redelivery: recorded (and folded) before
    batch.done.projected[kind] += 1
    if isinstance(event, KubeEvent):
        return
    batch.recorded(event.store, seq)
    if isinstance(event, BackupStatus):
        await record_report(conn, event)
        return
    if newest > seq:
        return  # a later status or progress of this store was folded already
    await _merge(batch, current, event, at)


async def _merge(
    batch: _Batch, current: StoreView, event: StoreStatus | StoreProgress, at: datetime
) -> None:
    merged = apply(repo.projected_from_view(current), event)
    if merged is None:
        return
    conn = batch.conn
    said: StoreState | None = merged
    if merged.phase is Phase.FAILED:
        said = await _after_failure(conn, current, merged)
    if said is None:
        batch.done.rolled_back = True
        batch.forget(current.id)
    else:
        # The time written is the time kept, so this batch's next event of the
        # store folds onto exactly the row a read would return.
        said = msgspec.structs.replace(said, updated_at=said.updated_at or repo.now())
        await repo.save_projection(conn, current.id, said)
        batch.saved(repo.with_projection(current, said))
    if merged.phase is Phase.READY and await repo.mark_first_ready(conn, current.id, at):
        batch.done.first_ready.append((current, at))


async def _visited(batch: _Batch, event: StoreActivity) -> None:
    """The store's last visit, from the ingress controller's counters (not in its
    timeline: a visit is no step of the store's)."""
    store = await batch.store(event.store)
    if store is None or store.tenant != event.tenant:
        return
    if await repo.visited(batch.conn, store, event.observed_at):
        batch.saved(msgspec.structs.replace(store, last_visit_at=event.observed_at))


async def _after_failure(conn: Conn, store: StoreView, merged: StoreState) -> StoreState | None:
    """Act on `rollback.decide` for a store `merged` says failed: None when it was
    rolled back (its row is then at the next generation, past `merged`), else the
    projection to save (a failed automatic rollback saying so)."""
    decision = rollback.decide(store, merged, await repo.spec_history(conn, store.id))
    if isinstance(decision, rollback.RollbackFailed):
        await spec_changes.timeline(conn, store, StepState.FAILED, decision.message)
        return msgspec.structs.replace(merged, message=decision.message)
    if decision is None:
        return merged
    failed = msgspec.structs.replace(
        store, phase=merged.phase, reason=merged.reason, message=merged.message
    )
    back = rollback.rolled_back(failed, decision.target, decision.message)
    cause = rollback.SpecCause.AUTO_ROLLBACK
    await spec_changes.changed(conn, failed, back, rollback.AUTO_ROLLBACK_ACTOR, cause)
    await fleet_events.upgrade_failed(conn, store.id, store.generation, decision.message)
    log.warning("failed upgrade rolled back", extra={"store": store.id, "why": decision.message})
    return None


async def run_projector(
    db: Backend, js: JetStreamContext, stop: asyncio.Event, wake: asyncio.Event | None = None
) -> None:
    consumer = streams.GATEWAY_PROJECTOR
    await bus.ensure_consumer(js, consumer)
    sub = await js.pull_subscribe_bind(consumer.durable, stream=consumer.stream)
    try:
        await _consume(db, sub, stop, wake)
    finally:
        await sub.unsubscribe()


async def _consume(
    db: Backend,
    sub: JetStreamContext.PullSubscription,
    stop: asyncio.Event,
    wake: asyncio.Event | None,
) -> None:
    while not stop.is_set():
        try:
            messages = await sub.fetch(BATCH, timeout=1)
        except (NatsTimeout, TimeoutError):
            continue
        except Exception as exc:
            log.warning("projector fetch failed; retrying", extra={"error": repr(exc)})
            await sleep_or_stop(stop, 1)
            continue
        await project(db, messages, wake)
        if len(messages) < BATCH:
            await sleep_or_stop(stop, LINGER_S)
