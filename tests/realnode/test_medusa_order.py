"""The definition of done, on a node that runs containers: a Medusa store
created through the API answers through the ingress, takes a shopper's order,
shows it to its admin, is isolated by its NetworkPolicies, and leaves nothing
on the node when deleted."""

import asyncio
import json
import time
from pathlib import Path
from urllib.parse import urlsplit

import httpx
from kubernetes_asyncio.client import ApiClient

from services.devtools import realnode_host
from services.devtools.realnode import RealNode
from tests.faults.platform import PlatformHarness, new_id
from tests.fixtures.waiting import eventually
from tests.realnode import isolation, shopper

READY_WITHIN_S = 900.0  # cold: Postgres initdb, Medusa's migrations and seed on 2 cores


async def _answers(front: shopper.Storefront) -> bool:
    async with front.client() as http:
        try:
            return (await http.get("/health")).status_code == 200
        except httpx.HTTPError:
            return False


def _store_pods(node: RealNode, store: str) -> list[str]:
    namespace = f"store-{store}"
    out = node.crictl("pods", "--namespace", namespace, "--quiet")
    return [line for line in out.splitlines() if line.strip()]


def _store_containers(node: RealNode, store: str) -> list[str]:
    out = node.crictl("ps", "--all", "--label", f"io.kubernetes.pod.namespace=store-{store}", "-q")
    return [line for line in out.splitlines() if line.strip()]


def _pod_uids(node: RealNode, store: str) -> set[str]:
    listed = json.loads(node.crictl("pods", "--namespace", f"store-{store}", "-o", "json"))
    return {p["metadata"]["uid"] for p in listed["items"]}


def _pod_cgroups(uids: set[str]) -> list[Path]:
    """The kubelet names a pod's cgroup pod<uid>, below kubepods in each hierarchy."""
    found = []
    for root in realnode_host.pod_cgroups():
        found += [p for p in root.rglob("pod*") if p.name.removeprefix("pod") in uids]
    return found


def _store_volumes(node: RealNode, store: str) -> list[Path]:
    return sorted(node.state_dir.joinpath("volumes").glob(f"*_store-{store}_*"))


async def _isolated(realnode: RealNode, kube: ApiClient, store: str) -> None:
    """The store's NetworkPolicies, enforced: other namespaces are refused, the
    web tier reaches its database by name and no private address."""
    namespace = f"store-{store}"
    web, web_ip = await isolation.pod_ip(kube, namespace, "web")
    _, db_ip = await isolation.pod_ip(kube, namespace, "database")
    probes = await isolation.Probes(kube, realnode, f"probe-{store}").start()
    try:
        other = probes.ips["b"]
        # The probe itself works: nothing restricts its own namespace.
        assert await asyncio.to_thread(probes.connects, "a", other, isolation.PROBE_PORT)
        assert not await asyncio.to_thread(probes.connects, "a", db_ip, 5432)
        assert not await asyncio.to_thread(probes.connects, "a", web_ip, 9000)
        reach = isolation.node_connects
        assert await asyncio.to_thread(reach, realnode, namespace, web, "postgres", 5432)
        assert await asyncio.to_thread(reach, realnode, namespace, web, "redis", 6379)
        # Another namespace's pod: a private address, refused by the egress policy.
        port = isolation.PROBE_PORT
        assert not await asyncio.to_thread(reach, realnode, namespace, web, other, port)
    finally:
        await probes.stop()


async def test_a_real_medusa_store_takes_an_order_and_leaves_nothing(
    platform: PlatformHarness, realnode: RealNode, realnode_kube: ApiClient
) -> None:
    store = new_id("shop")
    started = time.monotonic()
    created = await platform.create(store, engine="medusa")
    url = created["url"]
    assert urlsplit(url).port == realnode.ingress_port, f"the URL must name the ingress port: {url}"
    front = shopper.Storefront(url=url, ingress=realnode.ingress_url)

    await platform.wait_phase([store], "ready", within=READY_WITHIN_S)
    ready_after = time.monotonic() - started
    assert (await platform.store(store))["url"] == url, "the live URL lost the ingress port"
    # `ready` means the server answers now, through the ingress, by host name.
    assert await _answers(front), "ready, but the store does not answer through the ingress"
    assert _store_pods(realnode, store), "no pod of the store runs on the real node"

    creds = await platform.credentials(store)
    token = await shopper.admin_token(front, creds["username"], creds["password"])
    key = await shopper.publishable_key(front, token)
    email = f"{store}@example.com"
    order = await shopper.place_order(front, key, email)
    ordered_after = time.monotonic() - started
    # `email` is not among the admin API's default order fields.
    seen = (await shopper.admin_get(front, token, f"/orders/{order}?fields=%2Bemail"))["order"]
    assert (seen["id"], seen["email"]) == (order, email)
    print(f"\nreal medusa store: ready after {ready_after:.0f}s, order after {ordered_after:.0f}s")

    await _isolated(realnode, realnode_kube, store)

    volumes = _store_volumes(realnode, store)
    assert volumes, "the store's volumes are not on the node"
    uids = _pod_uids(realnode, store)
    assert _pod_cgroups(uids), "the store's pods have no cgroups: what would the check prove?"
    await platform.delete(store)
    await platform.wait_phase([store], "deleted", within=300)

    async def nothing_left() -> bool:
        return not (
            _store_pods(realnode, store)
            or _store_containers(realnode, store)
            or _store_volumes(realnode, store)
            or _pod_cgroups(uids)
        )

    await eventually(
        nothing_left, 180, interval=0.5, what="the store's pods, containers, volumes, cgroups gone"
    )
    assert not await _answers(front), "a deleted store still answers"
