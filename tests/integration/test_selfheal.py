"""Self-healing on the devcluster: the watcher and the provisioner in-process,
real NATS. What changed outside Urumi comes back within seconds with a timeline
entry and a Kubernetes Event; what is not Urumi's stays; a deleted store stays
deleted; a fought-over store stops being restored; a resync finds what no watch saw."""

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

from kubernetes_asyncio.client import ApiClient, AppsV1Api, CoreV1Api, NetworkingV1Api
from kubernetes_asyncio.client.exceptions import ApiException
from nats.js import JetStreamContext

from services.contracts.commands import ReconcileStore
from services.contracts.events import StepState
from services.contracts.subjects import reconcile_subject
from services.contracts.wire import encode
from services.devtools.devcluster import DevCluster
from services.devtools.natsserver import NatsServer, free_port
from services.watcher.settings import WatcherSettings
from tests.fixtures.waiting import eventually
from tests.integration import provisioner_support as ps
from tests.integration.provisioner_support import ProgressLog

MERGE: dict[str, Any] = {
    "_content_type": "application/merge-patch+json",
    "field_manager": "kubectl-edit",
}
HPA_APPLY: dict[str, Any] = {
    "_content_type": "application/apply-patch+yaml",
    "field_manager": "horizontal-pod-autoscaler",
}
RESTORE_S = 20.0  # "within seconds", with room for a busy 2-core machine


@contextlib.asynccontextmanager
async def watching(nats_url: str, kubeconfig: str, **extra: Any) -> AsyncIterator[None]:
    """The watcher in this process, stopped on exit."""
    from services.watcher.main import main

    settings = WatcherSettings(
        nats_url=nats_url,
        kubeconfig=kubeconfig,
        http_port=free_port(),
        watcher_resync_s=0.5,
        **extra,
    )
    stop = asyncio.Event()
    task = asyncio.create_task(main(settings, stop))
    try:
        yield
    finally:
        stop.set()
        await asyncio.wait_for(task, 30)


@contextlib.asynccontextmanager
async def platform(
    nats_server: NatsServer, devcluster: DevCluster, fight_limit: int = 5
) -> AsyncIterator[None]:
    settings = ps.settings(nats_server.url, devcluster.kubeconfig, selfheal_fight_limit=fight_limit)
    async with ps.running(settings), watching(nats_server.url, str(devcluster.kubeconfig)):
        yield


async def a_store(js: JetStreamContext, progress: ProgressLog, stores: list[str]) -> str:
    store = ps.store_id("heal")
    stores.append(store)
    await ps.publish(js, ps.create(store, 1))
    await eventually(
        lambda: progress.has(store, "provision", StepState.SUCCEEDED, 1),
        within=90,
        what=f"{store} provisioned",
    )
    await asyncio.sleep(2)  # the watcher has seen the applied objects
    return store


def restored(progress: ProgressLog, store: str, message: str) -> bool:
    return any(
        e.step == "restore" and e.state == StepState.SUCCEEDED and e.message.startswith(message)
        for e in progress.of(store)
    )


async def exists(read: Any, *args: str) -> bool:
    try:
        await read(*args)
    except ApiException as exc:
        if exc.status == 404:
            return False
        raise
    return True


async def restored_event(kube: ApiClient, store: str, kind: str, name: str) -> bool:
    events = await CoreV1Api(kube).list_namespaced_event(f"store-{store}")
    return any(
        e.reason == "Restored"
        and e.involved_object.kind == kind
        and e.involved_object.name == name
        and e.source.component == "urumi-provisioner"
        for e in events.items
    )


async def test_deleted_and_edited_objects_are_restored_with_a_timeline_entry(
    nats_server: NatsServer,
    devcluster: DevCluster,
    js: JetStreamContext,
    kube: ApiClient,
    progress: ProgressLog,
    stores: list[str],
) -> None:
    apps, net, core = AppsV1Api(kube), NetworkingV1Api(kube), CoreV1Api(kube)
    async with platform(nats_server, devcluster):
        store = await a_store(js, progress, stores)
        ns = f"store-{store}"

        await apps.delete_namespaced_deployment("wordpress", ns)
        await eventually(
            lambda: restored(progress, store, "restored Deployment wordpress: deleted outside"),
            within=RESTORE_S,
            what="the Deployment restored",
        )
        assert await exists(apps.read_namespaced_deployment, "wordpress", ns)
        assert await restored_event(kube, store, "Deployment", "wordpress")

        await net.delete_namespaced_network_policy("default-deny", ns)
        await eventually(
            lambda: restored(progress, store, "restored NetworkPolicy default-deny: deleted"),
            within=RESTORE_S,
            what="the NetworkPolicy restored",
        )
        assert await exists(net.read_namespaced_network_policy, "default-deny", ns)

        quota = await core.read_namespaced_resource_quota("store-quota", ns)
        cpu = quota.spec.hard["limits.cpu"]
        await core.patch_namespaced_resource_quota(
            "store-quota", ns, {"spec": {"hard": {"limits.cpu": "64"}}}, **MERGE
        )
        await eventually(
            lambda: restored(
                progress, store, "restored ResourceQuota store-quota: changed outside Urumi by"
            ),
            within=RESTORE_S,
            what="the quota restored",
        )
        quota = await core.read_namespaced_resource_quota("store-quota", ns)
        assert quota.spec.hard["limits.cpu"] == cpu
        assert await restored_event(kube, store, "ResourceQuota", "store-quota")


