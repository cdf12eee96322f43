"""The devcluster is real Kubernetes: these behaviours come from the actual
kube-apiserver, controllers and scheduler; only the node and its pods are
simulated (kwok). No fixed sleeps: every wait polls against a deadline."""

import asyncio
import contextlib
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, TypeVar

import pytest
from kubernetes_asyncio import client, watch
from kubernetes_asyncio.client import ApiClient
from kubernetes_asyncio.client.exceptions import ApiException

from tests.fixtures.waiting import eventually

T = TypeVar("T")

APPLY = "application/apply-patch+yaml"
MANAGER = "urumi-tests"
# The stubs of kubernetes_asyncio omit `_content_type`; the runtime accepts it.
SSA: dict[str, Any] = {"_content_type": APPLY, "field_manager": MANAGER, "force": True}
IMAGE = "registry.invalid/never-pulled:1"  # no container ever runs


async def consistently(
    probe: Callable[[], Awaitable[bool]], *, duration: float = 3.0, interval: float = 0.2
) -> None:
    """Assert ``probe`` stays true for ``duration`` seconds, polling."""
    deadline = time.monotonic() + duration
    while time.monotonic() < deadline:
        assert await probe()
        await asyncio.sleep(interval)


@pytest.fixture
async def namespace(kube: ApiClient) -> AsyncIterator[str]:
    name = f"dc-{uuid.uuid4().hex[:10]}"
    core = client.CoreV1Api(kube)
    await core.create_namespace(manifest({"metadata": {"name": name}}))
    # Pods need the namespace's "default" ServiceAccount (service-account controller).
    await eventually(
        lambda: core.read_namespaced_service_account("default", name),
        what="default ServiceAccount",
    )
    yield name
    try:
        await core.delete_namespace(name)
    except ApiException as exc:
        if exc.status != 404:
            raise


def manifest(obj: dict[str, Any]) -> Any:
    """A plain dict body (the API accepts it; the stubs want model classes)."""
    return obj


def pod_template(labels: dict[str, str], **spec: Any) -> dict[str, Any]:
    return {
        "metadata": {"labels": labels},
        "spec": {
            "containers": [
                {"name": "app", "image": IMAGE, "resources": {"requests": {"cpu": "100m"}}}
            ],
            **spec,
        },
    }


def deployment(name: str, replicas: int) -> dict[str, Any]:
    labels = {"app": name}
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "labels": labels},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": labels},
            "template": pod_template(labels),
        },
    }


def condition(obj: Any, kind: str) -> str | None:
    for cond in obj.status.conditions or []:
        if cond.type == kind:
            status: str = cond.status
            return status
    return None


def pod_ready(pod: Any) -> bool:
    return pod.status.phase == "Running" and condition(pod, "Ready") == "True"


async def test_server_side_apply_deployment_becomes_available(
    kube: ApiClient, namespace: str
) -> None:
    apps = client.AppsV1Api(kube)
    core = client.CoreV1Api(kube)
    body = deployment("web", 2)
    applied = await apps.patch_namespaced_deployment("web", namespace, body, **SSA)
    managers = {(m.manager, m.operation) for m in applied.metadata.managed_fields}
    assert (MANAGER, "Apply") in managers

    async def available() -> Any:
        dep = await apps.read_namespaced_deployment_status("web", namespace)
        ok = dep.status.available_replicas == 2 and condition(dep, "Available") == "True"
        return dep if ok else None

    await eventually(available, what="Deployment Available")
    pods = await core.list_namespaced_pod(namespace, label_selector="app=web")
    assert len(pods.items) == 2
    assert all(pod_ready(p) for p in pods.items)
    assert all(p.spec.node_name for p in pods.items)  # placed by kube-scheduler

    # Field ownership is enforced: another manager changing our field conflicts...
    other = {**body, "spec": {**body["spec"], "replicas": 3}}
    with pytest.raises(ApiException) as conflict:
        await apps.patch_namespaced_deployment(
            "web", namespace, other, **{**SSA, "field_manager": "someone-else", "force": False}
        )
    assert conflict.value.status == 409
    # ...and re-applying our own config is idempotent (no new generation).
    again = await apps.patch_namespaced_deployment("web", namespace, body, **SSA)
    assert again.metadata.generation == applied.metadata.generation


