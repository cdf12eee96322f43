"""The informers against the real API server: a real 410 Gone, and least-privilege RBAC.

How a real 410 is produced: kube-apiserver serves Events without its watch cache
(`DefaultWatchCacheSizes` disables it for core and events.k8s.io Events), so a
watch of Events goes to etcd; once etcd has compacted past a resourceVersion, a
watch from it is answered with an ERROR event, code 410 ("The resourceVersion
for the provided watch is too old"). That is what a watcher meets after a long
disconnect (the apiserver compacts every 5 minutes). Here the test compacts
etcd itself (one call to its HTTP gateway) and resumes an Events informer from
a version before the compaction. Cached kinds behave alike once their watch
cache has dropped the version; that takes minutes of writes, too slow for a test.
"""

import asyncio
import uuid
from datetime import UTC, datetime
from functools import partial
from typing import Any

import httpx
import pytest
from kubernetes_asyncio import client
from kubernetes_asyncio.client import ApiClient, Configuration
from kubernetes_asyncio.client.exceptions import ApiException

from services.devtools.devcluster import DevCluster
from services.watcher import metrics
from services.watcher.informer import Informer
from services.watcher.kinds import DRIFT_KINDS, EVENT, KINDS, rbac_rules
from tests.fixtures.waiting import eventually

EVENTS = next(k for k in KINDS if k.kind == EVENT)


def body(obj: dict[str, Any]) -> Any:
    """A plain dict request body (the API takes it; the stubs want model classes)."""
    return obj


class Recorder:
    def __init__(self) -> None:
        self.lists: list[int] = []
        self.events: list[tuple[str, str]] = []
        self.items: list[dict[str, Any]] = []  # every object listed or watched
        self.objects: list[dict[str, Any]] = []  # every object watched

    def synced(self, kind: str, items: list[dict[str, Any]]) -> None:
        self.lists.append(len(items))
        self.items += items

    def event(self, kind: str, event_type: str, obj: dict[str, Any]) -> None:
        self.events.append((event_type, obj["metadata"]["name"]))
        self.objects.append(obj)


def _etcd_url(cluster: DevCluster) -> str:
    try:
        return f"http://127.0.0.1:{cluster.ports['etcd_client']}"
    except (OSError, KeyError):
        pytest.skip("needs the devcluster's own etcd (not an external cluster)")


async def _namespace(core: client.CoreV1Api) -> str:
    name = f"relist-{uuid.uuid4().hex[:8]}"
    await core.create_namespace(body({"metadata": {"name": name}}))
    return name


async def _event(core: client.CoreV1Api, namespace: str, name: str) -> None:
    now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    event = {
        "metadata": {"name": name},
        "involvedObject": {"kind": "ConfigMap", "name": "settings", "namespace": namespace},
        "reason": "Test",
        "message": "written by the relist test",
        "type": "Normal",
        "firstTimestamp": now,
        "lastTimestamp": now,
        "count": 1,
    }
    await core.create_namespaced_event(namespace, body(event))


async def test_expired_resource_version_relists(devcluster: DevCluster, kube: ApiClient) -> None:
    etcd = _etcd_url(devcluster)
    core = client.CoreV1Api(kube)
    namespace = await _namespace(core)
    await _event(core, namespace, "before-compaction")
    current = (await core.list_event_for_all_namespaces(limit=1)).metadata.resource_version
    async with httpx.AsyncClient() as http:
        answer = await http.post(
            f"{etcd}/v3/kv/compaction", json={"revision": current, "physical": True}
        )
    assert answer.status_code == 200, answer.text

    gone = metrics.LISTS.labels(EVENT, "gone")
    before = gone._value.get()
    recorder = Recorder()
    informer = Informer(kube, EVENTS, recorder, watch_timeout_s=30, resume_from="1")
    task = asyncio.create_task(informer.run(asyncio.Event()))
    try:
        await eventually(lambda: _true(informer.synced.is_set()), what="relist after 410")
        assert gone._value.get() == before + 1  # the list came from a 410, not a start
        assert recorder.lists and recorder.lists[0] >= 1
        await _event(core, namespace, "after-relist")
        await eventually(
            lambda: _true(("ADDED", "after-relist") in recorder.events),
            what="watch resumed from the relist's resourceVersion",
        )
        assert ("ADDED", "before-compaction") not in recorder.events  # it came in the list
    finally:
        task.cancel()
        await core.delete_namespace(namespace)


async def _true(value: bool) -> bool:
    return value


