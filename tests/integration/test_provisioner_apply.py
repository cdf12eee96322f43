"""The provisioner in-process against real NATS and the devcluster: create,
no second apply of a repeated command, prune, delete, credentials, stale and
invalid commands."""

import base64
import shutil
from pathlib import Path

import msgspec
from kubernetes_asyncio.client import (
    ApiClient,
    AppsV1Api,
    BatchV1Api,
    CoreV1Api,
    NetworkingV1Api,
)
from nats.aio.client import Client
from nats.js import JetStreamContext

from services.contracts import labels
from services.contracts.credentials import CredentialsReply, CredentialsRequest
from services.contracts.events import StepState
from services.contracts.phases import Phase
from services.contracts.store import Plan
from services.contracts.streams import COMMANDS
from services.contracts.subjects import credentials_subject
from services.contracts.wire import encode
from services.devtools.devcluster import DevCluster
from services.devtools.natsserver import NatsServer
from services.provisioner.engines import DEFAULT_CHARTS
from tests.fixtures.waiting import eventually
from tests.integration import provisioner_support as ps
from tests.integration.provisioner_support import ProgressLog


async def provisioned(progress: ProgressLog, store: str, generation: int = 1) -> None:
    await eventually(
        lambda: (
            progress.has(store, "provision", StepState.SUCCEEDED, generation)
            or progress.has(store, "provision", StepState.FAILED, generation)
        ),
        within=90,
        what=f"{store} generation {generation} handled",
    )
    failed = [e.message for e in progress.of(store) if e.state == StepState.FAILED]
    assert not failed, failed


async def test_create_applies_every_object(
    js: JetStreamContext,
    kube: ApiClient,
    progress: ProgressLog,
    provisioner: None,
    stores: list[str],
) -> None:
    store = ps.store_id()
    stores.append(store)
    await ps.publish(js, ps.create(store, 1, Plan.MEDIUM))
    await provisioned(progress, store)
    ns = f"store-{store}"
    core, apps, net = CoreV1Api(kube), AppsV1Api(kube), NetworkingV1Api(kube)

    namespace = await core.read_namespace(ns)
    assert namespace.metadata.annotations[labels.GENERATION] == "1"
    assert namespace.metadata.annotations[labels.HOST] == f"{store}.{ps.BASE_DOMAIN}"
    assert namespace.metadata.labels["pod-security.kubernetes.io/enforce"] == "restricted"
    quota = await core.read_namespaced_resource_quota("store-quota", ns)
    assert quota.spec.hard["limits.cpu"] == "4"
    limits = await core.read_namespaced_limit_range("store-limits", ns)
    assert limits.spec.limits[0].max == {"cpu": "2", "memory": "2Gi"}
    policies = {p.metadata.name for p in (await net.list_namespaced_network_policy(ns)).items}
    assert policies == {
        "default-deny",
        "web-from-ingress-controller",
        "database-from-web",
        "web-egress",
        "backup-egress",
    }
    web = await apps.read_namespaced_deployment("wordpress", ns)
    assert web.spec.template.spec.containers[0].readiness_probe.http_get.path == "/wp-login.php"
    assert web.spec.template.spec.containers[0].liveness_probe is not None
    db = await apps.read_namespaced_stateful_set("mariadb", ns)
    assert db.metadata.labels[labels.COMPONENT] == "database"
    assert (await net.read_namespaced_ingress("wordpress", ns)).spec.rules[0].host.startswith(store)
    for kind_list in (
        core.list_namespaced_service(ns),
        core.list_namespaced_persistent_volume_claim(ns),
        apps.list_namespaced_deployment(ns),
        BatchV1Api(kube).list_namespaced_job(ns),
    ):
        for item in (await kind_list).items:
            assert item.metadata.labels[labels.STORE] == store
            assert item.metadata.labels[labels.TENANT] == ps.TENANT
            assert item.metadata.labels[labels.MANAGED_BY] == "urumi"
    await eventually(lambda: ps.tiers_ready(kube, store), within=120, what="pods Ready")

    phases = [e.phase for e in progress.of(store) if e.phase]
    assert phases == [Phase.PROVISIONING]
    steps = {(e.step, e.state) for e in progress.of(store)}
    assert {("render", StepState.SUCCEEDED), ("secret", StepState.SUCCEEDED)} <= steps


