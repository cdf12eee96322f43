"""The provisioner as real processes: SIGKILL mid-apply, 20 stores under a
concurrency bound, two replicas racing generations, the API server away."""

import asyncio
from pathlib import Path

from kubernetes_asyncio.client import ApiClient
from nats.js import JetStreamContext

from services.contracts import labels
from services.contracts.events import StepState, StoreProgress
from services.devtools.devcluster import DevCluster
from services.devtools.natsserver import NatsServer
from tests.fixtures.processes import StartService
from tests.fixtures.tcpproxy import TcpProxy, proxied_kubeconfig
from tests.fixtures.waiting import eventually
from tests.integration import provisioner_support as ps
from tests.integration.provisioner_support import ProgressLog


def done(progress: ProgressLog, store: str, generation: int | None = None) -> bool:
    return progress.has(store, "provision", StepState.SUCCEEDED, generation)


async def test_sigkill_mid_apply_then_restart_converges(
    nats_server: NatsServer,
    devcluster: DevCluster,
    js: JetStreamContext,
    kube: ApiClient,
    progress: ProgressLog,
    start_service: StartService,
    stores: list[str],
) -> None:
    env = ps.env(ps.settings(nats_server.url, devcluster.kubeconfig))
    first = start_service("provisioner", env)
    store = ps.store_id()
    stores.append(store)
    killed_mid_apply: list[bool] = []

    def kill_on_first_apply(event: StoreProgress) -> None:
        if event.store == store and event.step == "apply" and not killed_mid_apply:
            first.kill()  # synchronous SIGKILL, right inside the apply loop
            killed_mid_apply.append(not done(progress, store))

    progress.callbacks.append(kill_on_first_apply)
    cmd = ps.create(store)
    await ps.publish(js, cmd)
    await eventually(lambda: bool(killed_mid_apply), within=60, what="kill mid-apply")
    assert killed_mid_apply == [True]
    secret_before = await ps.secret_data(kube, store)  # made before the first apply step

    start_service("provisioner", env)
    # The same command again too: a duplicate delivery must change nothing either.
    await ps.publish(js, cmd, msg_id=f"{cmd.command_id}-dup")
    # Redelivery waits out the consumer's ack wait (60 s) and the dead lock's TTL.
    await eventually(lambda: done(progress, store), within=150, what="converged after restart")
    await eventually(lambda: ps.tiers_ready(kube, store), within=120, what="pods Ready")
    assert await ps.secret_data(kube, store) == secret_before
    ns = await ps.namespace_or_none(kube, store)
    assert ns.metadata.annotations[labels.GENERATION] == "1"


async def test_twenty_stores_within_the_concurrency_bound(
    nats_server: NatsServer,
    devcluster: DevCluster,
    js: JetStreamContext,
    kube: ApiClient,
    progress: ProgressLog,
    start_service: StartService,
    stores: list[str],
) -> None:
    bound = 4
    env = ps.env(ps.settings(nats_server.url, devcluster.kubeconfig, provision_concurrency=bound))
    start_service("provisioner", env)
    stores.extend(ps.store_id(f"s{i:02d}") for i in range(20))
    await asyncio.gather(*(ps.publish(js, ps.create(s)) for s in stores))
    await eventually(lambda: all(done(progress, s) for s in stores), within=240, what="20 stores")

    # One process publishes in order on one connection: from its progress
    # events, started-but-not-finished never exceeds the bound.
    in_flight, peak = 0, 0
    for e in progress.events:
        if e.step != "provision":
            continue
        if e.state == StepState.STARTED:
            in_flight += 1
        elif e.state in (StepState.SUCCEEDED, StepState.FAILED, StepState.RETRYING):
            in_flight -= 1
        peak = max(peak, in_flight)
    assert 1 < peak <= bound
    assert not any(e.state == StepState.FAILED for e in progress.events)
    for s in stores:
        assert await ps.namespace_or_none(kube, s) is not None


async def test_two_replicas_apply_generations_in_order(
    nats_server: NatsServer,
    devcluster: DevCluster,
    js: JetStreamContext,
    kube: ApiClient,
    progress: ProgressLog,
    start_service: StartService,
    stores: list[str],
) -> None:
    env = ps.env(ps.settings(nats_server.url, devcluster.kubeconfig))
    start_service("provisioner", env)
    start_service("provisioner", env)
    racing = [ps.store_id("race") for _ in range(4)]
    stores.extend(racing)
    for s in racing:
        await ps.publish(js, ps.create(s, 1, name="First"))
        await ps.publish(js, ps.create(s, 2, name="Second"))
    await eventually(lambda: all(done(progress, s, 2) for s in racing), within=120, what="gen 2")
    # Let any straggling generation-1 delivery be handled (and dropped).
    marker = ps.store_id("marker")
    await ps.publish(js, ps.delete(marker, 1))
    await eventually(lambda: progress.has(marker, "delete", StepState.SUCCEEDED), within=30)

    for s in racing:
        finished = [
            e.generation
            for e in progress.of(s)
            if e.step == "provision" and e.state == StepState.SUCCEEDED
        ]
        assert finished == sorted(finished), f"{s}: applied out of order {finished}"
        started = [
            e.generation
            for e in progress.of(s)
            if e.step == "provision" and e.state == StepState.STARTED
        ]
        assert started == sorted(started), f"{s}: started out of order {started}"
        ns = await ps.namespace_or_none(kube, s)
        assert ns.metadata.annotations[labels.GENERATION] == "2"
        assert ns.metadata.annotations["urumi.dev/display-name"] == "Second"


async def test_api_server_away_for_ten_seconds_mid_apply(
    nats_server: NatsServer,
    devcluster: DevCluster,
    js: JetStreamContext,
    kube: ApiClient,
    progress: ProgressLog,
    start_service: StartService,
    stores: list[str],
    tmp_path: Path,
) -> None:
    proxy = TcpProxy(devcluster.ports["apiserver"])
    await proxy.start()
    kubeconfig = proxied_kubeconfig(devcluster.kubeconfig, proxy.port, tmp_path / "kubeconfig")
    start_service("provisioner", ps.env(ps.settings(nats_server.url, kubeconfig)))
    store = ps.store_id()
    stores.append(store)
    cut: list[bool] = []

    def cut_on_first_apply(event: StoreProgress) -> None:
        if event.store == store and event.step == "apply" and not cut:
            cut.append(True)
            asyncio.get_running_loop().create_task(proxy.stop())

    progress.callbacks.append(cut_on_first_apply)
    try:
        await ps.publish(js, ps.create(store))
        await eventually(lambda: bool(cut), within=60, what="outage started")
        await eventually(
            lambda: progress.has(store, "provision", StepState.RETRYING),
            within=30,
            what="a retry reported",
        )
        await asyncio.sleep(10)  # the outage itself, not a wait for a result
        await proxy.start()
        await eventually(lambda: done(progress, store), within=90, what="converged after outage")
    finally:
        await proxy.stop()
    await eventually(lambda: ps.tiers_ready(kube, store), within=120, what="pods Ready")
    retry = next(e for e in progress.of(store) if e.state == StepState.RETRYING)
    assert "unreachable" in retry.message or "retrying" in retry.message
