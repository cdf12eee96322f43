"""The notifier's websocket on real NATS JetStream, served by uvicorn in-process."""

import asyncio
import base64
import os
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
import websockets
from nats.js import JetStreamContext
from websockets.asyncio.client import ClientConnection

from services.contracts import subjects, wire
from services.contracts.events import (
    Event,
    KubeEvent,
    StepState,
    StoreProgress,
    StoreStatus,
)
from services.contracts.frames import (
    CLOSE_TOO_SLOW,
    CLOSE_UNAUTHORIZED,
    Error,
    EventFrame,
    Frame,
    Hello,
    Ping,
    Snapshot,
    decode_frame,
)
from services.contracts.phases import Phase
from services.devtools.natsserver import NatsServer, free_port
from services.notifier.app import create_app
from services.notifier.metrics import DIRECT_WRITES
from services.notifier.settings import NotifierSettings
from services.runtime.health import Health
from services.runtime.http import serve
from services.runtime.tickets import sign_ticket
from tests.fixtures.processes import StartService

SECRET = "test-secret"
NOW = datetime(2025, 1, 1, tzinfo=UTC)


class Notifier:
    def __init__(self, port: int) -> None:
        self.url = f"ws://127.0.0.1:{port}/ws"

    def ws_url(self, tenant: str, after: int | None = None) -> str:
        url = f"{self.url}?ticket={sign_ticket(SECRET, tenant, 60)}"
        return url if after is None else f"{url}&after={after}"


@asynccontextmanager
async def running_notifier(js: JetStreamContext, **overrides: Any) -> AsyncIterator[Notifier]:
    port = free_port()
    settings = NotifierSettings(ticket_secret=SECRET, **overrides)
    stop = asyncio.Event()
    app = create_app(settings, js, Health(), stop)
    task = asyncio.create_task(serve(app, "127.0.0.1", port, stop))
    async with httpx.AsyncClient() as http:
        for _ in range(100):
            try:
                if (await http.get(f"http://127.0.0.1:{port}/readyz")).status_code == 200:
                    break
            except httpx.HTTPError:
                await asyncio.sleep(0.05)
    try:
        yield Notifier(port)
    finally:
        stop.set()
        await asyncio.wait_for(task, 15)


@pytest.fixture
async def notifier(js: JetStreamContext) -> AsyncIterator[Notifier]:
    async with running_notifier(js, ping_interval_s=5.0) as n:
        yield n


def status(tenant: str, store: str, phase: Phase, generation: int = 1) -> StoreStatus:
    url = f"http://{store}.example" if phase == Phase.READY else ""
    return StoreStatus(tenant, store, phase, generation, NOW, url=url)


def progress(tenant: str, store: str, step: str) -> StoreProgress:
    return StoreProgress(tenant, store, 1, "cmd-1", step, StepState.SUCCEEDED, NOW)


def kube(tenant: str, store: str, message: str) -> KubeEvent:
    return KubeEvent(
        tenant, store, f"store-{store}", "Pod", "web-0", "Normal", "Pulled", message, NOW
    )


async def publish(js: JetStreamContext, event: Event) -> int:
    if isinstance(event, StoreStatus):
        kind = subjects.EventKind.STATUS
    elif isinstance(event, StoreProgress):
        kind = subjects.EventKind.PROGRESS
    else:
        kind = subjects.EventKind.KUBE
    ack = await js.publish(
        subjects.event_subject(event.tenant, event.store, kind), wire.encode(event)
    )
    return ack.seq


async def recv(ws: ClientConnection, wait_s: float = 5.0) -> Frame:
    """The next frame that is not a ping."""
    while True:
        frame = decode_frame(await asyncio.wait_for(ws.recv(), wait_s))
        if not isinstance(frame, Ping):
            return frame


async def recv_events(ws: ClientConnection, n: int) -> list[EventFrame]:
    frames = [await recv(ws) for _ in range(n)]
    assert all(isinstance(f, EventFrame) for f in frames), frames
    return [f for f in frames if isinstance(f, EventFrame)]


async def assert_quiet(ws: ClientConnection, seconds: float = 0.5) -> None:
    with pytest.raises(TimeoutError):
        await recv(ws, seconds)


async def open_session(url: str) -> tuple[ClientConnection, Hello]:
    ws = await websockets.connect(url)
    hello = await recv(ws)
    assert isinstance(hello, Hello)
    return ws, hello


