"""A Medusa store end to end on the devcluster and a real nats-server: the
provisioner (in process, as its own integration tests run it) applies the
chart, kwok makes the pods Ready and the Job complete, the watcher (a real
process) reports `ready`; a delete removes the namespace and the watcher
reports `deleted`. Kwok runs no container: this proves the objects, labels and
status derivation, not Medusa itself (deploy/kind/smoke.sh --engine medusa does)."""

import base64
import uuid
from datetime import UTC, datetime
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
from services.contracts.commands import CreateStore
from services.contracts.credentials import CredentialsReply, CredentialsRequest
from services.contracts.events import StepState
from services.contracts.phases import Phase
from services.contracts.store import Engine, Plan, StoreSpec
from services.contracts.subjects import credentials_subject
from services.contracts.wire import encode
from services.devtools.devcluster import DevCluster
from services.devtools.natsserver import NatsServer
from tests.fixtures.processes import StartService
from tests.fixtures.waiting import eventually
from tests.integration import provisioner_support as ps
from tests.integration.provisioner_support import ProgressLog
from tests.integration.watcher_support import StatusLog


def create_medusa(store: str, plan: Plan = Plan.SMALL) -> CreateStore:
    return CreateStore(
        command_id=str(uuid.uuid4()),
        generation=1,
        issued_at=datetime.now(UTC),
        actor="tests",
        spec=StoreSpec(
            id=store, tenant=ps.TENANT, engine=Engine.MEDUSA, plan=plan, display_name="Medusa"
        ),
    )


def watcher_env(nats: NatsServer, cluster: DevCluster) -> dict[str, str]:
    return {
        "URUMI_NATS_URL": nats.url,
        "URUMI_KUBECONFIG": str(Path(cluster.kubeconfig)),
        "URUMI_WATCHER_RESYNC_S": "0.5",
    }


async def medusa_tiers_ready(kube: ApiClient, store: str) -> bool:
    ns = f"store-{store}"
    apps, batch = AppsV1Api(kube), BatchV1Api(kube)
    db = await apps.read_namespaced_stateful_set("postgres", ns)
    deployments = [
        await apps.read_namespaced_deployment(name, ns)
        for name in ("redis", "medusa-server", "medusa-worker")
    ]
    jobs = (await batch.list_namespaced_job(ns)).items
    return bool(
        (db.status.ready_replicas or 0) == 1
        and all((d.status.available_replicas or 0) == 1 for d in deployments)
        and len(jobs) == 1
        and (jobs[0].status.succeeded or 0) == 1
    )


