"""The whole platform for fault drills: a `Stack` of real processes (NATS from the
wheel, notifier, gateway, provisioner, watcher) on the session devcluster, driven
the way a tenant drives it (the gateway's HTTP API), observed through the API, the
Kubernetes API and the streams.

Every platform ends with a secret-leak scan (`LeakScan`): the passwords in its
stores' Secrets must appear in no service log, no stream message, no message seen
on `urumi.>`, and neither the SQLite files nor NATS's own store directory.
"""

import asyncio
import base64
import contextlib
import hashlib
import io
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from kubernetes_asyncio import watch
from kubernetes_asyncio.client import ApiClient, CoreV1Api
from kubernetes_asyncio.client.exceptions import ApiException
from nats.aio.client import Client
from nats.aio.msg import Msg
from nats.js import JetStreamContext
from nats.js.errors import NotFoundError

from services.cli.watch import Connection, Printer
from services.contracts import labels, streams
from services.contracts.events import StepState, StoreProgress, StoreStatus
from services.contracts.frames import EventFrame, Hello, Snapshot
from services.contracts.ids import namespace_for
from services.contracts.subjects import PREFIX
from services.contracts.wire import decode_command, decode_event
from services.devtools.devcluster import DevCluster
from services.devtools.renderer import render_binary
from services.devtools.stack import Stack
from services.provisioner.engines import SECRET_NAME
from services.runtime import bus
from tests.fixtures.waiting import eventually
from tests.integration.provisioner_support import drop_namespaces