async def test_credentials_for_the_owner_only(
    nc: Client,
    js: JetStreamContext,
    kube: ApiClient,
    progress: ProgressLog,
    provisioner: None,
    stores: list[str],
) -> None:
    store = ps.store_id()
    stores.append(store)
    await ps.publish(js, ps.create(store))
    await provisioned(progress, store)
    data = await ps.secret_data(kube, store)

    async def ask(tenant: str, name: str) -> CredentialsReply:
        req = encode(CredentialsRequest(tenant=tenant, store=name))
        msg = await nc.request(credentials_subject(tenant, name), req, timeout=5)
        return msgspec.json.decode(msg.data, type=CredentialsReply)

    reply = await ask(ps.TENANT, store)
    assert reply.error == ""
    assert reply.username == "admin"
    assert reply.password == base64.b64decode(data["wordpress-admin-password"]).decode()
    assert reply.admin_url == f"http://{store}.{ps.BASE_DOMAIN}/wp-admin/"
    other = await ask("someone-else", store)
    assert other.error
    assert other.password == ""
    missing = await ask(ps.TENANT, "never-made")
    assert "no credentials" in missing.error
    # Never on a stream: the progress log carries no password.
    assert reply.password not in repr(progress.events)


async def test_a_command_delivered_again_is_not_applied_again(
    js: JetStreamContext,
    kube: ApiClient,
    progress: ProgressLog,
    provisioner: None,
    stores: list[str],
) -> None:
    store = ps.store_id()
    stores.append(store)
    cmd = ps.create(store)
    await ps.publish(js, cmd)
    await provisioned(progress, store)
    before = await ps.secret_data(kube, store)
    ns_before = await ps.namespace_or_none(kube, store)
    # A redelivery past the duplicate window, or a command an unclean nats-server
    # stop brought back onto the queue, looks like this: a new message id.
    await ps.publish(js, cmd, msg_id=f"{cmd.command_id}-again")

    async def queue_empty() -> bool:
        return (await js.stream_info(COMMANDS.name)).state.messages == 0

    await eventually(queue_empty, within=30, what="the repeat taken off the queue")
    runs = [e for e in progress.of(store) if e.step == "provision" and e.state == StepState.STARTED]
    assert len(runs) == 1, "applied twice"
    assert await ps.secret_data(kube, store) == before
    ns_after = await ps.namespace_or_none(kube, store)
    assert ns_after.metadata.annotations == ns_before.metadata.annotations


async def test_new_generation_prunes_what_it_no_longer_renders(
    js: JetStreamContext,
    kube: ApiClient,
    progress: ProgressLog,
    provisioner: None,
    stores: list[str],
) -> None:
    store = ps.store_id()
    stores.append(store)
    batch = BatchV1Api(kube)
    await ps.publish(js, ps.create(store, 1, Plan.SMALL))
    await provisioned(progress, store, 1)
    (old_job,) = (await batch.list_namespaced_job(f"store-{store}")).items
    core = CoreV1Api(kube)

    async def claims() -> dict[str, str]:
        pvcs = await core.list_namespaced_persistent_volume_claim(f"store-{store}")
        found = {p.metadata.name: p.metadata.uid for p in pvcs.items}
        return found if {"data-mariadb-0", "wordpress"} <= found.keys() else {}

    # The database's claim comes from the StatefulSet controller, in its own time.
    volumes = await eventually(claims, within=60, what="both PersistentVolumeClaims")
    # A new display name changes the setup Job's pod template, so its name.
    await ps.publish(js, ps.create(store, 2, Plan.SMALL, name="Renamed"))
    await provisioned(progress, store, 2)

    async def one_new_job() -> bool:
        jobs = (await batch.list_namespaced_job(f"store-{store}")).items
        live = [j for j in jobs if not j.metadata.deletion_timestamp]
        return len(live) == 1 and live[0].metadata.name != old_job.metadata.name

    await eventually(one_new_job, within=30, what="old setup Job pruned")
    assert progress.has(store, "prune", StepState.SUCCEEDED, 2)
    # The claims (one the StatefulSet controller's, not ours) are kept, not recreated.
    assert await claims() == volumes