async def _service_account_client(kube: ApiClient, name: str) -> ApiClient:
    """A client acting as a ServiceAccount bound to the watcher's ClusterRole only."""
    core, rbac = client.CoreV1Api(kube), client.RbacAuthorizationV1Api(kube)
    await rbac.create_cluster_role(body({"metadata": {"name": name}, "rules": rbac_rules()}))
    await core.create_namespaced_service_account("default", body({"metadata": {"name": name}}))
    role = {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": name}
    subject = {"kind": "ServiceAccount", "name": name, "namespace": "default"}
    binding = {"metadata": {"name": name}, "roleRef": role, "subjects": [subject]}
    await rbac.create_cluster_role_binding(body(binding))
    token = await core.create_namespaced_service_account_token(
        name, "default", body({"spec": {"expirationSeconds": 600}})
    )
    config = Configuration(host=kube.configuration.host)
    config.ssl_ca_cert = kube.configuration.ssl_ca_cert
    config.api_key = {"BearerToken": token.status.token}
    config.api_key_prefix = {"BearerToken": "Bearer"}
    return ApiClient(config)


@pytest.mark.usefixtures("cert_manager_crds")
async def test_read_only_rbac_is_enough_and_nothing_more(kube: ApiClient) -> None:
    name = f"watcher-{uuid.uuid4().hex[:8]}"
    limited = await _service_account_client(kube, name)
    try:
        informers = [
            Informer(limited, spec, Recorder(), watch_timeout_s=1) for spec in KINDS + DRIFT_KINDS
        ]
        # A list and a whole (short) watch request of every kind; a 403 would raise.
        await asyncio.gather(*(i._list("start") for i in informers))
        await asyncio.gather(*(i._watch() for i in informers))
        with pytest.raises(ApiException) as denied:
            await client.CoreV1Api(limited).list_secret_for_all_namespaces()
        assert denied.value.status == 403
        with pytest.raises(ApiException) as denied:
            await client.CoreV1Api(limited).delete_namespace("default")
        assert denied.value.status == 403
    finally:
        await limited.close()
        rbac = client.RbacAuthorizationV1Api(kube)
        await rbac.delete_cluster_role_binding(name)
        await rbac.delete_cluster_role(name)
        await client.CoreV1Api(kube).delete_namespaced_service_account(name, "default")


async def test_a_kind_whose_crd_is_missing_lists_empty_and_looks_again(kube: ApiClient) -> None:
    """A cluster without cert-manager: the Certificate informer must not hold the
    watcher back (it waits for every informer's first list) nor fail."""
    absent = KINDS[0]._replace(
        kind="Widget",
        list_call=lambda api: partial(
            client.CustomObjectsApi(api).list_cluster_custom_object,
            "absent.urumi.test", "v1", "widgets",
        ),
        optional=True,
    )  # fmt: skip
    recorder, stop = Recorder(), asyncio.Event()
    informer = Informer(kube, absent, recorder, absent_retry_s=0.2)
    task = asyncio.create_task(informer.run(stop))
    try:
        await eventually(lambda: _true(len(recorder.lists) >= 2), what="two empty lists")
        assert informer.synced.is_set()
        assert set(recorder.lists) == {0}
    finally:
        stop.set()
        await task


async def test_drift_kinds_are_watched_as_metadata_only(kube: ApiClient) -> None:
    """A drift-only kind (here ResourceQuota, whose status the quota controller
    rewrites on every pod, claim or Service change) arrives without spec or status,
    with what drift reads: uid and managedFields."""
    core = client.CoreV1Api(kube)
    namespace = await _namespace(core)
    quotas = next(k for k in DRIFT_KINDS if k.kind == "ResourceQuota")._replace(selector="")
    recorder, stop = Recorder(), asyncio.Event()
    informer = Informer(kube, quotas, recorder, watch_timeout_s=30)
    await core.create_namespaced_resource_quota(
        namespace, body({"metadata": {"name": "listed"}, "spec": {"hard": {"pods": "3"}}})
    )
    task = asyncio.create_task(informer.run(stop))
    try:
        await eventually(lambda: _true(informer.synced.is_set()), what="first list")
        await core.create_namespaced_resource_quota(
            namespace, body({"metadata": {"name": "watched"}, "spec": {"hard": {"pods": "3"}}})
        )
        await eventually(
            lambda: _true(("ADDED", "watched") in recorder.events), what="the watched quota"
        )
        listed = [i for i in recorder.items if i["metadata"]["name"] == "listed"]
        watched = [o for o in recorder.objects if o["metadata"]["name"] == "watched"]
        assert listed and watched
        for obj in listed + watched:
            assert "spec" not in obj and "status" not in obj
            assert obj["metadata"]["uid"] and obj["metadata"]["managedFields"]
            assert obj["metadata"]["namespace"] == namespace
    finally:
        stop.set()
        task.cancel()
        await core.delete_namespace(namespace)
