"""Auto-sleep on the devcluster, with a real Traefik in front of the stores.

Traefik (the real node's binary, from deploy/realnode/build.sh) runs as a host
process with its kubernetes ingress provider on the devcluster and its
Prometheus metrics on a loopback entrypoint; the watcher reads its per-Service
request counters. kwok's pod addresses lead off this machine, so before any
request the stores' pods are given an address of this machine's own (on a bridge
interface the test adds; their status patched, as a kubelet reports it, which
kwok leaves alone), and requests go out only once Traefik's own API shows it
forwarding there: nothing listens, Traefik answers 502 and counts the request
for the store's Service. That is recorded as
the store's last visit; a store nobody visited for its plan's limit is put to
sleep as `system:auto-sleep`, a visited one is not.
"""

import asyncio
import os
import subprocess
import time
from collections.abc import AsyncIterator, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any, Final, NamedTuple

import httpx
import pytest
from kubernetes_asyncio.client import (
    ApiClient,
    CoreV1Api,
    NetworkingV1Api,
    V1IngressClass,
    V1IngressClassSpec,
    V1ObjectMeta,
)
from kubernetes_asyncio.client.exceptions import ApiException

from services.devtools.devcluster import DevCluster
from services.devtools.natsserver import NatsServer, free_port
from services.devtools.realnode_config import INGRESS_CLASS
from tests.fixtures.processes import StartService
from tests.fixtures.waiting import eventually
from tests.integration import provisioner_support as ps
from tests.integration.gateway_support import auth, gateway_env, new_tenant, query, store_at
from tests.integration.watcher_support import watcher_env

REPO: Final = Path(__file__).resolve().parents[2]
# A small store sleeps after this long without a visit; a medium one never does.
LIMIT_S: Final = 45
TRAEFIK_CONTROLLER: Final = "traefik.io/ingress-controller"
# An address of this machine (TEST-NET-1, on a bridge with no ports): connections to
# it are delivered here, and refused.
LOCAL_IP: Final = "192.0.2.77"
BRIDGE: Final = "urumi-visits"


@pytest.fixture
def local_address() -> Iterator[str]:
    """LOCAL_IP on an interface of this machine's, for the test's length (a bridge:
    this kernel has no dummy interfaces)."""
    subprocess.run(["ip", "link", "del", BRIDGE], capture_output=True, check=False)
    for args in (
        ["link", "add", BRIDGE, "type", "bridge"],
        ["addr", "add", f"{LOCAL_IP}/32", "dev", BRIDGE],
        ["link", "set", BRIDGE, "up"],
    ):
        subprocess.run(["ip", *args], check=True, capture_output=True)
    try:
        yield LOCAL_IP
    finally:
        subprocess.run(["ip", "link", "del", BRIDGE], check=True, capture_output=True)


class Traefik(NamedTuple):
    web: str  # where shoppers' requests go
    metrics: str  # its Prometheus endpoint
    api: str  # its own API: the servers it forwards each service to


def traefik_binary() -> Path:
    """The real node's Traefik, built (or found in the cache) as `make realnode` does."""
    built = subprocess.run(
        [str(REPO / "deploy/realnode/build.sh")], check=True, capture_output=True, text=True
    )
    return Path(built.stdout.strip().splitlines()[-1]) / "traefik"


async def _ingress_class(kube: ApiClient) -> None:
    """The class the provisioner's Ingresses name, served by Traefik (the devcluster
    has only `nginx`, whose controller nothing here runs)."""
    body = V1IngressClass(
        metadata=V1ObjectMeta(name=INGRESS_CLASS),
        spec=V1IngressClassSpec(controller=TRAEFIK_CONTROLLER),
    )
    try:
        await NetworkingV1Api(kube).create_ingress_class(body)
    except ApiException as exc:
        if exc.status != 409:  # made by an earlier test, or the real node's
            raise


