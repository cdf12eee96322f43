"""Helpers for the provisioner's integration tests: commands, progress, polling."""

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

from kubernetes_asyncio.client import ApiClient, AppsV1Api, BatchV1Api, CoreV1Api
from kubernetes_asyncio.client.exceptions import ApiException
from nats.aio.client import Client
from nats.aio.msg import Msg
from nats.js import JetStreamContext

from services.contracts.commands import CreateStore, DeleteStore
from services.contracts.events import StepState, StoreProgress
from services.contracts.store import Plan, StoreSpec
from services.contracts.subjects import command_subject
from services.contracts.wire import decode_event, encode
from services.devtools.natsserver import free_port
from services.provisioner.settings import ProvisionerSettings
from tests.fixtures.charts import render_path
from tests.fixtures.s3 import ObjectStorage

T = TypeVar("T")
TENANT = "acme"
BASE_DOMAIN = "shops.test"


def settings(nats_url: str, kubeconfig: Path, **extra: Any) -> ProvisionerSettings:
    base: dict[str, Any] = {
        "nats_url": nats_url,
        "kubeconfig": str(kubeconfig),
        "render_binary": render_path(),
        "base_domain": BASE_DOMAIN,
        "http_port": free_port(),
        "shutdown_grace_s": 5.0,
    }
    return ProvisionerSettings(**{**base, **extra})


def backup_settings(
    nats_url: str, kubeconfig: Path, storage: ObjectStorage, **extra: Any
) -> ProvisionerSettings:
    """`settings` with the stores' backups going to `storage`."""
    return settings(
        nats_url,
        kubeconfig,
        backup_endpoint=storage.endpoint,
        backup_bucket=storage.bucket,
        backup_access_key_id=storage.access_key_id,
        backup_secret_access_key=storage.secret_access_key,
        **extra,
    )


def env(s: ProvisionerSettings) -> dict[str, str]:
    """The same settings as URUMI_* variables, for a provisioner process."""
    return {
        "URUMI_NATS_URL": s.nats_url,
        "URUMI_KUBECONFIG": s.kubeconfig,
        "URUMI_RENDER_BINARY": s.render_binary,
        "URUMI_BASE_DOMAIN": s.base_domain,
        "URUMI_PROVISION_CONCURRENCY": str(s.provision_concurrency),
        "URUMI_INGRESS_CLASS": s.ingress_class,
        "URUMI_SHUTDOWN_GRACE_S": str(s.shutdown_grace_s),
    }


@contextlib.asynccontextmanager
async def running(s: ProvisionerSettings) -> AsyncIterator[None]:
    """The provisioner in this process, stopped (gracefully) on exit."""
    from services.provisioner.main import main

    stop = asyncio.Event()
    task = asyncio.create_task(main(s, stop))
    try:
        yield
    finally:
        stop.set()
        await asyncio.wait_for(task, 30)


def store_id(prefix: str = "shop") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def create(
    store: str,
    generation: int = 1,
    plan: Plan = Plan.SMALL,
    name: str = "",
    storage_plan: Plan | None = None,
) -> CreateStore:
    spec = StoreSpec(
        id=store,
        tenant=TENANT,
        plan=plan,
        display_name=name or f"Store {store}",
        storage_plan=storage_plan,
    )
    return CreateStore(
        command_id=str(uuid.uuid4()),
        generation=generation,
        issued_at=datetime.now(UTC),
        actor="tests",
        spec=spec,
    )


def delete(store: str, generation: int) -> DeleteStore:
    return DeleteStore(
        command_id=str(uuid.uuid4()),
        generation=generation,
        issued_at=datetime.now(UTC),
        actor="tests",
        tenant=TENANT,
        store=store,
    )


async def publish(js: JetStreamContext, cmd: CreateStore | DeleteStore, msg_id: str = "") -> None:
    headers = {"Nats-Msg-Id": msg_id or cmd.command_id}
    await js.publish(command_subject(cmd.tenant, cmd.store), encode(cmd), headers=headers)


class ProgressLog:
    """Every StoreProgress seen on core NATS, in arrival order."""

    def __init__(self) -> None:
        self.events: list[StoreProgress] = []
        self.callbacks: list[Callable[[StoreProgress], None]] = []

    async def start(self, nc: Client) -> "ProgressLog":
        await nc.subscribe("urumi.evt.*.*.progress", cb=self._on)
        return self

    async def _on(self, msg: Msg) -> None:
        event = decode_event(msg.data)
        assert isinstance(event, StoreProgress)
        self.events.append(event)
        for cb in self.callbacks:
            cb(event)

    def of(self, store: str) -> list[StoreProgress]:
        return [e for e in self.events if e.store == store]

    def has(self, store: str, step: str, state: StepState, generation: int | None = None) -> bool:
        return any(
            e.step == step and e.state == state and generation in (None, e.generation)
            for e in self.of(store)
        )


async def namespace_or_none(kube: ApiClient, store: str) -> Any:
    try:
        return await CoreV1Api(kube).read_namespace(f"store-{store}")
    except ApiException as exc:
        if exc.status == 404:
            return None
        raise


async def secret_data(kube: ApiClient, store: str) -> dict[str, str]:
    secret = await CoreV1Api(kube).read_namespaced_secret("store-credentials", f"store-{store}")
    data: dict[str, str] = secret.data
    return data


async def tiers_ready(kube: ApiClient, store: str) -> bool:
    """What kwok simulates of a live store: database ready, web available, setup done."""
    ns = f"store-{store}"
    apps, batch = AppsV1Api(kube), BatchV1Api(kube)
    db = await apps.read_namespaced_stateful_set("mariadb", ns)
    web = await apps.read_namespaced_deployment("wordpress", ns)
    jobs = (await batch.list_namespaced_job(ns)).items
    return bool(
        (db.status.ready_replicas or 0) == 1
        and (web.status.available_replicas or 0) == 1
        and len(jobs) == 1
        and (jobs[0].status.succeeded or 0) == 1
    )


async def drop_namespaces(kube: ApiClient, stores: list[str]) -> None:
    """Clean up the shared devcluster after a test."""
    core = CoreV1Api(kube)
    for store in stores:
        with contextlib.suppress(ApiException):
            await core.delete_namespace(f"store-{store}")
