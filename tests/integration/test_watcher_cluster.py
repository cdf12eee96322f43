"""`urumi watcher` as a process on the devcluster and a real nats-server.

Store objects are applied here, labelled as the provisioner labels them; kwok
makes pods Running/Ready and Jobs complete, the real controllers do the rest.
Failures are injected through the API's status subresources, as a kubelet or
the Job controller would report them.
"""

import asyncio
import time
from collections.abc import Sequence

from kubernetes_asyncio.client import ApiClient
from nats.js import JetStreamContext

from services.contracts.events import StoreStatus
from services.contracts.phases import Phase
from services.devtools.devcluster import DevCluster
from services.devtools.natsserver import NatsServer
from tests.fixtures.processes import StartService
from tests.fixtures.waiting import eventually
from tests.integration.watcher_support import StatusLog, Store, not_ready, ready_again, watcher_env

WEB_IMAGE = "wordpress:6.8-apache"


def cond(status: StoreStatus, type_: str) -> str:
    return next(c.status for c in status.conditions if c.type == type_)


async def test_provision_ready_degrade_recover_delete(
    nats_server: NatsServer,
    devcluster: DevCluster,
    kube: ApiClient,
    js: JetStreamContext,
    start_service: StartService,  # last: its processes stop before NATS does
) -> None:
    start_service("watcher", watcher_env(nats_server, devcluster))
    store = Store(kube)
    log = await StatusLog(js, store.id).start()

    await store.namespace()
    await log.wait(lambda s: s.phase in (Phase.PENDING, Phase.PROVISIONING))
    await store.database()
    await log.wait(lambda s: cond(s, "DatabaseReady") == "True", what="database ready")
    await store.web()
    await store.setup_job()
    await store.ingress()
    ready = await log.phase(Phase.READY)

    phases = log.phases()
    assert phases[0] in (Phase.PENDING, Phase.PROVISIONING), phases
    assert Phase.PROVISIONING in phases, phases
    assert set(phases) <= {Phase.PENDING, Phase.PROVISIONING, Phase.READY}, phases
    assert all(c.status == "True" and c.last_transition_time for c in ready.conditions)
    assert (ready.url, ready.generation, ready.tenant) == (f"http://{store.host}", 1, "acme")
    await eventually(lambda: _some(log.kube), what="Kubernetes Events forwarded")

    # The web tier goes away: degraded, with the kubelet's reason; then back.
    crash = {"reason": "CrashLoopBackOff", "message": "back-off 40s restarting failed container"}
    await store.patch_pod("web", not_ready("wordpress", WEB_IMAGE, crash, restartCount=3))
    degraded = await log.phase(Phase.DEGRADED)
    assert degraded.reason == "CrashLoopBackOff", degraded
    assert "container wordpress keeps crashing (3 restarts" in degraded.message
    assert cond(degraded, "WebReady") == "False"
    await store.patch_pod("web", ready_again("wordpress", WEB_IMAGE))
    await log.phase(Phase.READY)

    await store.delete()
    deleted = await log.phase(Phase.DELETED, within=120)
    assert deleted.generation == 1
    assert log.phases()[-2:] == [Phase.DELETING, Phase.DELETED]


async def _some(items: Sequence[object]) -> bool:
    return bool(items)


async def test_failures_say_why(
    nats_server: NatsServer,
    devcluster: DevCluster,
    kube: ApiClient,
    js: JetStreamContext,
    start_service: StartService,  # last: its processes stop before NATS does
) -> None:
    start_service("watcher", watcher_env(nats_server, devcluster))
    failed = await asyncio.gather(
        _setup_job_fails(kube, js),
        _image_cannot_be_pulled(kube, js),
        _database_crash_loops(kube, js),
        _web_unschedulable(kube, js),
        _past_deadline(kube, js),
    )
    assert [s.phase for s in failed] == [Phase.FAILED] * 5


async def _started(kube: ApiClient, js: JetStreamContext, **ns: float) -> tuple[Store, StatusLog]:
    store = Store(kube)
    log = await StatusLog(js, store.id).start()
    await store.namespace(**ns)  # type: ignore[arg-type]
    await store.database()
    return store, log


