"""The Kubernetes API server refuses connections for 30 s in the middle of
provisioning (the provisioner and the watcher reach it through a TCP proxy that is
switched off): provisioning waits and converges afterwards, nothing is failed,
and the gateway stays up and answers throughout."""

import asyncio
import time
from pathlib import Path

import httpx
from kubernetes_asyncio.client import ApiClient

from services.contracts.events import StepState
from services.contracts.ids import namespace_for
from services.devtools.devcluster import DevCluster
from tests.faults.conftest import Launch
from tests.faults.platform import (
    assert_no_leak,
    commands_drained,
    new_id,
    progress_events,
    provision_check,
)
from tests.fixtures.tcpproxy import TcpProxy, proxied_kubeconfig
from tests.fixtures.waiting import eventually
from tests.integration.provisioner_support import ProgressLog

OUTAGE_S = 30.0


async def test_api_server_refuses_for_thirty_seconds(
    launch: Launch, devcluster: DevCluster, kube: ApiClient, tmp_path: Path
) -> None:
    proxy = TcpProxy(devcluster.ports["apiserver"])
    await proxy.start()
    try:
        kubeconfig = proxied_kubeconfig(devcluster.kubeconfig, proxy.port, tmp_path / "kubecfg")
        p = await launch(kubeconfig=kubeconfig)
        assert p.nc is not None
        log = await ProgressLog().start(p.nc)
        stores = [new_id(f"away{i}") for i in range(6)]
        await asyncio.gather(*(p.create(s) for s in stores))

        async def under_way() -> bool:
            return sum(1 for e in log.events if e.step == "apply") >= 2

        await eventually(under_way, 60, interval=0.5, what="provisioning under way")
        await proxy.stop()
        down_at = time.monotonic()

        # The outage: the gateway answers every second and takes a new store.
        during = new_id("during")
        await p.create(during)
        stores.append(during)
        seen: set[str] = set()
        async with httpx.AsyncClient(base_url=p.api, timeout=5) as http:
            while time.monotonic() - down_at < OUTAGE_S:
                assert (await http.get("/readyz")).status_code == 200
                seen |= set((await p.phases()).values())
                await asyncio.sleep(1)
        assert "failed" not in seen, seen
        assert any(e.state == StepState.RETRYING for e in log.events), "nothing waited"
        not_done = [s for s in stores if not log.has(s, "provision", StepState.SUCCEEDED)]
        assert not_done, "every store was provisioned before the outage"

        await proxy.start()
        await p.wait_phase(stores, "ready", within=180)
        # A store can look ready while its command still sits out a retry delay
        # (up to a minute); it must still run to success.
        await eventually(
            lambda: commands_drained(p.js), 90, interval=0.5, what="every command handled and acked"
        )
    finally:
        await proxy.stop()

    events = await progress_events(p.js, p.tenant)
    # Retried commands start again; each still succeeds once, with one Secret.
    problems = [e for s in stores for e in provision_check(events, s, unacked=True)]
    assert not problems, problems
    for store in stores:
        done = [e for e in events if e.store == store and e.step == "provision"]
        assert sum(e.state == StepState.SUCCEEDED for e in done) == 1, store
        assert not any(e.state == StepState.FAILED for e in done), store
        versions = p.secrets.versions.get(namespace_for(store), set())
        assert len(versions) == 1, f"{store}: Secret versions {versions}"

    assert_no_leak(await p.leak_scan())
