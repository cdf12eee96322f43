"""A store put to sleep and woken, on the devcluster: the gateway, the
provisioner and the watcher together. Asleep, no pod runs, the volumes stay and
the store's host is routed to the gateway's "asleep" page; woken, it is ready
at the next generation on the same volumes."""

from collections.abc import Coroutine
from pathlib import Path
from typing import Any

import httpx
from kubernetes_asyncio.client import ApiClient, BatchV1Api, CoreV1Api, NetworkingV1Api

from services.devtools.devcluster import DevCluster
from services.devtools.natsserver import NatsServer
from tests.fixtures.processes import StartService
from tests.fixtures.waiting import eventually
from tests.integration import provisioner_support as ps
from tests.integration.gateway_support import auth, gateway_env, new_tenant, store_at
from tests.integration.watcher_support import watcher_env


async def _running_pods(core: CoreV1Api, namespace: str) -> list[str]:
    """The store's pods that run (a finished Job's pod runs nothing)."""
    pods = (await core.list_namespaced_pod(namespace)).items
    return sorted(p.metadata.name for p in pods if p.status.phase not in ("Succeeded", "Failed"))


async def _volumes(core: CoreV1Api, namespace: str) -> dict[str, str]:
    """Each claim's name → uid: the same uid is the same volume."""
    claims = (await core.list_namespaced_persistent_volume_claim(namespace)).items
    return {c.metadata.name: c.metadata.uid for c in claims}


async def _routed_to(net: NetworkingV1Api, namespace: str) -> str:
    ingress = await net.read_namespaced_ingress("wordpress", namespace)
    name: str = ingress.spec.rules[0].http.paths[0].backend.service.name
    return name


async def test_sleep_stops_every_pod_keeps_the_volumes_and_wake_brings_the_store_back(
    nats_server: NatsServer,
    devcluster: DevCluster,
    start_service: StartService,
    kube: ApiClient,
    stores: list[str],
    tmp_path: Path,
) -> None:
    gateway = start_service(
        "gateway",
        gateway_env(nats_server.url, str(tmp_path / "g.db"), URUMI_BASE_DOMAIN=ps.BASE_DOMAIN),
    )
    start_service("watcher", watcher_env(nats_server, devcluster))
    token = await new_tenant(gateway.base_url, "acme")
    store = ps.store_id("nap")
    stores.append(store)
    namespace = f"store-{store}"
    core, net, batch = CoreV1Api(kube), NetworkingV1Api(kube), BatchV1Api(kube)
    page_settings = {"sleep_page_host": "urumi-gateway.urumi.svc.cluster.local"}
    settings = ps.settings(nats_server.url, devcluster.kubeconfig, **page_settings)
    async with (
        ps.running(settings),
        httpx.AsyncClient(base_url=gateway.base_url, headers=auth(token), timeout=15) as http,
    ):

        def at(generation: int, phase: str) -> Coroutine[Any, Any, dict[str, Any] | None]:
            return store_at(http, store, generation, phase)

        created = await http.post("/api/v1/stores", json={"id": store})
        assert created.status_code == 202, created.text
        await eventually(lambda: at(1, "ready"), within=120, what="ready at generation 1")
        volumes = await _volumes(core, namespace)
        assert len(volumes) == 2, volumes  # the web tier's files and the database's data

        slept = await http.post(f"/api/v1/stores/{store}/sleep")
        assert slept.status_code == 202, slept.text
        assert (slept.json()["asleep"], slept.json()["generation"]) == (True, 2)
        asleep = await eventually(lambda: at(2, "asleep"), within=120, what="asleep")
        assert asleep["asleep"] is True
        assert await _running_pods(core, namespace) == []
        assert await _volumes(core, namespace) == volumes
        assert await _routed_to(net, namespace) == "sleep-page"
        page = await core.read_namespaced_service("sleep-page", namespace)
        assert (page.spec.type, page.spec.external_name) == (
            "ExternalName",
            "urumi-gateway.urumi.svc.cluster.local",
        )
        quota = (await core.read_namespaced_resource_quota("store-quota", namespace)).spec.hard
        assert (quota["requests.cpu"], quota["requests.memory"]) == ("0", "0")
        again = await http.post(f"/api/v1/stores/{store}/sleep")
        assert again.status_code == 200 and again.json()["generation"] == 2

        # What the ingress controller gets for a shopper: the asleep page.
        shopper = await http.get("/cart/", headers={"Host": f"{store}.{ps.BASE_DOMAIN}"})
        assert shopper.status_code == 503
        assert f"{store} is asleep" in shopper.text

        woken = await http.post(f"/api/v1/stores/{store}/wake")
        assert woken.status_code == 202, woken.text
        ready = await eventually(lambda: at(3, "ready"), within=120, what="ready again")
        assert ready["asleep"] is False
        assert await _volumes(core, namespace) == volumes
        assert await _running_pods(core, namespace)
        assert await _routed_to(net, namespace) == "wordpress"
        services = (await core.list_namespaced_service(namespace)).items
        assert "sleep-page" not in {s.metadata.name for s in services}
        jobs = (await batch.list_namespaced_job(namespace)).items
        assert jobs and not any(j.spec.suspend for j in jobs)

        audit = await http.get(f"/api/v1/stores/{store}/events")
        steps = [e["event"].get("message", "") for e in audit.json()["items"]]
        assert any("asleep: no pod runs" in m for m in steps), steps