def release_one_charts(into: Path) -> Path:
    """The store charts as an earlier release had them: the plan label was also on
    the database's volume claim template, which a StatefulSet keeps for life."""
    shutil.copytree(DEFAULT_CHARTS, into)
    database = into / "woocommerce" / "templates" / "database.yaml"
    text = database.read_text()
    assert '"woocommerce.stableLabels"' in text
    database.write_text(text.replace('"woocommerce.stableLabels"', '"woocommerce.componentLabels"'))
    return into


async def test_a_statefulset_change_kubernetes_forbids_replaces_it_keeping_pod_and_volume(
    nats_server: NatsServer,
    devcluster: DevCluster,
    js: JetStreamContext,
    kube: ApiClient,
    progress: ProgressLog,
    stores: list[str],
    tmp_path: Path,
) -> None:
    """A platform upgrade whose chart changes a StatefulSet's volume claim template:
    the next apply replaces the StatefulSet, its pod and claim orphaned, then adopted."""
    store = ps.store_id()
    stores.append(store)
    ns = f"store-{store}"
    apps, core = AppsV1Api(kube), CoreV1Api(kube)
    old_charts = release_one_charts(tmp_path / "charts")
    settings = ps.settings(nats_server.url, devcluster.kubeconfig, charts_dir=str(old_charts))
    async with ps.running(settings):
        await ps.publish(js, ps.create(store, 1, Plan.SMALL))
        await provisioned(progress, store, 1)

    async def database_pod() -> str | None:
        selector = f"{labels.COMPONENT}=database"
        pods = (await core.list_namespaced_pod(ns, label_selector=selector)).items
        return pods[0].metadata.uid if pods else None

    await eventually(database_pod, within=60, what="the database pod")
    claim = (await core.read_namespaced_persistent_volume_claim("data-mariadb-0", ns)).metadata.uid
    old = (await apps.read_namespaced_stateful_set("mariadb", ns)).metadata.uid

    async with ps.running(ps.settings(nats_server.url, devcluster.kubeconfig)):
        await ps.publish(js, ps.create(store, 2, Plan.MEDIUM, storage_plan=Plan.SMALL))
        await provisioned(progress, store, 2)
    new = await apps.read_namespaced_stateful_set("mariadb", ns)
    assert new.metadata.uid != old
    [template] = new.spec.volume_claim_templates
    assert "urumi.dev/plan" not in template.metadata.labels

    async def adopted() -> bool:
        refs = (await core.read_namespaced_pod("mariadb-0", ns)).metadata.owner_references or []
        return [r.uid for r in refs] == [new.metadata.uid]

    await eventually(adopted, within=60, what="the pod adopted by the new StatefulSet")
    kept = await core.read_namespaced_persistent_volume_claim("data-mariadb-0", ns)
    assert kept.metadata.uid == claim, "the database's volume was replaced"


async def test_delete_removes_the_namespace(
    js: JetStreamContext,
    kube: ApiClient,
    progress: ProgressLog,
    provisioner: None,
    stores: list[str],
) -> None:
    store = ps.store_id()
    stores.append(store)
    await ps.publish(js, ps.create(store, 1))
    await provisioned(progress, store)
    await ps.publish(js, ps.delete(store, 2))
    await eventually(lambda: progress.has(store, "delete", StepState.STARTED, 2), within=30)
    deleting = [e for e in progress.of(store) if e.phase == Phase.DELETING]
    assert deleting
    assert deleting[0].generation == 2

    async def gone() -> bool:
        return await ps.namespace_or_none(kube, store) is None

    await eventually(gone, within=120, what="namespace deleted")


