"""Glue: informer events → cache → state machine → publisher, while holding the lease.

The informers only touch the cache and mark stores dirty (synchronous, cheap);
one loop evaluates and publishes, so a store's statuses go out in order. Every
store is also re-evaluated each `resync_s`, because time alone moves some
rules (grace periods, the provisioning deadline).
"""

import asyncio
import logging
import time
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import Any

from services.contracts.events import KubeEvent, StoreStatus
from services.contracts.ids import namespace_for
from services.contracts.phases import Phase
from services.runtime.shutdown import sleep_or_stop
from services.watcher import metrics
from services.watcher.backups import backup_reports
from services.watcher.cache import StoreCache
from services.watcher.events import RateLimiter, dedupe_id, to_kube_event
from services.watcher.history import last_statuses
from services.watcher.kinds import EVENT
from services.watcher.lease import Lease
from services.watcher.observed import NamespaceObs, StoreObjects
from services.watcher.publisher import Publisher
from services.watcher.status import Policy, evaluate
from services.watcher.wake import wake_or_timeout

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]
# Publishes in flight at once. One at a time, each JetStream publish is a socket
# write and a wait for its ack (≈ 0.15 to 0.2 ms of CPU); in flight together, the
# client writes them in one go and the acks come back together (≈ 0.05 ms each).
# Order within a store is kept: a store has one status in each round, and the
# client sends in the order called.
BATCH = 64
# Kubernetes Events trickle in one by one; waiting this long after the first one
# lets those of the moment (a burst of stores, a pod's Scheduled, Pulled,
# Created, Started) go out together. Invisible next to an Event's own delay (the
# recording component aggregates and batches them); statuses never wait.
KUBE_LINGER_S = 0.1


def utc_now() -> datetime:
    return datetime.now(UTC)