async def _setup_job_fails(kube: ApiClient, js: JetStreamContext) -> StoreStatus:
    store, log = await _started(kube, js)
    await store.web()
    await store.ingress()
    # A scheduling gate keeps the Job's pod from running (kwok would complete it).
    await store.setup_job(schedulingGates=[{"name": "urumi.dev/hold"}])
    await log.wait(lambda s: s.phase == Phase.PROVISIONING and s.reason == "Running")
    await store.fail_job("Job has reached the specified backoff limit")
    status = await log.phase(Phase.FAILED)
    assert status.reason == "JobFailed", status
    assert "setup job setup failed (BackoffLimitExceeded)" in status.message
    assert "reached the specified backoff limit" in status.message
    return status


async def _image_cannot_be_pulled(kube: ApiClient, js: JetStreamContext) -> StoreStatus:
    store, log = await _started(kube, js)
    await store.web()
    image = "wordpress:9.9-nope"
    waiting = {"reason": "ImagePullBackOff", "message": f'Back-off pulling image "{image}"'}
    pod = await store.patch_pod("web", not_ready("wordpress", image, waiting))
    status = await log.phase(Phase.FAILED)
    assert status.reason == "ImagePullBackOff", status
    assert f"pod {pod} container wordpress cannot pull image {image}" in status.message
    return status


async def _database_crash_loops(kube: ApiClient, js: JetStreamContext) -> StoreStatus:
    store, log = await _started(kube, js)
    last = {"terminated": {"exitCode": 1, "reason": "Error", "message": "InnoDB: corrupt"}}
    waiting = {"reason": "CrashLoopBackOff", "message": "back-off 2m40s"}
    status_patch = not_ready("mariadb", "mariadb:11.4", waiting, restartCount=5, lastState=last)
    await store.patch_pod("database", {"phase": "Running", **status_patch})
    status = await log.phase(Phase.FAILED)
    assert status.reason == "CrashLoopBackOff", status
    assert "container mariadb keeps crashing (5 restarts" in status.message
    assert "exit code 1 (Error): InnoDB: corrupt" in status.message
    return status


async def _web_unschedulable(kube: ApiClient, js: JetStreamContext) -> StoreStatus:
    store, log = await _started(kube, js)
    await store.web(nodeSelector={"urumi.dev/pool": "does-not-exist"})
    status = await log.phase(Phase.FAILED)
    assert status.reason == "Unschedulable", status
    assert "nodes are available" in status.message  # kube-scheduler's own words
    return status


async def _past_deadline(kube: ApiClient, js: JetStreamContext) -> StoreStatus:
    # Applied an hour ago; the default deadline is 15 minutes.
    _store, log = await _started(kube, js, applied_ago_s=3600)
    status = await log.phase(Phase.FAILED)
    assert status.reason == "DeadlineExceeded", status
    assert "not ready 15m0s after the apply started" in status.message
    return status


async def test_event_storm_is_rate_limited(
    nats_server: NatsServer,
    devcluster: DevCluster,
    kube: ApiClient,
    js: JetStreamContext,
    start_service: StartService,
) -> None:
    env = {**watcher_env(nats_server, devcluster), "URUMI_WATCHER_EVENTS_BURST": "10"}
    start_service("watcher", env)
    store = Store(kube)
    log = await StatusLog(js, store.id).start()
    await store.namespace()
    await log.wait(lambda s: s.phase == Phase.PENDING)
    started = time.monotonic()
    await asyncio.gather(*(store.event(f"storm-{i}") for i in range(100)))
    await store.event("last")

    async def the_burst() -> bool:
        return len(log.kube) >= 10

    await eventually(the_burst, within=30, what="the burst's 10 events")
    elapsed = time.monotonic() - started
    # burst 10 + 1/s: the rest were dropped, not queued.
    assert 10 <= len(log.kube) <= 10 + elapsed + 2, (len(log.kube), elapsed)
