"""Status projector: a durable consumer on URUMI_EVENTS that updates store rows.

Every replica pulls from the same durable consumer, so each event reaches one
of them (again only if unacknowledged); the timeline's unique stream sequence
makes a redelivery a no-op, and an event older than one already folded for its
store is kept in the timeline but not folded.
"""

import asyncio
import logging

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
_KIND = {
    StoreStatus: "status",
    StoreProgress: "progress",
    KubeEvent: "kube",
    BackupStatus: "backup",
}


async def project(db: Backend, msg: Msg, wake: asyncio.Event | None = None) -> None:
    """Fold `msg` into its store's row; `wake` is set when that queued a command
    (an automatic rollback) for the outbox relay."""
    try:
        event = decode_bus_event(msg.data)
    except msgspec.DecodeError:
        log.warning("undecodable event dropped", extra={"subject": msg.subject})
        return
    if isinstance(event, FleetProgress | DomainStatus):
        return  # the gateway's own news (fleet_events, domain_events), not to fold
    if isinstance(event, StoreActivity):
        await _visited(db, event)
        return
    seq = msg.metadata.sequence.stream
    at = event.observed_at if isinstance(event, StoreStatus | BackupStatus) else event.at
    generation = event.generation if isinstance(event, StoreStatus | StoreProgress) else 0
    first_ready: StoreView | None = None
    rolled_back = False
    async with db.transaction() as conn:
        current = await repo.get_store(conn, event.store)
        if current is None or current.tenant != event.tenant:
            return
        fresh = await repo.add_event(
            conn,
            seq,
            event.store,
            generation or current.generation,
            _KIND[type(event)],
            at,
            msg.data,
        )
        if fresh:
            metrics.EVENTS_PROJECTED.labels(_KIND[type(event)]).inc()
        if not fresh or isinstance(event, KubeEvent):
            return
        if isinstance(event, BackupStatus):
            await record_report(conn, event)
            return
        if await repo.newer_event_folded(conn, event.store, seq):
            return
        base = repo.projected_from_view(current)
        merged = apply(base, event)
        said: StoreState | None = None
        if merged is not None:
            if merged.phase is Phase.FAILED:
                said = await _after_failure(conn, current, merged)
                rolled_back = said is None
            if not rolled_back:
                await repo.save_projection(conn, event.store, said or merged)
            if merged.phase is Phase.READY and await repo.mark_first_ready(conn, event.store, at):
                first_ready = current
    if rolled_back and wake is not None:
        wake.set()  # after the commit, so the relay finds the command
    # Observed after the commit: a transaction that fails is retried, and counts once.
    if first_ready is not None:
        metrics.STORE_READY_SECONDS.labels(
            first_ready.engine.value, first_ready.plan.value
        ).observe(max(0.0, (at - first_ready.created_at).total_seconds()))


async def _visited(db: Backend, event: StoreActivity) -> None:
    """The store's last visit, from the ingress controller's counters (not in its
    timeline: a visit is no step of the store's)."""
    async with db.transaction() as conn:
        store = await repo.get_store(conn, event.store)
        if store is not None and store.tenant == event.tenant:
            await repo.visited(conn, store, event.observed_at)


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
            messages = await sub.fetch(200, timeout=1)
        except (NatsTimeout, TimeoutError):
            continue
        except Exception as exc:
            log.warning("projector fetch failed; retrying", extra={"error": repr(exc)})
            await sleep_or_stop(stop, 1)
            continue
        for msg in messages:
            try:
                await project(db, msg, wake)
            except Exception as exc:
                log.warning("event not projected; will retry", extra={"error": repr(exc)})
                await msg.nak(delay=2)
                continue
            await msg.ack()