async def test_job_completes(kube: ApiClient, namespace: str) -> None:
    batch = client.BatchV1Api(kube)
    labels = {"job": "setup"}
    await batch.create_namespaced_job(
        namespace,
        manifest(
            {
                "apiVersion": "batch/v1",
                "kind": "Job",
                "metadata": {"name": "setup"},
                "spec": {
                    "backoffLimit": 0,
                    "template": pod_template(labels, restartPolicy="Never"),
                },
            }
        ),
    )

    async def complete() -> Any:
        job = await batch.read_namespaced_job_status("setup", namespace)
        return job if condition(job, "Complete") == "True" else None

    job = await eventually(complete, what="Job Complete")
    assert job.status.succeeded == 1
    assert not job.status.failed


async def test_statefulset_with_volume_claim_template_is_ready(
    kube: ApiClient, namespace: str
) -> None:
    apps = client.AppsV1Api(kube)
    core = client.CoreV1Api(kube)
    labels = {"app": "db"}
    await core.create_namespaced_service(
        namespace,
        manifest(
            {
                "metadata": {"name": "db"},
                "spec": {"clusterIP": "None", "selector": labels, "ports": [{"port": 3306}]},
            }
        ),
    )
    template = pod_template(labels)
    template["spec"]["containers"][0]["volumeMounts"] = [
        {"name": "data", "mountPath": "/var/lib/mysql"}
    ]
    await apps.create_namespaced_stateful_set(
        namespace,
        manifest(
            {
                "metadata": {"name": "db"},
                "spec": {
                    "serviceName": "db",
                    "replicas": 2,
                    "selector": {"matchLabels": labels},
                    "template": template,
                    "volumeClaimTemplates": [
                        {
                            "metadata": {"name": "data"},
                            "spec": {
                                "accessModes": ["ReadWriteOnce"],
                                "resources": {"requests": {"storage": "1Gi"}},
                            },
                        }
                    ],
                },
            }
        ),
    )

    async def ready() -> Any:
        sts = await apps.read_namespaced_stateful_set_status("db", namespace)
        return sts if sts.status.ready_replicas == 2 else None

    await eventually(ready, within=90, what="StatefulSet 2/2 ready")
    pvcs = await core.list_namespaced_persistent_volume_claim(namespace)
    assert sorted(p.metadata.name for p in pvcs.items) == ["data-db-0", "data-db-1"]
    assert all(p.status.phase == "Bound" for p in pvcs.items)
    assert all(p.spec.storage_class_name for p in pvcs.items)  # the default class


async def test_deployment_with_pvc_schedules(kube: ApiClient, namespace: str) -> None:
    apps = client.AppsV1Api(kube)
    core = client.CoreV1Api(kube)
    await core.create_namespaced_persistent_volume_claim(
        namespace,
        manifest(
            {
                "metadata": {"name": "uploads"},
                "spec": {
                    "accessModes": ["ReadWriteOnce"],
                    "resources": {"requests": {"storage": "2Gi"}},
                },
            }
        ),
    )
    body = deployment("wp", 1)
    body["spec"]["template"]["spec"]["volumes"] = [
        {"name": "uploads", "persistentVolumeClaim": {"claimName": "uploads"}}
    ]
    await apps.create_namespaced_deployment(namespace, manifest(body))

    async def available() -> Any:
        dep = await apps.read_namespaced_deployment_status("wp", namespace)
        return dep if dep.status.available_replicas == 1 else None

    await eventually(available, what="Deployment with PVC available")