async def test_create_ready_credentials_delete(
    nc: Client,
    js: JetStreamContext,
    kube: ApiClient,
    nats_server: NatsServer,
    devcluster: DevCluster,
    progress: ProgressLog,
    provisioner: None,
    stores: list[str],
    start_service: StartService,  # last: its processes stop before NATS does
) -> None:
    start_service("watcher", watcher_env(nats_server, devcluster))
    store = ps.store_id("medusa")
    stores.append(store)
    log = await StatusLog(js, store).start()
    await ps.publish(js, create_medusa(store, Plan.MEDIUM))

    await eventually(
        lambda: (
            progress.has(store, "provision", StepState.SUCCEEDED, 1)
            or progress.has(store, "provision", StepState.FAILED, 1)
        ),
        within=90,
        what=f"{store} provisioned",
    )
    failed = [e.message for e in progress.of(store) if e.state == StepState.FAILED]
    assert not failed, failed

    # -- every object applied, labelled, isolated ---------------------------------
    ns = f"store-{store}"
    core, apps, net = CoreV1Api(kube), AppsV1Api(kube), NetworkingV1Api(kube)
    namespace = await core.read_namespace(ns)
    assert namespace.metadata.labels[labels.ENGINE] == "medusa"
    assert namespace.metadata.labels["pod-security.kubernetes.io/enforce"] == "restricted"
    assert namespace.metadata.annotations[labels.HOST] == f"{store}.{ps.BASE_DOMAIN}"
    quota = await core.read_namespaced_resource_quota("store-quota", ns)
    assert quota.spec.hard["limits.cpu"] == "6"
    assert quota.spec.hard["limits.memory"] == "6Gi"
    limits = await core.read_namespaced_limit_range("store-limits", ns)
    assert limits.spec.limits[0].max == {"cpu": "2", "memory": "2Gi"}
    policies = {p.metadata.name for p in (await net.list_namespaced_network_policy(ns)).items}
    assert policies == {
        "default-deny",
        "web-from-ingress-controller",
        "database-from-app",
        "cache-from-app",
        "app-egress",
        "app-internet-egress",
    }
    components = {
        "postgres": "database",
        "redis": "cache",
        "medusa-server": "web",
        "medusa-worker": "worker",
    }
    assert (await apps.read_namespaced_stateful_set("postgres", ns)).metadata.labels[
        labels.COMPONENT
    ] == "database"
    for name in ("redis", "medusa-server", "medusa-worker"):
        d = await apps.read_namespaced_deployment(name, ns)
        assert d.metadata.labels[labels.COMPONENT] == components[name]
    server = await apps.read_namespaced_deployment("medusa-server", ns)
    env = {e.name: e.value for e in server.spec.template.spec.containers[0].env}
    assert env["MEDUSA_WORKER_MODE"] == "server"
    worker = await apps.read_namespaced_deployment("medusa-worker", ns)
    env = {e.name: e.value for e in worker.spec.template.spec.containers[0].env}
    assert env["MEDUSA_WORKER_MODE"] == "worker"
    ingress = await net.read_namespaced_ingress("medusa", ns)
    assert ingress.spec.rules[0].host == f"{store}.{ps.BASE_DOMAIN}"
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

    # -- the Secret the chart references, generated once ---------------------------
    secret = await ps.secret_data(kube, store)
    assert set(secret) == {
        "postgres-password",
        "redis-password",
        "medusa-jwt-secret",
        "medusa-cookie-secret",
        "medusa-admin-email",
        "medusa-admin-password",
    }

    # -- pods Ready (kwok), watcher says ready ------------------------------------
    await eventually(lambda: medusa_tiers_ready(kube, store), within=120, what="pods Ready")
    ready = await log.phase(Phase.READY, within=120)
    assert ready.url == f"http://{store}.{ps.BASE_DOMAIN}"
    assert {c.type: c.status for c in ready.conditions} == {
        "NamespaceReady": "True",
        "DatabaseReady": "True",
        "WebReady": "True",
        "StoreConfigured": "True",
        "Routable": "True",
    }
    web = next(c for c in ready.conditions if c.type == "WebReady")
    assert "medusa-server" in web.message and "medusa-worker" in web.message
    database = next(c for c in ready.conditions if c.type == "DatabaseReady")
    assert "postgres" in database.message and "redis" in database.message
    assert Phase.FAILED not in log.phases()

    # -- credentials: the admin email and password, the dashboard URL --------------
    request = CredentialsRequest(tenant=ps.TENANT, store=store)
    msg = await nc.request(credentials_subject(ps.TENANT, store), encode(request), timeout=10)
    reply = msgspec.json.decode(msg.data, type=CredentialsReply)
    assert reply.error == ""
    assert reply.username == base64.b64decode(secret["medusa-admin-email"]).decode()
    assert reply.password == base64.b64decode(secret["medusa-admin-password"]).decode()
    assert reply.admin_url == f"http://{store}.{ps.BASE_DOMAIN}/app/"

    # -- delete: namespace gone, watcher says deleted ------------------------------
    await ps.publish(js, ps.delete(store, 2))
    await log.phase(Phase.DELETED, within=180)
    assert await ps.namespace_or_none(kube, store) is None
