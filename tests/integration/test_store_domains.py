"""A store on its own domain on the devcluster: the gateway (looking the domain
up in a DNS server on loopback), the provisioner and the watcher together. Once
its records prove it, the store's Ingress answers on the domain and WordPress's
address is set to it by the setup Job; removing it restores the platform host."""

from collections.abc import Coroutine
from pathlib import Path
from typing import Any

import httpx
from kubernetes_asyncio.client import ApiClient, BatchV1Api, NetworkingV1Api

from services.devtools.devcluster import DevCluster
from services.devtools.natsserver import NatsServer
from tests.fixtures.dns import LoopbackDns
from tests.fixtures.processes import StartService
from tests.fixtures.waiting import eventually
from tests.integration import provisioner_support as ps
from tests.integration.gateway_support import auth, gateway_env, new_tenant, store_at
from tests.integration.watcher_support import watcher_env


async def _hosts(net: NetworkingV1Api, namespace: str) -> list[str]:
    ingress = await net.read_namespaced_ingress("wordpress", namespace)
    return [rule.host for rule in ingress.spec.rules]


async def _wordpress_address(batch: BatchV1Api, namespace: str) -> set[str]:
    """The STORE_URL (WordPress's home and siteurl) of the setup Jobs there now."""
    jobs = (await batch.list_namespaced_job(namespace)).items
    return {
        e.value
        for j in jobs
        for e in j.spec.template.spec.containers[0].env
        if e.name == "STORE_URL"
    }


async def test_a_proven_domain_is_routed_to_the_store_and_removing_it_restores_the_host(
    nats_server: NatsServer,
    devcluster: DevCluster,
    start_service: StartService,
    dns_server: LoopbackDns,
    kube: ApiClient,
    stores: list[str],
    tmp_path: Path,
) -> None:
    env = gateway_env(
        nats_server.url,
        str(tmp_path / "g.db"),
        URUMI_BASE_DOMAIN=ps.BASE_DOMAIN,
        URUMI_DNS_NAMESERVER=dns_server.nameserver,
        URUMI_DOMAIN_CHECK_S="0.2",
    )
    gateway = start_service("gateway", env)
    start_service("watcher", watcher_env(nats_server, devcluster))
    token = await new_tenant(gateway.base_url, "acme")
    store = ps.store_id("own")
    stores.append(store)
    namespace, domain = f"store-{store}", f"{store}.example.com"
    platform = f"{store}.{ps.BASE_DOMAIN}"
    net, batch = NetworkingV1Api(kube), BatchV1Api(kube)
    settings = ps.settings(nats_server.url, devcluster.kubeconfig)
    async with (
        ps.running(settings),
        httpx.AsyncClient(base_url=gateway.base_url, headers=auth(token), timeout=15) as http,
    ):

        def at(generation: int, phase: str) -> Coroutine[Any, Any, dict[str, Any] | None]:
            return store_at(http, store, generation, phase)

        async def domain_state() -> str:
            items = (await http.get(f"/api/v1/stores/{store}/domains")).json()["items"]
            return str(items[0]["state"]) if items else "gone"

        assert (await http.post("/api/v1/stores", json={"id": store})).status_code == 202
        await eventually(lambda: at(1, "ready"), within=120, what="ready at generation 1")
        assert await _hosts(net, namespace) == [platform]

        added = await http.post(f"/api/v1/stores/{store}/domains", json={"domain": domain})
        assert added.status_code == 201, added.text
        cname, txt = added.json()["records"]
        assert cname["value"] == platform
        dns_server.zone.set(cname["name"], "CNAME", cname["value"])
        dns_server.zone.set(txt["name"], "TXT", txt["value"])

        async def active() -> bool:
            return await domain_state() == "active"

        await eventually(active, within=120, what="the domain active")
        assert (await at(2, "ready")) is not None
        assert await _hosts(net, namespace) == [platform, domain]
        assert await _wordpress_address(batch, namespace) == {f"http://{domain}"}

        removed = await http.delete(f"/api/v1/stores/{store}/domains/{domain}")
        assert removed.status_code == 202, removed.text
        await eventually(lambda: at(3, "ready"), within=120, what="ready without the domain")
        assert await _hosts(net, namespace) == [platform]
        assert await _wordpress_address(batch, namespace) == {f"http://{platform}"}
        assert await domain_state() == "gone"