async def test_delete_of_a_never_provisioned_store_is_harmless(
    js: JetStreamContext,
    progress: ProgressLog,
    provisioner: None,
) -> None:
    store = ps.store_id("ghost")
    await ps.publish(js, ps.delete(store, 2))
    await eventually(lambda: progress.has(store, "delete", StepState.SUCCEEDED), within=30)
    phases = [e.phase for e in progress.of(store) if e.phase]
    assert phases == [Phase.DELETING, Phase.DELETED]


async def test_stale_generation_is_dropped(
    js: JetStreamContext,
    kube: ApiClient,
    progress: ProgressLog,
    provisioner: None,
    stores: list[str],
) -> None:
    store = ps.store_id()
    stores.append(store)
    await ps.publish(js, ps.create(store, 3, Plan.MEDIUM))
    await provisioned(progress, store, 3)
    await ps.publish(js, ps.create(store, 2, Plan.SMALL))
    marker = ps.store_id("marker")  # a later command: once it is done, gen 2 was seen
    await ps.publish(js, ps.delete(marker, 1))
    await eventually(lambda: progress.has(marker, "delete", StepState.SUCCEEDED), within=30)
    assert not any(e.generation == 2 for e in progress.of(store))
    ns = await ps.namespace_or_none(kube, store)
    assert ns.metadata.annotations[labels.GENERATION] == "3"
    assert ns.metadata.labels["urumi.dev/plan"] == "medium"


async def test_invalid_chart_value_fails_with_an_actionable_message(
    nats_server: NatsServer,
    devcluster: DevCluster,
    js: JetStreamContext,
    progress: ProgressLog,
    kube: ApiClient,
) -> None:
    bad = ps.settings(nats_server.url, devcluster.kubeconfig, ingress_class="Public_Nginx")
    store = ps.store_id()
    async with ps.running(bad):
        await ps.publish(js, ps.create(store))
        await eventually(lambda: progress.has(store, "provision", StepState.FAILED), within=30)
    (failed,) = [e for e in progress.of(store) if e.state == StepState.FAILED]
    assert failed.phase == Phase.FAILED
    assert "'/ingress/className': 'Public_Nginx' does not match pattern" in failed.message
    assert "comes from URUMI_INGRESS_CLASS" in failed.message
    # Nothing half-made: values are checked before anything is applied.
    assert await ps.namespace_or_none(kube, store) is None


async def test_delete_does_not_leave_the_namespace_controller_waiting_for_pods(
    js: JetStreamContext,
    kube: ApiClient,
    progress: ProgressLog,
    provisioner: None,
    stores: list[str],
) -> None:
    """The store's pods and claims are released with the namespace: the
    namespace controller never finds pods to wait for (their grace period would
    hold the namespace ~16 s more) nor claims held by their finalizer."""
    store = ps.store_id()
    stores.append(store)
    await ps.publish(js, ps.create(store, 1))
    await provisioned(progress, store)

    async def running() -> bool:
        return await _pods_running(kube, store)

    await eventually(running, within=60, what="the store's pods running")
    await ps.publish(js, ps.delete(store, 2))
    remaining: set[str] = set()

    async def gone() -> bool:
        ns = await ps.namespace_or_none(kube, store)
        for cond in (ns and ns.status and ns.status.conditions) or []:
            if cond.status == "True" and cond.type.startswith("NamespaceContent"):
                remaining.add(cond.message)
        return ns is None

    await eventually(gone, within=120, interval=0.1, what="namespace deleted")
    waited = [m for m in remaining if "pods" in m or "persistentvolumeclaims" in m]
    assert not waited, waited


async def _pods_running(kube: ApiClient, store: str) -> bool:
    pods = (await CoreV1Api(kube).list_namespaced_pod(f"store-{store}")).items
    return bool(pods) and all(p.status.phase in ("Running", "Succeeded") for p in pods)