def new_id(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


# -- streams -----------------------------------------------------------------------


@dataclass(frozen=True)
class StreamMsg:
    stream: str
    seq: int
    subject: str
    data: bytes
    headers: dict[str, str]


async def stream_messages(js: JetStreamContext, stream: str) -> list[StreamMsg]:
    """Every message the stream holds now, in order (skipping deleted sequences)."""
    out: list[StreamMsg] = []
    seq = (await js.stream_info(stream)).state.first_seq or 1
    while True:
        try:
            raw = await js.get_msg(stream, seq=seq, subject=">", next=True)
        except NotFoundError:
            return out
        headers = {str(k): str(v) for k, v in (raw.headers or {}).items()}
        out.append(StreamMsg(stream, raw.seq or seq, raw.subject or "", raw.data or b"", headers))
        seq = (raw.seq or seq) + 1


async def progress_events(js: JetStreamContext, tenant: str) -> list[StoreProgress]:
    """The tenant's StoreProgress events from URUMI_EVENTS, in stream order."""
    events: list[StoreProgress] = []
    for m in await stream_messages(js, streams.EVENTS.name):
        if m.subject.startswith(f"{PREFIX}.evt.{tenant}.") and m.subject.endswith(".progress"):
            event = decode_event(m.data)
            assert isinstance(event, StoreProgress)
            events.append(event)
    return events


async def commands_drained(js: JetStreamContext) -> bool:
    """Every command handled and acknowledged: the work queue is empty."""
    info = await js.stream_info(streams.COMMANDS.name)
    consumer = await js.consumer_info(streams.PROVISIONER.stream, streams.PROVISIONER.durable)
    return (info.state.messages, consumer.num_pending, consumer.num_ack_pending) == (0, 0, 0)


class Wiretap:
    """Every message published on `urumi.>` while the test's connection is up."""

    def __init__(self) -> None:
        self.messages: list[tuple[str, bytes]] = []

    async def start(self, nc: Client) -> "Wiretap":
        await nc.subscribe(f"{PREFIX}.>", cb=self._on)
        return self

    async def _on(self, msg: Msg) -> None:
        headers = "".join(f"{k}:{v}\n" for k, v in (msg.headers or {}).items())
        self.messages.append((msg.subject, headers.encode() + msg.data))


def provision_check(events: list[StoreProgress], store: str, unacked: bool = False) -> list[str]:
    """What is wrong with one store's progress history (empty when all is well).

    One command (generation 1) per store, its Secret generated at most once, and
    the command run to success exactly once, unless it was `unacked` when a fault
    struck: delivery is at least once, so a command whose provisioner died (or
    lost NATS) before acknowledging it runs again, and must then change nothing.
    """
    mine = [e for e in events if e.store == store]
    problems: list[str] = []
    commands = sorted({(e.generation, e.command_id) for e in mine})
    if len(commands) != 1 or commands[0][0] != 1:
        problems.append(f"{store}: commands {commands}")
    runs = [e for e in mine if e.step == "provision" and e.state == StepState.STARTED]
    done = [e for e in mine if e.step == "provision" and e.state == StepState.SUCCEEDED]
    if not unacked and (len(runs), len(done)) != (1, 1):
        problems.append(f"{store}: acknowledged, yet started {len(runs)}, done {len(done)} times")
    if not done or mine[-1] != done[-1]:
        last = f"{mine[-1].step} {mine[-1].state}: {mine[-1].message}" if mine else "no events"
        problems.append(f"{store}: does not end provisioned (last: {last})")
    generated = [e for e in mine if e.step == "secret" and "generated" in e.message]
    if len(generated) > 1:
        problems.append(f"{store}: credentials generated {len(generated)} times")
    return problems


async def unacked_commands(js: JetStreamContext) -> set[str]:
    """Stores whose commands are still on the work queue (not acknowledged yet)."""
    found = set()
    for m in await stream_messages(js, streams.COMMANDS.name):
        found.add(decode_command(m.data).store)
    return found


def applied_after_delete(events: list[StoreProgress], store: str) -> list[StoreProgress]:
    """Create steps of `store` that came after its deletion started (stream order)."""
    mine = [e for e in events if e.store == store]
    starts = [i for i, e in enumerate(mine) if e.step == "delete" and e.state == StepState.STARTED]
    if not starts:
        return []
    return [e for e in mine[starts[0] :] if e.step in ("provision", "render", "secret", "apply")]


class LiveFeed:
    """The tenant's live websocket through the notifier, as the CLI follows it
    (reconnecting with `after=`): the last phase seen for each store."""

    def __init__(self, api: str, token: str) -> None:
        self.http = httpx.AsyncClient(
            base_url=api, headers={"Authorization": f"Bearer {token}"}, timeout=10
        )
        self.connection = Connection(api, self.http, Printer(io.StringIO(), None))
        self.phases: dict[str, str] = {}
        self.sessions = 0
        self._task: asyncio.Task[None] | None = None

    def start(self) -> "LiveFeed":
        self._task = asyncio.create_task(self._run(), name="live-feed")
        return self

    async def _run(self) -> None:
        async for frame in self.connection.frames():
            if isinstance(frame, Hello):
                self.sessions += 1
            statuses = frame.statuses if isinstance(frame, Snapshot) else []
            if isinstance(frame, EventFrame) and isinstance(frame.event, StoreStatus):
                statuses = [frame.event]
            for status in statuses:
                self.phases[status.store] = status.phase.value

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        await self.http.aclose()


# -- Kubernetes ----------------------------------------------------------------------


def _digest(data: dict[str, str] | None) -> str:
    return hashlib.sha256(repr(sorted((data or {}).items())).encode()).hexdigest()


class SecretWatch:
    """Every version of the tenant's store Secrets the API server reports, by namespace.

    A Secret created twice (a new uid) or rotated (new data) shows as two entries.
    """

    def __init__(self, kube: ApiClient, tenant: str) -> None:
        self.core = CoreV1Api(kube)
        self.selector = f"{labels.MANAGED_SELECTOR},{labels.TENANT}={tenant}"
        self.versions: dict[str, set[tuple[str, str]]] = {}
        self.values: dict[str, list[str]] = {}  # generated values by store, even if deleted since
        self._task: asyncio.Task[None] | None = None

    def start(self) -> "SecretWatch":
        self._task = asyncio.create_task(self._run(), name="secret-watch")
        return self

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)

    def _see(self, secret: Any) -> None:
        if secret.metadata.name == SECRET_NAME:
            entry = (secret.metadata.uid, _digest(secret.data))
            self.versions.setdefault(secret.metadata.namespace, set()).add(entry)
            self.values.setdefault(secret.metadata.labels[labels.STORE], []).extend(
                generated(secret.data)
            )

    async def _run(self) -> None:
        version = ""
        while True:
            try:
                if not version:
                    listing = await self.core.list_secret_for_all_namespaces(
                        label_selector=self.selector
                    )
                    for item in listing.items:
                        self._see(item)
                    version = listing.metadata.resource_version
                async with watch.Watch() as w:
                    async for event in w.stream(
                        self.core.list_secret_for_all_namespaces,
                        label_selector=self.selector,
                        resource_version=version,
                        timeout_seconds=120,
                    ):
                        obj = event["object"]
                        if event["type"] == "ERROR":
                            version = ""
                            break
                        version = obj.metadata.resource_version
                        if event["type"] in ("ADDED", "MODIFIED"):
                            self._see(obj)
            except asyncio.CancelledError:
                raise
            except ApiException as exc:
                if exc.status == 410:
                    version = ""
                await asyncio.sleep(0.5)
            except Exception:
                await asyncio.sleep(0.5)