@pytest.fixture
def traefik(devcluster: DevCluster, tmp_path: Path) -> Iterator[Traefik]:
    web, metrics, api = free_port(), free_port(), free_port()
    args = [
        str(traefik_binary()),
        f"--entrypoints.web.address=127.0.0.1:{web}",
        f"--entrypoints.metrics.address=127.0.0.1:{metrics}",
        "--metrics.prometheus=true",
        "--metrics.prometheus.entrypoint=metrics",
        f"--entrypoints.traefik.address=127.0.0.1:{api}",
        "--api.insecure=true",
        "--providers.kubernetesingress=true",
        f"--providers.kubernetesingress.ingressclass={INGRESS_CLASS}",
        "--providers.kubernetesingress.allowemptyservices=true",
        "--providers.kubernetesingress.allowexternalnameservices=true",
        # The pods' address refuses connections: Traefik answers 502 at once.
        "--serverstransport.forwardingtimeouts.dialtimeout=1s",
        "--global.checknewversion=false",
        "--global.sendanonymoususage=false",
        "--log.level=INFO",
    ]
    env = {"PATH": os.environ["PATH"], "KUBECONFIG": str(devcluster.kubeconfig)}
    endpoint = f"http://127.0.0.1:{metrics}/metrics"
    with (tmp_path / "traefik.log").open("ab") as log:
        proc = subprocess.Popen(args, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                httpx.get(endpoint, timeout=1).raise_for_status()
                break
            except httpx.HTTPError as exc:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(
                        f"traefik did not start; see {tmp_path}/traefik.log"
                    ) from exc
                time.sleep(0.2)
        yield Traefik(f"http://127.0.0.1:{web}", endpoint, f"http://127.0.0.1:{api}/api")
    finally:
        proc.terminate()
        proc.wait(10)


class Platform(NamedTuple):
    http: httpx.AsyncClient  # signed in as tenant acme
    database: str
    kube: ApiClient


@pytest.fixture
async def platform(
    nats_server: NatsServer,
    devcluster: DevCluster,
    kube: ApiClient,
    start_service: StartService,
    traefik: Traefik,
    local_address: str,
    tmp_path: Path,
) -> AsyncIterator[Platform]:
    """The gateway (small stores sleep after LIMIT_S without a visit) and the
    watcher (reading Traefik's counters every second) as processes, the
    provisioner (Ingresses of Traefik's class) in this one."""
    await _ingress_class(kube)
    database = str(tmp_path / "g.db")
    gateway = start_service(
        "gateway",
        gateway_env(
            nats_server.url,
            database,
            URUMI_BASE_DOMAIN=ps.BASE_DOMAIN,
            URUMI_AUTO_SLEEP_AFTER=f"small={LIMIT_S}",
        ),
    )
    watcher = watcher_env(nats_server, devcluster) | {
        "URUMI_INGRESS_METRICS_URL": traefik.metrics,
        "URUMI_INGRESS_CONTROLLER": "traefik",
        "URUMI_ACTIVITY_REPORT_S": "1",
    }
    start_service("watcher", watcher)
    token = await new_tenant(gateway.base_url, "acme")
    settings = ps.settings(nats_server.url, devcluster.kubeconfig, ingress_class=INGRESS_CLASS)
    async with (
        ps.running(settings),
        httpx.AsyncClient(base_url=gateway.base_url, headers=auth(token), timeout=15) as http,
    ):
        yield Platform(http, database, kube)


async def _shopper(traefik: Traefik, store: str, stop: asyncio.Event) -> None:
    """A shopper asking for the store's pages through Traefik every second until `stop`."""
    host = f"{store}.{ps.BASE_DOMAIN}"
    async with httpx.AsyncClient(base_url=traefik.web, headers={"Host": host}, timeout=10) as c:
        while not stop.is_set():
            await c.get("/shop/")
            await asyncio.sleep(1)


async def _pods_on_this_machine(kube: ApiClient, store: str, ip: str) -> None:
    """Give the store's pods the address `ip`, this machine's own (nothing listens)."""
    core = CoreV1Api(kube)
    namespace = f"store-{store}"
    for pod in (await core.list_namespaced_pod(namespace)).items:
        # A JSON patch (a list body): it replaces the list, which a strategic
        # merge patch would add to.
        body = [
            {"op": "replace", "path": "/status/podIP", "value": ip},
            {"op": "replace", "path": "/status/podIPs", "value": [{"ip": ip}]},
        ]
        await core.patch_namespaced_pod_status(pod.metadata.name, namespace, body)


async def _forwards_to(traefik: Traefik, store: str, ip: str) -> bool:
    """Whether Traefik has the store's services and sends them only to `ip`."""
    async with httpx.AsyncClient(timeout=5) as c:
        services = (await c.get(f"{traefik.api}/http/services")).json()
    urls = [
        server["url"]
        for service in services
        if f"store-{store}-" in service["name"]
        for server in service.get("loadBalancer", {}).get("servers", [])
    ]
    return bool(urls) and all(url.startswith(f"http://{ip}:") for url in urls)


async def _counted(traefik: Traefik, store: str) -> bool:
    """A request for the store through Traefik; whether Traefik counts the
    store's requests yet (it has loaded the store's Ingress)."""
    host = {"Host": f"{store}.{ps.BASE_DOMAIN}"}
    async with httpx.AsyncClient(headers=host, timeout=10) as c:
        await c.get(f"{traefik.web}/")
        metrics = (await c.get(traefik.metrics)).text
    return "traefik_service_requests_total{code=" in metrics and f"store-{store}-" in metrics


async def _view(http: httpx.AsyncClient, store: str) -> dict[str, Any]:
    answer = await http.get(f"/api/v1/stores/{store}")
    assert answer.status_code == 200, answer.text
    view: dict[str, Any] = answer.json()
    return view


def _last_visit(view: dict[str, Any]) -> datetime:
    return datetime.fromisoformat(view["last_visit_at"])


async def test_a_store_nobody_visits_falls_asleep_and_a_visited_one_stays_awake(
    platform: Platform, traefik: Traefik, stores: list[str]
) -> None:
    http = platform.http
    quiet, visited = ps.store_id("quiet"), ps.store_id("busy")
    stores.extend([quiet, visited])
    for store in (quiet, visited):
        created = await http.post("/api/v1/stores", json={"id": store, "plan": "small"})
        assert created.status_code == 202, created.text
    await eventually(lambda: store_at(http, quiet, 1, "ready"), within=120, what="quiet ready")
    await eventually(lambda: store_at(http, visited, 1, "ready"), within=120, what="busy ready")
    created_at = _last_visit(await _view(http, visited))
    for store in (quiet, visited):
        await _pods_on_this_machine(platform.kube, store, LOCAL_IP)
    await eventually(
        lambda: _forwards_to(traefik, visited, LOCAL_IP), within=30, what="Traefik forwards here"
    )

    await eventually(lambda: _counted(traefik, visited), within=30, what="Traefik counts the store")
    stop = asyncio.Event()
    shopper = asyncio.create_task(_shopper(traefik, visited, stop))
    try:

        async def visit_recorded() -> bool:
            return _last_visit(await _view(http, visited)) > created_at

        await eventually(visit_recorded, within=30, what="the visit recorded")
        asleep = await eventually(
            lambda: store_at(http, quiet, 2, "asleep"), within=LIMIT_S + 90, what="auto-sleep"
        )
        # A few of auto-sleep's passes later, the visited store is still awake.
        await asyncio.sleep(LIMIT_S / 2)
        busy = await _view(http, visited)
    finally:
        stop.set()
        await shopper
    assert asleep["asleep"] is True
    assert (busy["asleep"], busy["generation"], busy["phase"]) == (False, 1, "ready")

    audit = await query(
        platform.database,
        "SELECT actor, target, action FROM audit WHERE actor = 'system:auto-sleep'",
    )
    why = f"no visit for {LIMIT_S} seconds"
    assert audit == [("system:auto-sleep", quiet, f"sleep store at generation 2: {why}")]
