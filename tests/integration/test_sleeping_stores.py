"""Sleeping stores. On the devcluster, the gateway, the provisioner and the
watcher together: asleep, no pod runs, the volumes stay and the store's host is
routed to the gateway's "asleep" page; woken (by its owner, or by a shopper's
visit when its plan allows), it is ready at the next generation on the same
volumes. The gateway alone, on both databases: what a shopper's visit to a
sleeping store's host answers, and the one wake it queues."""

import asyncio
from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path
from typing import NamedTuple

import httpx
import pytest
from kubernetes_asyncio.client import ApiClient, BatchV1Api, CoreV1Api, NetworkingV1Api
from nats.js import JetStreamContext

from services.devtools.devcluster import DevCluster
from services.devtools.natsserver import NatsServer
from services.devtools.procs import ServiceProcess
from tests.fixtures.processes import StartService
from tests.fixtures.waiting import eventually
from tests.integration import provisioner_support as ps
from tests.integration.gateway_support import (
    auth,
    command_count,
    gateway_env,
    last_command,
    new_tenant,
    query,
    store_at,
)
from tests.integration.watcher_support import watcher_env

# The gateway's default URUMI_BASE_DOMAIN: a store's host is <id>.127.0.0.1.nip.io.
DEFAULT_BASE_DOMAIN = "127.0.0.1.nip.io"


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


class Platform(NamedTuple):
    gateway: ServiceProcess
    http: httpx.AsyncClient  # signed in as tenant acme
    database: str  # the gateway's SQLite file


@pytest.fixture
async def platform(
    nats_server: NatsServer, devcluster: DevCluster, start_service: StartService, tmp_path: Path
) -> AsyncIterator[Platform]:
    """The gateway and the watcher as processes, the provisioner in this one,
    with the gateway's Service named as the asleep page's host."""
    database = str(tmp_path / "g.db")
    gateway = start_service(
        "gateway", gateway_env(nats_server.url, database, URUMI_BASE_DOMAIN=ps.BASE_DOMAIN)
    )
    start_service("watcher", watcher_env(nats_server, devcluster))
    token = await new_tenant(gateway.base_url, "acme")
    page_settings = {"sleep_page_host": "urumi-gateway.urumi.svc.cluster.local"}
    settings = ps.settings(nats_server.url, devcluster.kubeconfig, **page_settings)
    async with (
        ps.running(settings),
        httpx.AsyncClient(base_url=gateway.base_url, headers=auth(token), timeout=15) as http,
    ):
        yield Platform(gateway, http, database)


async def _ready_then_asleep(
    http: httpx.AsyncClient, kube: ApiClient, stores: list[str], store: str, plan: str
) -> dict[str, str]:
    """The store created ready (and dropped after the test), then put to sleep by
    its owner: asleep at generation 2, no pod running, its ingress on the asleep
    page. Its volumes."""
    stores.append(store)
    core, net = CoreV1Api(kube), NetworkingV1Api(kube)
    namespace = f"store-{store}"
    created = await http.post("/api/v1/stores", json={"id": store, "plan": plan})
    assert created.status_code == 202, created.text
    await eventually(lambda: store_at(http, store, 1, "ready"), within=120, what="ready at gen 1")
    volumes = await _volumes(core, namespace)
    assert len(volumes) == 2, volumes  # the web tier's files and the database's data

    slept = await http.post(f"/api/v1/stores/{store}/sleep")
    assert slept.status_code == 202, slept.text
    assert (slept.json()["asleep"], slept.json()["generation"]) == (True, 2)
    asleep = await eventually(lambda: store_at(http, store, 2, "asleep"), within=120, what="asleep")
    assert asleep["asleep"] is True
    assert await _running_pods(core, namespace) == []
    assert await _volumes(core, namespace) == volumes
    assert await _routed_to(net, namespace) == "sleep-page"
    return volumes


async def _awake_on_the_same_volumes(kube: ApiClient, store: str, volumes: dict[str, str]) -> None:
    """Pods run again on the same volumes and the store's host routes to the shop."""
    core, net, batch = CoreV1Api(kube), NetworkingV1Api(kube), BatchV1Api(kube)
    namespace = f"store-{store}"
    assert await _volumes(core, namespace) == volumes
    assert await _running_pods(core, namespace)
    assert await _routed_to(net, namespace) == "wordpress"
    services = (await core.list_namespaced_service(namespace)).items
    assert "sleep-page" not in {s.metadata.name for s in services}
    jobs = (await batch.list_namespaced_job(namespace)).items
    assert jobs and not any(j.spec.suspend for j in jobs)


async def test_sleep_stops_every_pod_keeps_the_volumes_and_wake_brings_the_store_back(
    platform: Platform, kube: ApiClient, stores: list[str]
) -> None:
    http, store = platform.http, ps.store_id("nap")
    volumes = await _ready_then_asleep(http, kube, stores, store, "small")
    namespace = f"store-{store}"
    core = CoreV1Api(kube)
    page = await core.read_namespaced_service("sleep-page", namespace)
    assert (page.spec.type, page.spec.external_name) == (
        "ExternalName",
        "urumi-gateway.urumi.svc.cluster.local",
    )
    quota = (await core.read_namespaced_resource_quota("store-quota", namespace)).spec.hard
    assert (quota["requests.cpu"], quota["requests.memory"]) == ("0", "0")
    again = await http.post(f"/api/v1/stores/{store}/sleep")
    assert again.status_code == 200 and again.json()["generation"] == 2

    # What the ingress controller gets for a shopper: the asleep page (a small
    # store's plan does not wake it on a visit).
    shopper = await _visit(platform.gateway, f"{store}.{ps.BASE_DOMAIN}", "/cart/")
    assert shopper.status_code == 503
    assert f"{store} is asleep" in shopper.text
    assert (await http.get(f"/api/v1/stores/{store}")).json()["generation"] == 2

    woken = await http.post(f"/api/v1/stores/{store}/wake")
    assert woken.status_code == 202, woken.text
    ready = await eventually(lambda: store_at(http, store, 3, "ready"), within=120, what="ready")
    assert ready["asleep"] is False
    await _awake_on_the_same_volumes(kube, store, volumes)

    audit = await http.get(f"/api/v1/stores/{store}/events")
    steps = [e["event"].get("message", "") for e in audit.json()["items"]]
    assert any("asleep: no pod runs" in m for m in steps), steps