async def test_deleting_namespace_with_objects_removes_it(kube: ApiClient) -> None:
    core = client.CoreV1Api(kube)
    apps = client.AppsV1Api(kube)
    name = f"dc-gone-{uuid.uuid4().hex[:8]}"
    await core.create_namespace(manifest({"metadata": {"name": name}}))
    await eventually(
        lambda: core.read_namespaced_service_account("default", name), what="default SA"
    )
    await core.create_namespaced_config_map(
        name, manifest({"metadata": {"name": "cfg"}, "data": {"a": "1"}})
    )
    await core.create_namespaced_secret(
        name, manifest({"metadata": {"name": "s"}, "stringData": {"k": "v"}})
    )
    await apps.create_namespaced_deployment(name, manifest(deployment("web", 2)))

    async def pods_running() -> bool:
        pods = await core.list_namespaced_pod(name)
        return len(pods.items) == 2 and all(pod_ready(p) for p in pods.items)

    await eventually(pods_running, what="pods running before delete")

    await core.delete_namespace(name)
    ns = await core.read_namespace(name)
    assert ns.status.phase == "Terminating"

    async def gone() -> bool:
        try:
            await core.read_namespace(name)
        except ApiException as exc:
            if exc.status == 404:
                return True
            raise
        return False

    await eventually(gone, within=90, what="namespace finalised")


async def test_watch_with_bookmarks_sees_added_modified_deleted(
    kube: ApiClient, namespace: str
) -> None:
    core = client.CoreV1Api(kube)
    initial = await core.list_namespaced_config_map(namespace, label_selector="watched=yes")
    events: list[tuple[str, str]] = []
    bookmarks: list[str] = []
    done = asyncio.Event()

    async def consume() -> None:
        w = watch.Watch()
        async with w:
            async for event in w.stream(
                core.list_namespaced_config_map,
                namespace,
                label_selector="watched=yes",
                resource_version=initial.metadata.resource_version,
                allow_watch_bookmarks=True,
                timeout_seconds=60,
            ):
                if event["type"] == "BOOKMARK":
                    bookmarks.append(event["raw_object"]["metadata"]["resourceVersion"])
                    continue
                events.append((event["type"], event["object"].metadata.name))
                if event["type"] == "DELETED":
                    done.set()
                    return

    task = asyncio.create_task(consume())
    try:
        await core.create_namespaced_config_map(
            namespace, manifest({"metadata": {"name": "ignored", "labels": {"watched": "no"}}})
        )
        await core.create_namespaced_config_map(
            namespace,
            manifest(
                {"metadata": {"name": "seen", "labels": {"watched": "yes"}}, "data": {"v": "1"}}
            ),
        )
        await core.patch_namespaced_config_map("seen", namespace, {"data": {"v": "2"}})
        await core.delete_namespaced_config_map("seen", namespace)
        await asyncio.wait_for(done.wait(), timeout=30)
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
    assert events == [("ADDED", "seen"), ("MODIFIED", "seen"), ("DELETED", "seen")]

    # Bookmarks are real: a watch-list stream ends its initial events with one.
    w = watch.Watch()
    async with w:
        async for event in w.stream(
            core.list_namespaced_config_map,
            namespace,
            allow_watch_bookmarks=True,
            send_initial_events=True,
            resource_version_match="NotOlderThan",
            timeout_seconds=30,
        ):
            if event["type"] == "BOOKMARK":
                meta = event["raw_object"]["metadata"]
                assert meta["annotations"]["k8s.io/initial-events-end"] == "true"
                assert int(meta["resourceVersion"]) > 0
                break
            assert event["type"] == "ADDED"
        else:
            pytest.fail("no initial-events-end bookmark")


async def test_invalid_deployment_is_rejected_with_422(kube: ApiClient, namespace: str) -> None:
    apps = client.AppsV1Api(kube)
    body = deployment("broken", 1)
    del body["spec"]["selector"]
    with pytest.raises(ApiException) as rejected:
        await apps.create_namespaced_deployment(namespace, manifest(body))
    assert rejected.value.status == 422
    assert "spec.selector" in str(rejected.value.body)