class Controller:
    def __init__(
        self,
        publisher: Publisher,
        lease: Lease,
        policy: Policy,
        limiter: RateLimiter,
        *,
        resync_s: float = 5.0,
        clock: Clock = utc_now,
    ) -> None:
        self.cache = StoreCache()
        self.publisher = publisher
        self.lease = lease
        self.policy = policy
        self.limiter = limiter
        self.resync_s = resync_s
        self.clock = clock
        self._dirty: set[str] = set()
        self._force: set[str] = set()  # announce whatever they show (after taking over)
        self._wake = asyncio.Event()
        self._kube: asyncio.Queue[tuple[KubeEvent, str]] = asyncio.Queue(maxsize=1024)
        self._term = 0  # the lease term whose take-over has been done

    # -- informer sink (synchronous) --------------------------------------------------

    def synced(self, kind: str, items: list[dict[str, Any]]) -> None:
        if kind == EVENT:
            return  # a list holds history; only new events go to the live log
        self._mark(self.cache.replace(kind, items))

    def event(self, kind: str, event_type: str, obj: dict[str, Any]) -> None:
        if kind == EVENT:
            self._kube_event(event_type, obj)
        else:
            self._mark(self.cache.record_watch_event(kind, event_type, obj))

    def _mark(self, namespaces: Iterable[str]) -> None:
        self._dirty.update(namespaces)
        self._wake.set()

    def _kube_event(self, event_type: str, raw: dict[str, Any]) -> None:
        ns = self.cache.namespace((raw.get("metadata") or {}).get("namespace", ""))
        if event_type == "DELETED" or ns is None or not self.lease.active():
            return
        if not self.limiter.allow(ns.name, time.monotonic()):
            metrics.KUBE_EVENTS.labels("rate_limited").inc()
            return
        try:
            self._kube.put_nowait((to_kube_event(raw, ns, self.clock()), dedupe_id(raw)))
        except asyncio.QueueFull:
            metrics.KUBE_EVENTS.labels("queue_full").inc()

    # -- loops ------------------------------------------------------------------------

    async def run(self, synced: Callable[[], bool], stop: asyncio.Event) -> None:
        """Evaluate and publish until `stop`; idle until every informer has listed."""
        last_full = 0.0
        while not stop.is_set():
            await wake_or_timeout(self._wake, 1.0)
            self._wake.clear()
            if not synced():
                continue
            if not self.lease.active():
                self._term = 0
                continue
            if self._term != self.lease.term:
                await self._take_over(stop)
                continue
            names, self._dirty = self._dirty | self._force, set()
            if time.monotonic() - last_full >= self.resync_s:
                names, last_full = set(self.cache.stores()), time.monotonic()
            await self.reconcile(names, stop)

    async def _take_over(self, stop: asyncio.Event) -> None:
        """On becoming active: continue from the stream, then announce every store."""
        try:
            history = await last_statuses(self.publisher.js)
        except Exception as exc:
            log.warning("cannot read previous statuses, retrying", extra={"error": str(exc)})
            await sleep_or_stop(stop, 1.0)
            return
        self.publisher.prime(sorted(history, key=lambda s: s.observed_at))
        for status in self.publisher.known().values():
            self._remember_vanished(status)
        self._force = set(self.cache.stores())
        self._term = self.lease.term
        log.info("announcing every store", extra={"stores": len(self._force)})
        await self.reconcile(set(self._force), stop)

    def _remember_vanished(self, status: StoreStatus) -> None:
        """A store with a live status but no namespace was deleted while no watcher ran."""
        name = namespace_for(status.store)
        if status.phase != Phase.DELETED and self.cache.namespace(name) is None:
            ns = NamespaceObs(name, status.tenant, status.store, generation=status.generation)
            self.cache.mark_gone(ns)

    async def reconcile(self, names: Iterable[str], stop: asyncio.Event) -> None:
        now = self.clock()
        pending = []
        for name in sorted(names):
            objs = self.cache.snapshot(name)
            if objs is None:
                self._force.discard(name)
                continue
            status = evaluate(objs, self.publisher.previous(name), now, self.policy)
            pending.append((name, objs, status))
        for start in range(0, len(pending), BATCH):
            batch = pending[start : start + BATCH]
            results = await asyncio.gather(
                *(self._publish(name, objs, status, now) for name, objs, status in batch),
                return_exceptions=True,
            )
            failed = []
            for (name, objs, _), result in zip(batch, results, strict=True):
                if isinstance(result, BaseException):  # NATS away: again next round
                    failed.append(name)
                    log.warning(
                        "publish failed",
                        extra={"store": objs.namespace.store, "error": str(result)},
                    )
            if failed:
                self._mark(failed + [name for name, _, _ in pending[start + BATCH :]])
                await sleep_or_stop(stop, 1.0)
                break
        metrics.STORES.set(len(self.cache.stores()))

    async def _publish(
        self, name: str, objs: StoreObjects, status: StoreStatus, now: datetime
    ) -> None:
        """One store's status and backup reports, in that order."""
        await self.publisher.status(name, status, force=name in self._force)
        await self.publisher.backups(backup_reports(objs, now))
        self._force.discard(name)
        if status.phase == Phase.DELETED:
            self.cache.forget(name)
            self.limiter.forget(name)

    async def forward_kube_events(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            batch = [await self._kube.get()]
            if self._kube.qsize() < BATCH - 1:
                await asyncio.sleep(KUBE_LINGER_S)
            while len(batch) < BATCH and not self._kube.empty():
                batch.append(self._kube.get_nowait())
            if not self.lease.active():
                continue
            results = await asyncio.gather(
                *(self.publisher.kube_event(event, msg_id) for event, msg_id in batch),
                return_exceptions=True,
            )
            errors = [r for r in results if isinstance(r, BaseException)]
            metrics.KUBE_EVENTS.labels("published").inc(len(results) - len(errors))
            if errors:
                metrics.KUBE_EVENTS.labels("publish_failed").inc(len(errors))
                log.warning(
                    "kube events not published",
                    extra={"events": len(errors), "error": str(errors[0])},
                )
