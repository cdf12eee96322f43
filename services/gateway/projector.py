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
from services.contracts.events import KubeEvent, StoreProgress, StoreStatus
from services.contracts.phases import Phase
from services.contracts.wire import decode_event
from services.gateway import metrics
from services.gateway import repository as repo
from services.gateway.models import StoreView
from services.gateway.projection import apply
from services.gateway.sql import Backend
from services.runtime import bus
from services.runtime.shutdown import sleep_or_stop

log = logging.getLogger(__name__)

KEEP_EVENTS_PER_STORE = 1000
_KIND = {StoreStatus: "status", StoreProgress: "progress", KubeEvent: "kube"}


async def project(db: Backend, msg: Msg) -> None:
    try:
        event = decode_event(msg.data)
    except msgspec.DecodeError:
        log.warning("undecodable event dropped", extra={"subject": msg.subject})
        return
    seq = msg.metadata.sequence.stream
    at = event.observed_at if isinstance(event, StoreStatus) else event.at
    generation = 0 if isinstance(event, KubeEvent) else event.generation
    first_ready: StoreView | None = None
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
        if await repo.newer_event_folded(conn, event.store, seq):
            return
        base = repo.projected_from_view(current)
        merged = apply(base, event)
        if merged is not None:
            await repo.save_projection(conn, event.store, merged)
            if merged.phase is Phase.READY and await repo.mark_first_ready(conn, event.store, at):
                first_ready = current
    # Observed after the commit: a transaction that fails is retried, and counts once.
    if first_ready is not None:
        metrics.STORE_READY_SECONDS.labels(
            first_ready.engine.value, first_ready.plan.value
        ).observe(max(0.0, (at - first_ready.created_at).total_seconds()))


async def run_projector(db: Backend, js: JetStreamContext, stop: asyncio.Event) -> None:
    consumer = streams.GATEWAY_PROJECTOR
    await bus.ensure_consumer(js, consumer)
    sub = await js.pull_subscribe_bind(consumer.durable, stream=consumer.stream)
    try:
        await _consume(db, sub, stop)
    finally:
        await sub.unsubscribe()


async def _consume(
    db: Backend, sub: JetStreamContext.PullSubscription, stop: asyncio.Event
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
                await project(db, msg)
            except Exception as exc:
                log.warning("event not projected; will retry", extra={"error": repr(exc)})
                await msg.nak(delay=2)
                continue
            await msg.ack()