async def test_pod_status_patched_to_image_pull_backoff_is_observable_and_stays(
    kube: ApiClient, namespace: str
) -> None:
    core = client.CoreV1Api(kube)
    await core.create_namespaced_pod(
        namespace,
        manifest(
            {**pod_template({"app": "x"}), "metadata": {"name": "app", "labels": {"app": "x"}}}
        ),
    )

    async def running() -> Any:
        pod = await core.read_namespaced_pod_status("app", namespace)
        return pod if pod_ready(pod) else None

    await eventually(running, what="pod Running")

    await core.patch_namespaced_pod_status(
        "app",
        namespace,
        {
            "status": {
                "phase": "Pending",
                "conditions": [
                    {"type": "Ready", "status": "False", "reason": "ContainersNotReady"},
                    {"type": "ContainersReady", "status": "False", "reason": "ContainersNotReady"},
                ],
                "containerStatuses": [
                    {
                        "name": "app",
                        "image": IMAGE,
                        "imageID": "",
                        "ready": False,
                        "restartCount": 0,
                        "state": {
                            "waiting": {
                                "reason": "ImagePullBackOff",
                                "message": f'Back-off pulling image "{IMAGE}"',
                            }
                        },
                    }
                ],
            }
        },
    )

    async def backing_off() -> bool:
        pod = await core.read_namespaced_pod_status("app", namespace)
        statuses = pod.status.container_statuses or []
        return (
            pod.status.phase == "Pending"
            and condition(pod, "Ready") == "False"
            and len(statuses) == 1
            and statuses[0].state.waiting is not None
            and statuses[0].state.waiting.reason == "ImagePullBackOff"
        )

    await eventually(backing_off, what="ImagePullBackOff visible")
    await consistently(backing_off, duration=3.0)  # kwok does not overwrite it


async def test_rbac_is_enforced_for_service_account_tokens(kube: ApiClient, namespace: str) -> None:
    core = client.CoreV1Api(kube)
    rbac = client.RbacAuthorizationV1Api(kube)
    await core.create_namespaced_service_account(
        namespace, manifest({"metadata": {"name": "limited"}})
    )
    # TokenRequest: signed by the apiserver with the service-account key.
    request = await core.create_namespaced_service_account_token(
        "limited", namespace, manifest({"spec": {"expirationSeconds": 600}})
    )
    cfg = client.Configuration()
    cfg.host = kube.configuration.host
    cfg.ssl_ca_cert = kube.configuration.ssl_ca_cert
    cfg.api_key = {"BearerToken": f"Bearer {request.status.token}"}
    async with ApiClient(cfg) as limited:
        as_sa = client.CoreV1Api(limited)
        with pytest.raises(ApiException) as denied:
            await as_sa.list_namespaced_pod(namespace)
        assert denied.value.status == 403

        await rbac.create_namespaced_role(
            namespace,
            manifest(
                {
                    "metadata": {"name": "pod-reader"},
                    "rules": [{"apiGroups": [""], "resources": ["pods"], "verbs": ["list"]}],
                }
            ),
        )
        await rbac.create_namespaced_role_binding(
            namespace,
            manifest(
                {
                    "metadata": {"name": "limited-reads-pods"},
                    "roleRef": {
                        "apiGroup": "rbac.authorization.k8s.io",
                        "kind": "Role",
                        "name": "pod-reader",
                    },
                    "subjects": [
                        {"kind": "ServiceAccount", "name": "limited", "namespace": namespace}
                    ],
                }
            ),
        )
        await eventually(lambda: as_sa.list_namespaced_pod(namespace), what="RBAC grant")
        with pytest.raises(ApiException) as still_denied:
            await as_sa.list_namespaced_secret(namespace)
        assert still_denied.value.status == 403