async def store_passwords(kube: ApiClient, tenant: str) -> dict[str, list[str]]:
    """Every generated value in the tenant's store Secrets, by store."""
    core = CoreV1Api(kube)
    selector = f"{labels.MANAGED_SELECTOR},{labels.TENANT}={tenant}"
    found: dict[str, list[str]] = {}
    for secret in (await core.list_secret_for_all_namespaces(label_selector=selector)).items:
        if secret.metadata.name != SECRET_NAME:
            continue
        found[secret.metadata.labels[labels.STORE]] = generated(secret.data)
    return found


def generated(data: dict[str, str] | None) -> list[str]:
    """The generated values of a Secret's `data`; long and random, whereas "admin"
    or an e-mail address are not secret."""
    values = [base64.b64decode(v).decode() for v in (data or {}).values()]
    return [v for v in values if len(v) >= 16 and "@" not in v]


async def namespace_exists(kube: ApiClient, store: str) -> bool:
    try:
        await CoreV1Api(kube).read_namespace(namespace_for(store))
    except ApiException as exc:
        if exc.status == 404:
            return False
        raise
    return True


# -- the leak scan ---------------------------------------------------------------------


def needles(secrets: Iterable[str]) -> dict[bytes, str]:
    """Each secret as it could appear: plain, and base64 as in a Secret's `data`."""
    out: dict[bytes, str] = {}
    for s in secrets:
        out[s.encode()] = f"{s[:4]}… (plain)"
        out[base64.b64encode(s.encode())] = f"{s[:4]}… (base64)"
    return out


@dataclass
class LeakScan:
    """Where each needle was found: sinks are named `<kind>:<where>`."""

    needles: dict[bytes, str]
    found: list[tuple[str, str]] = field(default_factory=list)
    sinks: set[str] = field(default_factory=set)  # every kind scanned at least once

    def bytes(self, kind: str, where: str, data: bytes) -> None:
        self.sinks.add(kind)
        for needle, label in self.needles.items():
            if needle in data:
                self.found.append((f"{kind}:{where}", label))

    def files(self, kind: str, paths: Iterable[Path]) -> int:
        n = 0
        for path in paths:
            if path.is_file():
                self.bytes(kind, str(path), path.read_bytes())
                n += 1
        return n

    def kinds(self) -> set[str]:
        return {where.split(":", 1)[0] for where, _ in self.found}


# -- the platform ----------------------------------------------------------------------


