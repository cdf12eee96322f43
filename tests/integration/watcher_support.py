"""Helpers for the watcher's devcluster tests: store objects labelled the way the
provisioner labels them (applied here with server-side apply, independent of the
provisioner's code), status patches that inject failures, and a status log read
from URUMI_EVENTS."""

import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

from kubernetes_asyncio import client
from kubernetes_asyncio.client import ApiClient
from kubernetes_asyncio.client.exceptions import ApiException
from nats.js import JetStreamContext

from services.contracts import labels, wire
from services.contracts.events import KubeEvent, StoreStatus
from services.contracts.phases import Phase
from services.contracts.subjects import EventKind, event_subject
from services.devtools.devcluster import DevCluster
from services.devtools.natsserver import NatsServer
from tests.fixtures.jobs import fail_job
from tests.fixtures.waiting import eventually

T = TypeVar("T")
SSA: dict[str, Any] = {
    "_content_type": "application/apply-patch+yaml",
    "field_manager": "urumi-tests",
    "force": True,
}
TENANT = "acme"


def _any(body: dict[str, Any]) -> Any:
    """A plain dict request body (the API takes it; the stubs want model classes)."""
    return body


def stamp(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def watcher_env(nats: NatsServer, cluster: DevCluster) -> dict[str, str]:
    """`urumi watcher` settings for tests: short grace and resync so time rules show fast."""
    return {
        "URUMI_NATS_URL": nats.url,
        "URUMI_KUBECONFIG": str(cluster.kubeconfig),
        "URUMI_WATCHER_POD_GRACE_S": "1",
        "URUMI_WATCHER_RESYNC_S": "0.5",
    }


class Store:
    """One store's objects in namespace `store-<id>`, applied like the provisioner would."""

    def __init__(self, kube: ApiClient, prefix: str = "w") -> None:
        self.id = f"{prefix}{uuid.uuid4().hex[:8]}"
        self.ns = f"store-{self.id}"
        self.host = f"{self.id}.example.test"
        self.core = client.CoreV1Api(kube)
        self.apps = client.AppsV1Api(kube)
        self.batch = client.BatchV1Api(kube)
        self.net = client.NetworkingV1Api(kube)

    def labels(self, component: str = "") -> dict[str, str]:
        out = {
            labels.MANAGED_BY: labels.MANAGED_BY_VALUE,
            labels.STORE: self.id,
            labels.TENANT: TENANT,
            labels.ENGINE: "woocommerce",
        }
        if component:
            out[labels.COMPONENT] = component
        return out

    def meta(self, name: str, component: str) -> dict[str, Any]:
        return {"name": name, "namespace": self.ns, "labels": self.labels(component)}

    async def namespace(self, generation: int = 1, applied_ago_s: float = 0.0) -> None:
        applied = datetime.now(UTC) - timedelta(seconds=applied_ago_s)
        body = {
            "apiVersion": "v1",
            "kind": "Namespace",
            "metadata": {
                "name": self.ns,
                "labels": self.labels(),
                "annotations": {
                    labels.GENERATION: str(generation),
                    labels.APPLIED_AT: stamp(applied),
                    labels.HOST: self.host,
                },
            },
        }
        await self.core.patch_namespace(self.ns, body, **SSA)
        # Pods cannot be created before the namespace's default ServiceAccount exists.
        await eventually(
            lambda: self.core.read_namespaced_service_account("default", self.ns),
            what="default ServiceAccount",
        )

    def template(self, component: str, container: str, image: str, **spec: Any) -> Any:
        return {
            "metadata": {"labels": self.labels(component)},
            "spec": {"containers": [{"name": container, "image": image}], **spec},
        }

    async def database(self) -> None:
        body = {
            "apiVersion": "apps/v1",
            "kind": "StatefulSet",
            "metadata": self.meta("mariadb", "database"),
            "spec": {
                "serviceName": "mariadb",
                "replicas": 1,
                "selector": {"matchLabels": self.labels("database")},
                "template": self.template("database", "mariadb", "mariadb:11.4"),
            },
        }
        await self.apps.patch_namespaced_stateful_set("mariadb", self.ns, body, **SSA)

    async def web(self, **pod_spec: Any) -> None:
        body = {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": self.meta("wordpress", "web"),
            "spec": {
                "replicas": 1,
                "selector": {"matchLabels": self.labels("web")},
                "template": self.template("web", "wordpress", "wordpress:6.8-apache", **pod_spec),
            },
        }
        await self.apps.patch_namespaced_deployment("wordpress", self.ns, body, **SSA)

    async def setup_job(self, **pod_spec: Any) -> None:
        template = self.template("setup", "wp", "wordpress:cli", restartPolicy="Never", **pod_spec)
        body = {
            "apiVersion": "batch/v1",
            "kind": "Job",
            "metadata": self.meta("setup", "setup"),
            "spec": {"backoffLimit": 0, "template": template},
        }
        await self.batch.patch_namespaced_job("setup", self.ns, body, **SSA)

    async def ingress(self) -> None:
        backend = {"service": {"name": "wordpress", "port": {"number": 80}}}
        path = {"path": "/", "pathType": "Prefix", "backend": backend}
        body = {
            "apiVersion": "networking.k8s.io/v1",
            "kind": "Ingress",
            "metadata": self.meta("store", "web"),
            "spec": {"rules": [{"host": self.host, "http": {"paths": [path]}}]},
        }
        await self.net.patch_namespaced_ingress("store", self.ns, body, **SSA)

    async def everything(self) -> None:
        await self.namespace()
        await self.database()
        await self.web()
        await self.setup_job()
        await self.ingress()

    async def pod(self, component: str) -> Any:
        """The one running (or pending) pod of a component, once it exists."""

        async def find() -> Any:
            pods = await self.core.list_namespaced_pod(
                self.ns, label_selector=f"{labels.COMPONENT}={component}"
            )
            live = [p for p in pods.items if not p.metadata.deletion_timestamp]
            return live[0] if live else None

        return await eventually(find, what=f"a {component} pod")

    async def patch_pod(self, component: str, status: dict[str, Any]) -> str:
        """Patch the pod's status the way a kubelet would, once kwok has started it:
        a patch that lands before kwok's own would be overwritten by it."""
        pod = await self.pod(component)

        async def started() -> bool:
            live = await self.core.read_namespaced_pod(pod.metadata.name, self.ns)
            return bool(live.status and live.status.container_statuses)

        await eventually(started, what=f"kwok to start {pod.metadata.name}")
        await self.core.patch_namespaced_pod_status(pod.metadata.name, self.ns, {"status": status})
        name: str = pod.metadata.name
        return name

    async def fail_job(self, message: str) -> None:
        await fail_job(self.batch, "setup", self.ns, message)

    async def event(self, name: str) -> None:
        """A Kubernetes Event about the store's web Deployment, as a controller writes it."""
        now = stamp(datetime.now(UTC))
        body = {
            "metadata": {"name": name, "namespace": self.ns},
            "involvedObject": {"kind": "Deployment", "name": "wordpress", "namespace": self.ns},
            "reason": "Storm",
            "message": f"event {name}",
            "type": "Warning",
            "firstTimestamp": now,
            "lastTimestamp": now,
            "count": 1,
        }
        await self.core.create_namespaced_event(self.ns, _any(body))

    async def delete(self) -> None:
        try:
            await self.core.delete_namespace(self.ns)
        except ApiException as exc:
            if exc.status != 404:
                raise


def not_ready(container: str, image: str, waiting: dict[str, Any], **extra: Any) -> Any:
    """A pod status with one container stuck waiting (as the kubelet reports it)."""
    cond = [
        {"type": "Ready", "status": "False", "reason": "ContainersNotReady"},
        {"type": "ContainersReady", "status": "False", "reason": "ContainersNotReady"},
    ]
    state = {"name": container, "image": image, "imageID": "", "ready": False, "restartCount": 0}
    return {
        "conditions": cond,
        "containerStatuses": [{**state, "state": {"waiting": waiting}, **extra}],
    }


def ready_again(container: str, image: str) -> Any:
    now = stamp(datetime.now(UTC))
    return {
        "phase": "Running",
        "conditions": [
            {"type": "Ready", "status": "True", "lastTransitionTime": now},
            {"type": "ContainersReady", "status": "True", "lastTransitionTime": now},
        ],
        "containerStatuses": [
            {
                "name": container,
                "image": image,
                "imageID": "",
                "ready": True,
                "restartCount": 0,
                "state": {"running": {"startedAt": now}},
            },
        ],
    }


class StatusLog:
    """Every StoreStatus (and KubeEvent) of one store on URUMI_EVENTS, in stream order."""

    def __init__(self, js: JetStreamContext, store: str) -> None:
        self.js = js
        self.store = store
        self.statuses: list[StoreStatus] = []
        self.kube: list[KubeEvent] = []

    async def start(self) -> "StatusLog":
        for kind in (EventKind.STATUS, EventKind.KUBE):
            await self.js.subscribe(
                event_subject(TENANT, self.store, kind), cb=self._on, ordered_consumer=True
            )
        return self

    async def _on(self, msg: Any) -> None:
        event = wire.decode_event(msg.data)
        if isinstance(event, StoreStatus):
            self.statuses.append(event)
        elif isinstance(event, KubeEvent):
            self.kube.append(event)

    def phases(self) -> list[Phase]:
        """Phases in order, repeats folded."""
        out: list[Phase] = []
        for s in self.statuses:
            if not out or out[-1] != s.phase:
                out.append(s.phase)
        return out

    async def wait(
        self, check: Callable[[StoreStatus], bool], within: float = 60.0, what: str = ""
    ) -> StoreStatus:
        async def probe() -> StoreStatus | None:
            return next((s for s in reversed(self.statuses) if check(s)), None)

        return await eventually(probe, within=within, what=what or f"status of {self.store}")

    async def phase(self, phase: Phase, within: float = 60.0) -> StoreStatus:
        async def latest() -> StoreStatus | None:
            last = self.statuses[-1] if self.statuses else None
            return last if last is not None and last.phase == phase else None

        what = f"{self.store} {phase} (phases so far {self.phases()})"
        return await eventually(latest, within=within, what=what)