async def test_snapshot_then_live(js: JetStreamContext, notifier: Notifier) -> None:
    await publish(js, status("acme", "shop-a", Phase.PENDING))
    await publish(js, progress("acme", "shop-a", "render"))
    last_a = await publish(js, status("acme", "shop-a", Phase.PROVISIONING))
    await publish(js, status("acme", "shop-b", Phase.READY))
    await publish(js, status("acme", "gone", Phase.DELETED))

    ws, hello = await open_session(notifier.ws_url("acme"))
    assert hello.tenant == "acme"
    assert not hello.resumed
    snap = await recv(ws)
    assert isinstance(snap, Snapshot)
    assert snap.seq == hello.seq
    phases = {s.store: s.phase for s in snap.statuses}
    # One entry per live store, its newest status; deleted stores are left out.
    assert phases == {"shop-a": Phase.PROVISIONING, "shop-b": Phase.READY}
    assert hello.seq > last_a

    seq = await publish(js, kube("acme", "shop-a", "pulled image"))
    (frame,) = await recv_events(ws, 1)
    assert frame.seq == seq
    assert isinstance(frame.event, KubeEvent)
    assert frame.event.message == "pulled image"
    await ws.close()


async def test_empty_tenant_gets_empty_snapshot(notifier: Notifier) -> None:
    ws, hello = await open_session(notifier.ws_url("nobody"))
    snap = await recv(ws)
    assert isinstance(snap, Snapshot)
    assert snap.statuses == []
    assert snap.seq == hello.seq
    await ws.close()


async def test_tenant_isolation(js: JetStreamContext, notifier: Notifier) -> None:
    await publish(js, status("other", "secret-shop", Phase.READY))
    ws, _ = await open_session(notifier.ws_url("acme"))
    snap = await recv(ws)
    assert isinstance(snap, Snapshot)
    assert snap.statuses == []

    await publish(js, status("other", "secret-shop", Phase.DEGRADED))
    await publish(js, kube("other", "secret-shop", "not yours"))
    # A tenant whose name is a prefix of another's must not match either.
    await publish(js, status("acme2", "lookalike", Phase.READY))
    mine = await publish(js, status("acme", "mine", Phase.PENDING))
    (frame,) = await recv_events(ws, 1)
    assert frame.seq == mine
    assert frame.event.tenant == "acme"
    await assert_quiet(ws)
    await ws.close()


async def test_bad_ticket_is_closed_with_4001(notifier: Notifier) -> None:
    forged = sign_ticket("not-the-secret", "acme", 60)
    expired = sign_ticket(SECRET, "acme", 60, now=0)
    for ticket in (forged, expired, ""):
        ws = await websockets.connect(f"{notifier.url}?ticket={ticket}")
        error = await recv(ws)
        assert isinstance(error, Error)
        assert error.code == CLOSE_UNAUTHORIZED
        with pytest.raises(websockets.ConnectionClosed) as closed:
            await ws.recv()
        assert closed.value.rcvd is not None
        assert closed.value.rcvd.code == CLOSE_UNAUTHORIZED


async def test_resume_after_disconnect_gets_all_once_in_order(
    js: JetStreamContext, notifier: Notifier
) -> None:
    await publish(js, status("acme", "shop", Phase.PENDING))
    ws, hello = await open_session(notifier.ws_url("acme"))
    await recv(ws)  # snapshot
    first = await publish(js, status("acme", "shop", Phase.PROVISIONING))
    (seen,) = await recv_events(ws, 1)
    assert seen.seq == first
    await ws.close()

    missed = [
        await publish(js, progress("acme", "shop", f"step-{i}"))
        if i % 2
        else await publish(js, kube("acme", "shop", f"event-{i}"))
        for i in range(20)
    ]
    await publish(js, kube("other", "shop", "not mine"))
    missed.append(await publish(js, status("acme", "shop", Phase.READY)))

    ws, hello = await open_session(notifier.ws_url("acme", after=seen.seq))
    assert hello.resumed
    assert hello.seq == seen.seq
    frames = await recv_events(ws, len(missed))
    assert [f.seq for f in frames] == missed
    assert isinstance(frames[-1].event, StoreStatus)
    assert frames[-1].event.phase == Phase.READY
    await assert_quiet(ws)
    # Live events continue on the resumed connection.
    live = await publish(js, kube("acme", "shop", "live again"))
    assert [f.seq for f in await recv_events(ws, 1)] == [live]
    await ws.close()


async def test_resume_from_the_future_falls_back_to_snapshot(
    js: JetStreamContext, notifier: Notifier
) -> None:
    await publish(js, status("acme", "shop", Phase.READY))
    ws, hello = await open_session(notifier.ws_url("acme", after=10_000))
    assert not hello.resumed
    snap = await recv(ws)
    assert isinstance(snap, Snapshot)
    assert [s.store for s in snap.statuses] == ["shop"]
    await ws.close()


async def test_pings_keep_idle_connection_alive(js: JetStreamContext) -> None:
    async with running_notifier(js, ping_interval_s=0.2) as n:
        ws, _ = await open_session(n.ws_url("acme"))
        await recv(ws)  # snapshot
        pings = [decode_frame(await asyncio.wait_for(ws.recv(), 2)) for _ in range(2)]
        assert all(isinstance(p, Ping) for p in pings)
        await ws.close()


