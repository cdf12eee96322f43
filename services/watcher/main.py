"""`urumi watcher`: Kubernetes state → StoreStatus and KubeEvent on URUMI_EVENTS."""

import asyncio
import contextlib
import logging

import uvloop
from nats.aio.client import Client

from services.contracts.streams import WATCHER_LEASE
from services.runtime import bus
from services.runtime.health import Health
from services.runtime.http import health_app, serve
from services.runtime.kube import kube_client
from services.watcher.activity import ActivityReporter
from services.watcher.controller import Controller
from services.watcher.events import RateLimiter
from services.watcher.informer import Informer
from services.watcher.kinds import APPLIED_STATUS_KINDS, DRIFT_KINDS, KINDS
from services.watcher.lease import Lease
from services.watcher.publisher import Publisher
from services.watcher.resync import ResyncSchedule
from services.watcher.selfheal import SelfHeal, Tee
from services.watcher.settings import WatcherSettings
from services.watcher.status import Policy

log = logging.getLogger(__name__)


def build(settings: WatcherSettings, nc: Client, lease: Lease) -> Controller:
    policy = Policy(
        settings.provision_deadline_s, settings.watcher_pod_grace_s, settings.store_port
    )
    limiter = RateLimiter(settings.watcher_events_per_s, settings.watcher_events_burst)
    return Controller(
        Publisher(nc.jetstream()), lease, policy, limiter, resync_s=settings.watcher_resync_s
    )


async def main(settings: WatcherSettings, stop: asyncio.Event) -> None:
    nc = await bus.connect(settings.nats_url, "watcher", stop)
    js = nc.jetstream()
    if not await bus.prepare_streams(js, settings, stop):
        await nc.close()
        return
    lease = Lease(
        await bus.ensure_bucket(js, WATCHER_LEASE, settings.jetstream_replicas), WATCHER_LEASE.ttl_s
    )
    api = await kube_client(settings.kubeconfig)
    controller = build(settings, nc, lease)
    heal = SelfHeal(
        js,
        controller.cache,
        lease,
        ResyncSchedule(settings.selfheal_resync_s, settings.selfheal_resync_per_s),
    )
    both = Tee(controller, heal)
    informers = [
        Informer(
            api,
            spec,
            both if spec.kind in APPLIED_STATUS_KINDS else controller,
            watch_timeout_s=settings.watcher_watch_timeout_s,
        )
        for spec in KINDS
    ] + [
        Informer(api, spec, heal, watch_timeout_s=settings.watcher_watch_timeout_s)
        for spec in DRIFT_KINDS
    ]

    def all_synced() -> bool:
        return all(i.synced.is_set() for i in informers)

    health = Health()
    health.add("nats", lambda: nc.is_connected)
    health.add("lease", lease.healthy)  # active or standby, both ready
    tasks = [asyncio.create_task(i.run(stop), name=f"informer-{i.spec.kind}") for i in informers]
    tasks += [
        asyncio.create_task(lease.run(stop), name="lease"),
        asyncio.create_task(controller.run(all_synced, stop), name="controller"),
        asyncio.create_task(heal.run(all_synced, stop), name="self-heal"),
        asyncio.create_task(controller.forward_kube_events(stop), name="kube-events"),
    ]
    if settings.ingress_metrics_url:
        visits = ActivityReporter(
            js,
            controller.cache,
            lease,
            settings.ingress_metrics_url,
            settings.ingress_controller,
            settings.activity_report_s,
        )
        tasks.append(asyncio.create_task(visits.run(all_synced, stop), name="activity"))
    server = asyncio.create_task(
        serve(health_app(health), settings.http_host, settings.http_port, stop)
    )
    log.info("watcher started", extra={"holder": lease.holder})
    try:
        await _until_stopped(stop, tasks)
    finally:
        stop.set()  # the loops check it: a cancel alone can be swallowed (see Lease.run)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await lease.release()  # a standby takes over now, not after the TTL
        await server
        await api.close()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(nc.drain(), timeout=5)  # NATS may be gone already


# uvloop: the watcher's own work is mostly the event loop's — reading and
# decrypting watch streams, callbacks, the NATS socket's writes — which uvloop
# does in C (see docs/benchmarks.md, "Issue 18: the watcher's CPU per store").
loop_factory = uvloop.new_event_loop


async def _until_stopped(stop: asyncio.Event, tasks: list[asyncio.Task[None]]) -> None:
    """Return on `stop`; a loop that ends on its own is a bug: raise it."""
    stopper = asyncio.create_task(stop.wait())
    done, _ = await asyncio.wait({stopper, *tasks}, return_when=asyncio.FIRST_COMPLETED)
    stopper.cancel()
    for task in done:
        if task is not stopper:
            task.result()
            raise RuntimeError(f"{task.get_name()} stopped unexpectedly")