class PlatformHarness:
    """One test's platform: its processes started, driven as a tenant, observed."""

    def __init__(
        self,
        root: Path,
        cluster: DevCluster,
        kube: ApiClient,
        kubeconfig: Path | None = None,
        log_level: str = "INFO",
        extra_env: dict[str, str] | None = None,
    ) -> None:
        self.root = root
        self.kube = kube
        self.tenant = new_id("faults")
        self.stack = Stack(
            root / "stack",
            kubeconfig=str(kubeconfig or cluster.kubeconfig),
            renderer=str(render_binary()),
            log_dir=root / "logs",
            extra_env={
                "URUMI_LOG_LEVEL": log_level,
                "URUMI_RATE_LIMIT_PER_MINUTE": "100000",
                "URUMI_BASE_DOMAIN": "shops.test",
                "URUMI_SHUTDOWN_GRACE_S": "5",
                "URUMI_WATCHER_RESYNC_S": "1",
                **(extra_env or {}),
            },
        )
        self.token = ""
        self.http = httpx.AsyncClient(timeout=10)
        self.nc: Client | None = None
        self.wiretap = Wiretap()
        self.secrets = SecretWatch(kube, self.tenant)
        self.stores: list[str] = []  # every store this platform created
        self.passwords: dict[str, list[str]] = {}  # collected from the Secrets, by store
        self.scan: LeakScan | None = None

    @property
    def js(self) -> JetStreamContext:
        assert self.nc is not None
        return self.nc.jetstream()

    @property
    def api(self) -> str:
        return self.stack.api_url

    async def start(self) -> "PlatformHarness":
        await asyncio.to_thread(self.stack.start)
        self.token = await asyncio.to_thread(self.stack.create_tenant, self.tenant, 200)
        self.http.headers["Authorization"] = f"Bearer {self.token}"
        self.nc = await bus.connect(self.stack.nats.url, "fault-drills")
        await self.wiretap.start(self.nc)
        self.secrets.start()
        return self

    # -- the tenant's API ---------------------------------------------------------
    async def create(self, store: str, **spec: str) -> dict[str, Any]:
        response = await self.http.post(f"{self.api}/api/v1/stores", json={"id": store, **spec})
        assert response.status_code in (200, 202), response.text
        if store not in self.stores:
            self.stores.append(store)
        body: dict[str, Any] = response.json()
        return body

    async def update(self, store: str, **changes: str) -> dict[str, Any]:
        response = await self.http.patch(f"{self.api}/api/v1/stores/{store}", json=changes)
        assert response.status_code in (200, 202), response.text
        body: dict[str, Any] = response.json()
        return body

    async def delete(self, store: str) -> dict[str, Any]:
        response = await self.http.delete(f"{self.api}/api/v1/stores/{store}")
        assert response.status_code == 202, response.text
        body: dict[str, Any] = response.json()
        return body

    async def store(self, store: str) -> dict[str, Any]:
        response = await self.http.get(f"{self.api}/api/v1/stores/{store}")
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    async def credentials(self, store: str) -> dict[str, str]:
        response = await self.http.get(f"{self.api}/api/v1/stores/{store}/credentials")
        assert response.status_code == 200, response.text
        body: dict[str, str] = response.json()
        return body

    async def phases(self) -> dict[str, str]:
        response = await self.http.get(
            f"{self.api}/api/v1/stores", params={"include_deleted": "true", "limit": 1000}
        )
        response.raise_for_status()
        return {s["id"]: s["phase"] for s in response.json()["items"]}

    async def wait_phase(self, stores: Iterable[str], phase: str, within: float) -> dict[str, str]:
        wanted = list(stores)

        async def reached() -> dict[str, str] | None:
            phases = await self.phases()
            return phases if all(phases.get(s) == phase for s in wanted) else None

        try:
            result: dict[str, str] = await eventually(
                reached, within, interval=0.5, what=f"{phase}: {wanted}"
            )
        except AssertionError:
            phases = await self.phases()
            behind = {s: phases.get(s) for s in wanted if phases.get(s) != phase}
            gone = [p.service for p in self.stack.procs if not p.alive()]
            raise AssertionError(
                f"not {phase} within {within:.0f}s: {behind}; services not running: {gone}"
            ) from None
        return result

    # -- the end ----------------------------------------------------------------------
    async def leak_scan(self, extra_needles: dict[bytes, str] | None = None) -> LeakScan:
        """Search every sink for every password of this platform's stores.

        Needs NATS up (the streams are read through it); stops the stack itself
        (so the logs are complete) before reading the files.
        """
        for store, values in (await store_passwords(self.kube, self.tenant)).items():
            self.passwords.setdefault(store, values)
        seen = [*self.passwords.values(), *self.secrets.values.values()]
        secrets = sorted({v for values in seen for v in values})
        scan = LeakScan({**needles(secrets), **(extra_needles or {})})
        for name in (streams.COMMANDS.name, streams.EVENTS.name):
            for m in await stream_messages(self.js, name):
                headers = "".join(f"{k}:{v}\n" for k, v in m.headers.items()).encode()
                scan.bytes("stream", f"{name}#{m.seq}", m.subject.encode() + headers + m.data)
        for subject, data in self.wiretap.messages:
            scan.bytes("wire", subject, data)
        files = self.stack.root
        # The live database with its WAL, and again once the gateway has checkpointed.
        assert scan.files("sqlite", files.glob("urumi.db*")) >= 2, "no WAL next to the database"
        await self.stop()
        scan.files("log", [*(self.root / "logs").glob("*.log"), files / "nats-server.log"])
        scan.files("sqlite", files.glob("urumi.db*"))
        scan.files("nats-store", (files / "nats").rglob("*"))
        self.scan = scan
        return scan

    async def stop(self) -> None:
        await self.secrets.stop()
        if self.nc is not None and not self.nc.is_closed:
            with contextlib.suppress(Exception):
                await self.nc.close()
        await asyncio.to_thread(self.stack.stop)

    async def close(self) -> None:
        await self.stop()
        await self.http.aclose()
        await drop_namespaces(self.kube, self.stores)


def assert_no_leak(scan: LeakScan) -> None:
    assert scan.needles, "nothing to search for: no store Secrets were found"
    assert {"log", "sqlite", "nats-store"} <= scan.sinks, f"sinks not scanned: {scan.sinks}"
    assert not scan.found, f"secrets found: {scan.found}"