async def test_fields_other_managers_own_are_left_alone(
    nats_server: NatsServer,
    devcluster: DevCluster,
    js: JetStreamContext,
    kube: ApiClient,
    progress: ProgressLog,
    stores: list[str],
) -> None:
    apps = AppsV1Api(kube)
    async with platform(nats_server, devcluster):
        store = await a_store(js, progress, stores)
        ns = f"store-{store}"
        # An autoscaler-like controller applies fields of its own (Urumi never set them).
        body = {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {
                "name": "wordpress",
                "namespace": ns,
                "annotations": {"autoscaling.example/scaled-at": "now"},
            },
            "spec": {"minReadySeconds": 7},
        }
        await apps.patch_namespaced_deployment("wordpress", ns, body, **HPA_APPLY)
        await asyncio.sleep(5)
        live = await apps.read_namespaced_deployment("wordpress", ns)
        assert live.spec.min_ready_seconds == 7
        assert live.metadata.annotations["autoscaling.example/scaled-at"] == "now"
        assert not [e for e in progress.of(store) if e.step == "restore"]


async def test_a_deleted_store_is_not_resurrected(
    nats_server: NatsServer,
    devcluster: DevCluster,
    js: JetStreamContext,
    kube: ApiClient,
    progress: ProgressLog,
    stores: list[str],
) -> None:
    async with platform(nats_server, devcluster):
        store = await a_store(js, progress, stores)
        await ps.publish(js, ps.delete(store, 2))
        await eventually(
            lambda: progress.has(store, "delete", StepState.SUCCEEDED, 2),
            what="delete handled",
        )
        # A re-apply asked late (as a watcher racing the deletion would) changes nothing.
        late = ReconcileStore(
            command_id=str(uuid.uuid4()),
            generation=1,
            issued_at=datetime.now(UTC),
            actor="tests",
            tenant=ps.TENANT,
            store=store,
            reason="Deployment/wordpress deleted outside Urumi",
        )
        await js.publish(reconcile_subject(ps.TENANT, store), encode(late))

        async def gone() -> bool:
            return await ps.namespace_or_none(kube, store) is None

        await eventually(gone, 90, what="namespace deleted")
        await asyncio.sleep(5)
        assert await ps.namespace_or_none(kube, store) is None
        assert not [e for e in progress.of(store) if e.step == "restore"]


async def test_a_fought_over_store_stops_being_restored_and_says_so(
    nats_server: NatsServer,
    devcluster: DevCluster,
    js: JetStreamContext,
    kube: ApiClient,
    progress: ProgressLog,
    stores: list[str],
) -> None:
    apps = AppsV1Api(kube)
    async with platform(nats_server, devcluster, fight_limit=2):
        store = await a_store(js, progress, stores)
        ns = f"store-{store}"

        def restores() -> int:
            return sum(
                e.step == "restore" and e.state == StepState.SUCCEEDED for e in progress.of(store)
            )

        for n in (1, 2):
            await apps.delete_namespaced_deployment("wordpress", ns)
            await eventually(lambda: restores() >= n, within=RESTORE_S, what=f"restore {n}")  # noqa: B023
            await eventually(
                lambda: exists(apps.read_namespaced_deployment, "wordpress", ns),
                RESTORE_S,
                what="the Deployment back",
            )
        await apps.delete_namespaced_deployment("wordpress", ns)
        await eventually(
            lambda: any(
                e.step == "restore"
                and e.state == StepState.FAILED
                and "self-healing stopped" in e.message
                for e in progress.of(store)
            ),
            within=RESTORE_S,
            what="self-healing stopped",
        )
        await asyncio.sleep(3)
        assert not await exists(apps.read_namespaced_deployment, "wordpress", ns)


async def test_the_resync_restores_what_no_watch_saw(
    nats_server: NatsServer,
    devcluster: DevCluster,
    js: JetStreamContext,
    kube: ApiClient,
    progress: ProgressLog,
    stores: list[str],
) -> None:
    net = NetworkingV1Api(kube)
    settings = ps.settings(nats_server.url, devcluster.kubeconfig)
    async with ps.running(settings):
        store = await a_store(js, progress, stores)
        ns = f"store-{store}"
        await net.delete_namespaced_network_policy("default-deny", ns)  # no watcher runs
        async with watching(
            nats_server.url,
            str(devcluster.kubeconfig),
            selfheal_resync_s=3.0,
            selfheal_resync_per_s=10.0,
        ):
            await eventually(
                lambda: restored(progress, store, "restored NetworkPolicy default-deny: deleted"),
                within=RESTORE_S,
                what="the resync restored the NetworkPolicy",
            )
        assert await exists(net.read_namespaced_network_policy, "default-deny", ns)
