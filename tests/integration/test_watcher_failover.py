"""Watcher restarts and failover: no final status is lost, one watcher is active."""

import asyncio
import time

import httpx
from kubernetes_asyncio.client import ApiClient
from kubernetes_asyncio.client.exceptions import ApiException
from nats.js import JetStreamContext

from services.contracts.phases import Phase
from services.contracts.streams import WATCHER_LEASE
from services.devtools.devcluster import DevCluster
from services.devtools.natsserver import NatsServer
from services.devtools.procs import ServiceProcess
from services.watcher.lease import KEY
from tests.fixtures.processes import StartService
from tests.fixtures.waiting import eventually
from tests.integration.watcher_support import StatusLog, Store, watcher_env

FAILOVER_BUDGET_S = 15.0


async def test_killed_mid_provision_final_status_still_arrives(
    nats_server: NatsServer,
    devcluster: DevCluster,
    kube: ApiClient,
    js: JetStreamContext,
    start_service: StartService,
) -> None:
    env = watcher_env(nats_server, devcluster)
    first = start_service("watcher", env)
    building, leaving = Store(kube), Store(kube)
    log_building = await StatusLog(js, building.id).start()
    log_leaving = await StatusLog(js, leaving.id).start()
    await building.namespace()
    await building.database()
    await log_building.wait(lambda s: s.phase == Phase.PROVISIONING)
    await leaving.everything()
    await log_leaving.phase(Phase.READY)

    first.kill()  # SIGKILL: its lease stays in the bucket until the TTL runs out
    # While no watcher runs: one store finishes, the other is deleted outright.
    await building.web()
    await building.setup_job()
    await building.ingress()
    await leaving.delete()
    await eventually(lambda: _namespace_gone(leaving), within=120, what="namespace deleted")
    assert log_building.statuses[-1].phase == Phase.PROVISIONING

    start_service("watcher", env)
    within = WATCHER_LEASE.ttl_s + 30
    ready = await log_building.phase(Phase.READY, within=within)
    assert all(c.status == "True" for c in ready.conditions)
    deleted = await log_leaving.phase(Phase.DELETED, within=within)
    assert deleted.generation == 1


async def _namespace_gone(store: Store) -> bool:
    try:
        await store.core.read_namespace(store.ns)
    except ApiException as exc:
        return exc.status == 404
    return False


async def _holder(js: JetStreamContext) -> str:
    kv = await js.key_value(WATCHER_LEASE.name)
    try:
        return ((await kv.get(KEY)).value or b"").decode()
    except Exception:  # no holder right now (expired or deleted)
        return ""


def _owns(proc: ServiceProcess, holder: str) -> bool:
    assert proc.proc is not None
    return f"-{proc.proc.pid}-" in holder


def _active_gauge(proc: ServiceProcess) -> float:
    text = httpx.get(f"{proc.base_url}/metrics", timeout=5).text
    line = next(x for x in text.splitlines() if x.startswith("urumi_watcher_active "))
    return float(line.split()[1])


async def test_two_watchers_one_active_failover_within_15s(
    nats_server: NatsServer,
    devcluster: DevCluster,
    kube: ApiClient,
    js: JetStreamContext,
    start_service: StartService,
) -> None:
    env = watcher_env(nats_server, devcluster)
    one, two = start_service("watcher", env), start_service("watcher", env)
    holder = await eventually(lambda: _holder(js), what="a lease holder")
    active, standby = (one, two) if _owns(one, holder) else (two, one)
    assert _owns(active, holder)
    for _ in range(10):  # exactly one active, both ready, for a while
        assert (_active_gauge(active), _active_gauge(standby)) == (1.0, 0.0)
        await asyncio.sleep(0.2)

    store = Store(kube)
    log = await StatusLog(js, store.id).start()
    await store.namespace()
    await log.wait(lambda s: s.phase in (Phase.PENDING, Phase.PROVISIONING))

    active.kill()
    killed_at = time.monotonic()

    async def standby_holds() -> bool:
        return _owns(standby, await _holder(js)) and _active_gauge(standby) == 1.0

    await eventually(standby_holds, within=FAILOVER_BUDGET_S + 5, what="standby takes over")
    took = time.monotonic() - killed_at
    assert took < FAILOVER_BUDGET_S, f"failover took {took:.1f}s"

    # The new active one carries the store on to ready.
    await store.database()
    await store.web()
    await store.setup_job()
    await store.ingress()
    await log.phase(Phase.READY)
