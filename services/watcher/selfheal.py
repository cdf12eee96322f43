"""Self-healing, the watcher's half: drift seen by the informers, and a slow
periodic resync, become ReconcileStore commands on the bus.

The watcher only asks: the provisioner re-applies under the store's lock and
reports what it restored. Only the lease holder asks, for a store whose
namespace is live (a store being deleted or gone is never re-applied).
"""

import asyncio
import logging
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, Final

from nats.js import JetStreamContext

from services.contracts import wire
from services.contracts.commands import RESYNC, ReconcileStore
from services.contracts.streams import COMMANDS
from services.contracts.subjects import reconcile_subject
from services.watcher.cache import StoreCache
from services.watcher.drift import Drift, DriftTracker
from services.watcher.informer import Sink
from services.watcher.lease import Lease
from services.watcher.resync import ResyncSchedule
from services.watcher.wake import wake_or_timeout

log = logging.getLogger(__name__)

PUBLISH_TIMEOUT_S: Final = 5.0


class Tee:
    """One informer feeding several sinks (the status cache and drift)."""

    def __init__(self, *sinks: Sink) -> None:
        self.sinks = sinks

    def synced(self, kind: str, items: list[dict[str, Any]]) -> None:
        for sink in self.sinks:
            sink.synced(kind, items)

    def event(self, kind: str, event_type: str, obj: dict[str, Any]) -> None:
        for sink in self.sinks:
            sink.event(kind, event_type, obj)


class SelfHeal:
    def __init__(
        self,
        js: JetStreamContext,
        cache: StoreCache,
        lease: Lease,
        schedule: ResyncSchedule,
        *,
        debounce_s: float = 0.5,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.js = js
        self.cache = cache
        self.lease = lease
        self.schedule = schedule
        self.debounce_s = debounce_s
        self.clock = clock
        self.tracker = DriftTracker()
        self._pending: dict[str, list[str]] = {}  # namespace → what drifted
        self._wake = asyncio.Event()

    # -- informer sink (synchronous) --------------------------------------------------

    def synced(self, kind: str, items: list[dict[str, Any]]) -> None:
        for drift in self.tracker.relist(kind, items):
            self._note(drift)

    def event(self, kind: str, event_type: str, obj: dict[str, Any]) -> None:
        drift = self.tracker.observe(kind, event_type, obj)
        if drift is not None:
            self._note(drift)

    def _note(self, drift: Drift) -> None:
        log.info("drift", extra={"namespace": drift.namespace, "drift": drift.describe()})
        self._pending.setdefault(drift.namespace, []).append(drift.describe())
        self._wake.set()

    # -- the loop ---------------------------------------------------------------------

    async def run(self, synced: Callable[[], bool], stop: asyncio.Event) -> None:
        while not stop.is_set():
            await wake_or_timeout(self._wake, 1.0)
            self._wake.clear()
            if not synced() or not self.lease.active():
                self._pending.clear()  # the active watcher asks; a standby only tracks
                continue
            if self._pending:
                # One command per store for a burst (several objects changed together).
                await asyncio.sleep(self.debounce_s)
            pending, self._pending = self._pending, {}
            for namespace, drifts in sorted(pending.items()):
                await self._ask(namespace, "; ".join(drifts))
            for namespace in self.schedule.due(self.cache.stores(), self.clock()):
                await self._ask(namespace, RESYNC)

    async def _ask(self, namespace: str, reason: str) -> None:
        ns = self.cache.namespace(namespace)
        if ns is None or ns.terminating or ns.generation <= 0:
            return
        cmd = ReconcileStore(
            command_id=str(uuid.uuid4()),
            generation=ns.generation,
            issued_at=datetime.now(UTC),
            actor="watcher",
            tenant=ns.tenant,
            store=ns.store,
            reason=reason[:500],
        )
        try:
            await self.js.publish(
                reconcile_subject(ns.tenant, ns.store),
                wire.encode(cmd),
                stream=COMMANDS.name,
                timeout=PUBLISH_TIMEOUT_S,
                headers={"Nats-Msg-Id": cmd.command_id},
            )
        except Exception as exc:  # NATS away: the resync asks again later
            log.warning("reconcile not asked", extra={"store": ns.store, "error": str(exc)})
            return
        log.info("reconcile asked", extra={"store": ns.store, "reason": cmd.reason})
