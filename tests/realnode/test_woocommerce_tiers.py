"""A WooCommerce store's database and web tier, running for real: the shop
answers through the ingress by its host name, the chart's security context is
what the kernel enforces, a crashed web container is seen `degraded` and then
`ready` again by real probes, and the database keeps its data across a pod
restart. The setup Job is left out on this node (operator values
`setup.enabled: false`): wp-cli and the WooCommerce plugin cannot be fetched."""

import asyncio
import time

from kubernetes_asyncio.client import ApiClient, CoreV1Api

from services.devtools.realnode import RealNode
from tests.faults.platform import PlatformHarness, new_id
from tests.realnode import isolation, wordpress
from tests.realnode.shopper import Storefront

READY_WITHIN_S = 600.0  # cold: MariaDB's first initialisation on 2 cores
RECOVER_WITHIN_S = 240.0
WEB_UID, DB_UID = 33, 999  # www-data and mysql, as in the official images


def _hardened(facts: wordpress.ProcessFacts, uid: int) -> None:
    assert facts.uids == {uid}, f"runs as {facts.uids}, not only {uid}"
    assert facts.caps == {"CapEff": 0, "CapPrm": 0, "CapBnd": 0}, facts.caps
    assert facts.no_new_privs and facts.seccomp_filtered, facts
    assert "Read-only file system" in facts.root_write_error, facts.root_write_error


async def _isolated(node: RealNode, kube: ApiClient, store: str, web_ip: str) -> None:
    """Another namespace's pod reaches neither tier (the web tier only through
    the ingress, which the shop's answers above prove)."""
    _, db_ip = await isolation.pod_ip(kube, f"store-{store}", "database")
    probes = await isolation.Probes(kube, node, f"probe-{store}").start()
    try:
        assert await asyncio.to_thread(probes.connects, "a", probes.ips["b"], isolation.PROBE_PORT)
        assert not await asyncio.to_thread(probes.connects, "a", db_ip, 3306)
        assert not await asyncio.to_thread(probes.connects, "a", web_ip, 80)
    finally:
        await probes.stop()


async def _restarts(kube: ApiClient, namespace: str, pod: str) -> int:
    found = await CoreV1Api(kube).read_namespaced_pod(pod, namespace)
    return sum(c.restart_count for c in found.status.container_statuses or [])


async def test_woocommerce_tiers_run_heal_and_keep_their_data(
    platform: PlatformHarness, realnode: RealNode, realnode_kube: ApiClient
) -> None:
    store, started = new_id("wp"), time.monotonic()
    assert platform.nc is not None
    phases = await wordpress.Phases().follow(platform.nc, platform.tenant, store)
    created = await platform.create(store, engine="woocommerce")
    front = Storefront(url=created["url"], ingress=realnode.ingress_url)
    namespace = f"store-{store}"
    await platform.wait_phase([store], "ready", within=READY_WITHIN_S)
    print(f"\nreal woocommerce tiers: ready after {time.monotonic() - started:.0f}s")

    # Through Traefik by host name: WordPress (PHP on Apache) with its database,
    # installed by its owner with the platform's admin credentials.
    creds = await platform.credentials(store)
    title = f"Shop {store}"
    await wordpress.install(front, title, creds["username"], creds["password"], "o@shops.test")
    assert await wordpress.serves(front, title), await wordpress.served_title(front)

    web, web_ip = await isolation.pod_ip(realnode_kube, namespace, "web")
    _hardened(wordpress.process_facts(realnode, namespace, web, "wordpress"), WEB_UID)
    _hardened(wordpress.process_facts(realnode, namespace, "mariadb-0", "mariadb"), DB_UID)
    await _isolated(realnode, realnode_kube, store, web_ip)

    # A crash of the web container: the kubelet restarts it, the readiness
    # probe holds it out until Apache answers again, the watcher follows.
    mark = len(phases.seen)
    wordpress.kill_container(realnode, namespace, web, "wordpress")
    await phases.sequence(mark, ["degraded", "ready"], RECOVER_WITHIN_S)
    assert await _restarts(realnode_kube, namespace, web) >= 1
    assert await wordpress.serves(front, title), "the shop did not come back"

    # The database pod replaced: a new pod on the same volume, the same site.
    core = CoreV1Api(realnode_kube)
    before = (await core.read_namespaced_pod("mariadb-0", namespace)).metadata.uid
    mark = len(phases.seen)
    await core.delete_namespaced_pod("mariadb-0", namespace)
    await phases.sequence(mark, ["degraded", "ready"], RECOVER_WITHIN_S)
    after = (await core.read_namespaced_pod("mariadb-0", namespace)).metadata.uid
    assert after != before, "the database pod was not replaced"
    assert await wordpress.serves(front, title), "the site lost its data"

    await platform.delete(store)
    await platform.wait_phase([store], "deleted", within=300)