async def raw_ws_connect(url: str) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    """A websocket handshake over a bare socket that then reads nothing at all.

    (Client libraries keep reading into memory; a real stuck phone does not.)
    """
    host, _, rest = url.removeprefix("ws://").partition("/")
    sock = socket.socket()
    # A small receive window makes TCP push back on the server sooner.
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.connect((host.split(":")[0], int(host.split(":")[1])))
    reader, writer = await asyncio.open_connection(sock=sock)
    key = base64.b64encode(os.urandom(16)).decode()
    writer.write(
        f"GET /{rest} HTTP/1.1\r\nHost: {host}\r\nUpgrade: websocket\r\n"
        f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
        "Sec-WebSocket-Version: 13\r\n\r\n".encode()
    )
    assert b" 101 " in await reader.readuntil(b"\r\n\r\n")
    return reader, writer


async def test_slow_client_dropped_fast_client_keeps_receiving(js: JetStreamContext) -> None:
    # A long ping interval: the 4008 frame waits (2 intervals) for `slow` to read.
    async with running_notifier(js, socket_queue=8, ping_interval_s=30.0) as n:
        slow, slow_writer = await raw_ws_connect(n.ws_url("acme"))
        fast, _ = await open_session(n.ws_url("acme"))
        await recv(fast)  # snapshot
        fast_seen: list[int] = []
        count = 160
        reader = asyncio.create_task(read_events(fast, fast_seen, count))
        # More than loopback's kernel buffers hold (4 MiB), so sends to `slow` block.
        filler = "x" * 50_000
        published = []
        for i in range(count):
            published.append(await publish(js, kube("acme", "shop", f"{i} {filler}")))
            await asyncio.sleep(0.002)  # a live trickle, not a backlog
        await asyncio.wait_for(reader, 15)
        assert fast_seen == published

        # The slow client, reading at last, finds the 4008 close after what it had.
        unread = await asyncio.wait_for(slow.read(), 20)
        slow_writer.close()
        assert b'"type":"error","code":4008' in unread
        close_payload = unread[unread.rindex(b"\x88") + 2 :]
        assert close_payload[:2] == CLOSE_TOO_SLOW.to_bytes(2, "big")
        after = int(close_payload[2:].decode().rpartition("after=")[2])
        assert f'"seq":{after},'.encode() in unread
        assert after < published[-1]
        await fast.close()


async def read_events(ws: ClientConnection, into: list[int], count: int) -> None:
    while len(into) < count:
        frame = await recv(ws, 10)
        assert isinstance(frame, EventFrame)
        into.append(frame.seq)


async def test_frames_are_not_compressed_per_socket(notifier: Notifier) -> None:
    """Browsers offer permessage-deflate; each accepted offer costs a zlib context
    per socket (tens of KiB) and CPU per frame, to save little on small frames."""
    ws, _ = await open_session(notifier.ws_url("acme"))  # offers deflate, as browsers do
    assert ws.response is not None
    assert "Sec-WebSocket-Extensions" not in ws.response.headers
    await ws.close()


async def test_live_frames_are_written_directly_under_uvicorn(
    js: JetStreamContext, notifier: Notifier
) -> None:
    """Once caught up, the hub writes the shared frame to the socket itself."""
    ws, _ = await open_session(notifier.ws_url("acme"))
    await recv(ws)  # snapshot
    # The writer switches the sink to direct writes when it is idle: let it.
    await asyncio.sleep(0.1)
    before = DIRECT_WRITES._value.get()
    seqs = [await publish(js, kube("acme", "shop", f"event {i}")) for i in range(3)]
    assert [f.seq for f in await recv_events(ws, 3)] == seqs
    assert DIRECT_WRITES._value.get() - before == 3
    await ws.close()


async def test_the_notifier_process_writes_live_frames_directly(
    js: JetStreamContext, nats_server: NatsServer, start_service: StartService
) -> None:
    """`urumi notifier` itself, as deployed (its own process and event loop): live
    frames reach the socket by the hub's direct writes, as in-process."""
    env = {"URUMI_NATS_URL": nats_server.url, "URUMI_TICKET_SECRET": SECRET}
    proc = await asyncio.to_thread(start_service, "notifier", env)
    url = f"ws://127.0.0.1:{proc.http_port}/ws?ticket={sign_ticket(SECRET, 'acme', 60)}"
    ws, _ = await open_session(url)
    await recv(ws)  # snapshot
    await asyncio.sleep(0.1)  # the writer switches the sink to direct writes when idle
    seqs = [await publish(js, kube("acme", "shop", f"event {i}")) for i in range(3)]
    assert [f.seq for f in await recv_events(ws, 3)] == seqs
    await ws.close()
    async with httpx.AsyncClient() as http:
        metrics = (await http.get(f"{proc.base_url}/metrics")).text
    assert "urumi_notifier_direct_writes_total 3.0" in metrics