async def test_a_shoppers_visit_wakes_a_medium_store_to_ready(
    platform: Platform, kube: ApiClient, stores: list[str]
) -> None:
    http, store = platform.http, ps.store_id("visited")
    volumes = await _ready_then_asleep(http, kube, stores, store, "medium")

    shopper = await _visit(platform.gateway, f"{store}.{ps.BASE_DOMAIN}", "/product/tea/")
    assert shopper.status_code == 503
    assert f"{store} is waking up" in shopper.text
    ready = await eventually(lambda: store_at(http, store, 3, "ready"), within=120, what="ready")
    assert (ready["asleep"], ready["plan"]) == (False, "medium")
    await _awake_on_the_same_volumes(kube, store, volumes)
    audit = await query(
        platform.database,
        "SELECT target, action FROM audit WHERE actor = 'system:wake-on-visit'",
    )
    assert audit == [(store, "wake store at generation 3")]


async def _visit(gateway: ServiceProcess, host: str, path: str = "/") -> httpx.Response:
    """A shopper's request as the ingress controller forwards it: the store's Host."""
    async with httpx.AsyncClient(base_url=gateway.base_url) as shopper:
        return await shopper.get(path, headers={"Host": host})


async def _asleep(acme: httpx.AsyncClient, store: str, plan: str) -> None:
    """A store of `plan` put to sleep by its owner (generation 2)."""
    created = await acme.post("/api/v1/stores", json={"id": store, "plan": plan})
    assert created.status_code == 202, created.text
    slept = await acme.post(f"/api/v1/stores/{store}/sleep")
    assert (slept.status_code, slept.json()["generation"]) == (202, 2), slept.text


async def test_a_burst_of_visits_wakes_a_store_whose_plan_allows_it_once(
    gateway: ServiceProcess,
    acme: httpx.AsyncClient,
    js: JetStreamContext,
    gateway_database: str,
) -> None:
    me = (await acme.get("/api/v1/me")).json()
    assert me["wake_on_visit_plans"] == ["medium", "large"]  # the default: the dashboard says so
    await _asleep(acme, "busy", "medium")
    await last_command(js, "busy", 2)
    host = f"busy.{DEFAULT_BASE_DOMAIN}"
    paths = ["/", "/cart/", "/product/tea/?add-to-cart=7"] * 10
    visits = await asyncio.gather(*(_visit(gateway, host, p) for p in paths))
    assert {v.status_code for v in visits} == {503}
    assert all("busy is waking up" in v.text for v in visits), visits[0].text
    assert {v.headers["retry-after"] for v in visits} == {"5"}

    woken = await last_command(js, "busy", 3)  # create, sleep and one wake
    assert (woken.generation, woken.spec.asleep, woken.spec.plan) == (3, False, "medium")
    assert woken.actor == "system:wake-on-visit"
    store = (await acme.get("/api/v1/stores/busy")).json()
    assert (store["asleep"], store["generation"], store["phase"]) == (False, 3, "provisioning")
    # The wake is the store's last visit: auto-sleep counts from it, not from its creation.
    woken_at, created_at = (
        datetime.fromisoformat(store[k]) for k in ("last_visit_at", "created_at")
    )
    assert woken_at > created_at
    assert (await _visit(gateway, host)).status_code == 503  # still waking: the page again
    await asyncio.sleep(0.5)  # a second wake would have been relayed by now
    assert await command_count(js) == 3
    audit = await query(
        gateway_database,
        "SELECT actor, action FROM audit WHERE target = 'busy' AND actor LIKE 'system:%'",
    )
    assert audit == [("system:wake-on-visit", "wake store at generation 3")]


async def test_a_visit_leaves_a_store_whose_plan_does_not_allow_it_asleep(
    gateway: ServiceProcess, acme: httpx.AsyncClient, js: JetStreamContext
) -> None:
    await _asleep(acme, "quiet", "small")
    await last_command(js, "quiet", 2)
    visits = await asyncio.gather(
        *(_visit(gateway, f"quiet.{DEFAULT_BASE_DOMAIN}:443", "/shop/") for _ in range(5))
    )
    assert {v.status_code for v in visits} == {503}
    page = visits[0].text
    assert "quiet is asleep" in page
    assert "wake it from its page in the dashboard (Wake this store)" in page
    assert "`urumi stores wake quiet`" in page
    assert visits[0].headers["retry-after"] == "3600"
    await asyncio.sleep(0.5)
    assert await command_count(js) == 2
    store = (await acme.get("/api/v1/stores/quiet")).json()
    assert (store["asleep"], store["generation"]) == (True, 2)
    missing = await _visit(gateway, f"nothere.{DEFAULT_BASE_DOMAIN}")
    assert missing.status_code == 404 and "There is no store at nothere." in missing.text
