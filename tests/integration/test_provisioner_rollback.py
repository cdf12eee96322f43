"""A failed upgrade rolls itself back, on the devcluster: the gateway, the
provisioner and the watcher together. kwok's pods are always ready, so the
upgrade fails another way: its release's values make the chart refuse to
render, and the provisioner reports the store failed."""

from collections.abc import Coroutine
from pathlib import Path
from typing import Any

import httpx
from kubernetes_asyncio.client import ApiClient, CoreV1Api

from services.contracts import labels
from services.devtools.devcluster import DevCluster
from services.devtools.natsserver import NatsServer
from tests.fixtures.processes import StartService
from tests.fixtures.waiting import eventually
from tests.integration import provisioner_support as ps
from tests.integration.gateway_support import auth, gateway_env, new_tenant, store_at
from tests.integration.watcher_support import watcher_env

GOOD, BROKEN = "woo-2026.11", "woo-2026.12-broken"
# A newer release whose WooCommerce the chart knows no minimum WordPress for.
RELEASES = f"""\
woocommerce:
  releases:
    - name: {BROKEN}
      released: 2026-12-02
      chart: 0.1.0
      versions: {{woocommerce: "1.0.0"}}
      values: {{setup: {{woocommerceVersion: "1.0.0"}}}}
"""


async def test_a_failed_upgrade_rolls_back_and_ends_ready_at_the_old_release(
    nats_server: NatsServer,
    devcluster: DevCluster,
    start_service: StartService,
    kube: ApiClient,
    stores: list[str],
    tmp_path: Path,
) -> None:
    releases = tmp_path / "releases.yaml"
    releases.write_text(RELEASES)
    gateway = start_service(
        "gateway",
        gateway_env(nats_server.url, str(tmp_path / "g.db"), URUMI_RELEASES_FILE=str(releases)),
    )
    start_service("watcher", watcher_env(nats_server, devcluster))
    token = await new_tenant(gateway.base_url, "acme")
    store = ps.store_id("roll")
    stores.append(store)
    settings = ps.settings(nats_server.url, devcluster.kubeconfig, releases_file=str(releases))
    async with (
        ps.running(settings),
        httpx.AsyncClient(base_url=gateway.base_url, headers=auth(token), timeout=15) as http,
    ):

        def at(generation: int, phase: str) -> Coroutine[Any, Any, dict[str, Any] | None]:
            return store_at(http, store, generation, phase)

        created = await http.post("/api/v1/stores", json={"id": store, "release": GOOD})
        assert created.status_code == 202, created.text
        await eventually(lambda: at(1, "ready"), within=120, what="ready at generation 1")

        upgraded = await http.patch(f"/api/v1/stores/{store}", json={"release": BROKEN})
        assert upgraded.status_code == 202, upgraded.text
        back = await eventually(lambda: at(3, "ready"), within=120, what="rolled back, ready")
        assert back["release"] == GOOD

        events = (await http.get(f"/api/v1/stores/{store}/events")).json()["items"]
        said = [e["event"]["message"] for e in events if e["event"].get("step") == "rollback"]
        assert len(said) == 1, said
        assert (
            said[0].startswith(f"upgrade to {BROKEN} failed (")
            and "no minimum WordPress" in said[0]
        )
        assert said[0].endswith(f"rolled back to {GOOD}")

    namespace = await CoreV1Api(kube).read_namespace(f"store-{store}")
    assert namespace.metadata.labels[labels.RELEASE] == GOOD
    assert namespace.metadata.annotations[labels.GENERATION] == "3"
