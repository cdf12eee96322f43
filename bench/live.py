"""Websocket clients of the notifier for the benchmarks (docs/websocket.md).

Many sockets share one asyncio loop in this process (the machine has 2 cores, so
one client process keeps the rest for the services). Each socket is a bare
``asyncio.Protocol`` that parses the server's frames where the bytes arrive, with
no task per socket and no queue: a general websocket client (the `websockets`
library) cost this process ≈ 40 µs per frame, so at 1,000 sockets the client's own
reading, not the notifier, set the last socket's latency (docs/benchmarks.md,
"Live latency"). Every frame is timestamped with ``time.perf_counter()`` when its
bytes are read, before anything else is done with them.
"""

from __future__ import annotations

import asyncio
import base64
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode, urlsplit

import httpx
import msgspec

from services.runtime.tickets import sign_ticket


class _Status(msgspec.Struct):
    type: str
    store: str = ""
    phase: str | None = None
    generation: int = 0
    reason: str = ""


class _Frame(msgspec.Struct):
    type: str
    seq: int = 0
    event: _Status | None = None


_decode = msgspec.json.Decoder(_Frame).decode

# (store, phase, generation, arrival perf_counter, reason) for every store-status frame
StatusSink = Callable[[str, str, int, float, str], None]


def ticket_url(api: str, token: str) -> str:
    """The notifier URL, from a real ticket of the gateway (POST /api/v1/tickets)."""
    r = httpx.post(
        f"{api}/api/v1/tickets", headers={"Authorization": f"Bearer {token}"}, timeout=10
    )
    r.raise_for_status()
    url = str(r.json()["url"])
    if not url.startswith(("ws://", "wss://")):
        url = api.replace("http", "ws", 1) + "/" + url.lstrip("/")
    return url


def socket_url(base_url: str, secret: str, tenant: str) -> str:
    """`base_url` with a fresh ticket signed as the gateway signs them."""
    return f"{base_url}?{urlencode({'ticket': sign_ticket(secret, tenant, 3600)})}"


_TEXT, _CLOSE, _PING, _PONG = 0x1, 0x8, 0x9, 0xA


def _client_frame(opcode: int, payload: bytes) -> bytes:
    """A client's frame (masked, as RFC 6455 requires of clients); short payloads only."""
    mask = os.urandom(4)
    masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
    return bytes((0x80 | opcode, 0x80 | len(payload))) + mask + masked


class _Client(asyncio.Protocol):
    """The handshake, then the server's frames (unmasked, unfragmented) as they arrive."""

    def __init__(self, request: bytes, on_text: Callable[[bytes, float], None]) -> None:
        self._request = request
        self._on_text = on_text
        self._buf = bytearray()
        self._upgraded = False
        self.transport: asyncio.Transport | None = None
        self.upgraded: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.lost: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.close_code: int | None = None
        self.close_reason = ""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        transport.write(self._request)

    def data_received(self, data: bytes) -> None:
        at = time.perf_counter()
        buf = self._buf
        buf += data
        if not self._upgraded:
            end = buf.find(b"\r\n\r\n")
            if end < 0:
                return
            if b" 101 " not in buf[: buf.find(b"\r\n")]:
                self._fail(ConnectionError(bytes(buf[:end]).decode(errors="replace")))
                return
            del buf[: end + 4]
            self._upgraded = True
            self.upgraded.set_result(None)
        while len(buf) >= 2:
            head, n, start = buf[0], buf[1] & 0x7F, 2
            if n == 126:
                if len(buf) < 4:
                    return
                n, start = int.from_bytes(buf[2:4]), 4
            elif n == 127:
                if len(buf) < 10:
                    return
                n, start = int.from_bytes(buf[2:10]), 10
            if len(buf) < start + n:
                return
            payload = bytes(buf[start : start + n])
            del buf[: start + n]
            self._frame(head & 0x0F, payload, at)

    def _frame(self, opcode: int, payload: bytes, at: float) -> None:
        assert self.transport is not None
        if opcode == _TEXT:
            self._on_text(payload, at)
        elif opcode == _PING:  # uvicorn's keepalive
            self.transport.write(_client_frame(_PONG, payload))
        elif opcode == _CLOSE:
            if len(payload) >= 2:
                self.close_code = int.from_bytes(payload[:2])
                self.close_reason = payload[2:].decode(errors="replace")
            self.transport.write(_client_frame(_CLOSE, payload[:2]))
            self.transport.close()

    def _fail(self, exc: Exception) -> None:
        if not self.upgraded.done():
            self.upgraded.set_exception(exc)
        if self.transport is not None:
            self.transport.close()

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.upgraded.done():
            self.upgraded.set_exception(exc or ConnectionError("closed during the handshake"))
        if not self.lost.done():
            self.lost.set_result(None)


@dataclass
class Socket:
    """One connection: hello (+ snapshot), then statuses into `sink`."""

    url: str
    sink: StatusSink
    frames: int = 0  # event frames since the socket went live
    pings: int = 0  # the notifier's ping frames (sent after an interval without events)
    closed: str = ""
    _client: _Client | None = field(default=None, repr=False)
    _live: asyncio.Future[None] | None = field(default=None, repr=False)

    async def open(self, within: float = 30.0) -> None:
        """Connect and read until the snapshot (or an error): then it is live."""
        parts = urlsplit(self.url)
        key = base64.b64encode(os.urandom(16)).decode()
        request = (
            f"GET {parts.path}?{parts.query} HTTP/1.1\r\nHost: {parts.netloc}\r\n"
            f"Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
            "Sec-WebSocket-Version: 13\r\n\r\n"
        ).encode()
        loop = asyncio.get_running_loop()
        self._live = loop.create_future()
        async with asyncio.timeout(within):
            _, self._client = await loop.create_connection(
                lambda: _Client(request, self._text),
                parts.hostname or "127.0.0.1",
                parts.port or 80,
            )
            self._client.lost.add_done_callback(self._lost)
            await self._client.upgraded
            await self._live

    def _text(self, payload: bytes, at: float) -> None:
        frame = _decode(payload)
        if self._live is not None and not self._live.done():
            if frame.type == "snapshot" or frame.type == "error":
                self._live.set_result(None)
            return
        if frame.type == "ping":
            self.pings += 1
            return
        self.frames += 1
        ev = frame.event
        if frame.type == "event" and ev is not None and ev.type == "store-status":
            self.sink(ev.store, ev.phase or "", ev.generation, at, ev.reason)

    def _lost(self, _: object) -> None:
        client = self._client
        assert client is not None
        self.closed = f"closed {client.close_code} {client.close_reason}"
        if self._live is not None and not self._live.done():
            self._live.set_exception(ConnectionError(self.closed))

    async def close(self) -> None:
        client = self._client
        if client is None or client.transport is None or client.lost.done():
            return
        client.transport.write(_client_frame(_CLOSE, (1000).to_bytes(2)))
        try:
            await asyncio.wait_for(asyncio.shield(client.lost), 5)
        except TimeoutError:
            client.transport.abort()


async def open_sockets(
    n: int,
    base_url: str,
    secret: str,
    tenant: str,
    sinks: Callable[[], StatusSink],
    parallel: int = 64,
    on_progress: Callable[[int], Any] | None = None,
    budget_s: float = 300.0,
) -> tuple[list[Socket], float, list[str]]:
    """`n` live sockets, `parallel` handshakes at a time.

    Each socket gets its own sink from `sinks()`. Returns the sockets that opened,
    the seconds taken, and why the others did not (one line each). No handshake
    starts after `budget_s` seconds: the run stays bounded when the server stalls.

    Tickets are signed here with the shared secret, exactly as the gateway signs
    them (services.runtime.tickets), so 10,000 sockets do not cost 10,000 API calls.
    """
    sockets: list[Socket] = []
    failed: list[str] = []
    gate = asyncio.Semaphore(parallel)
    started = time.perf_counter()

    async def one() -> None:
        sock = Socket(socket_url(base_url, secret, tenant), sinks())
        async with gate:
            if time.perf_counter() - started > budget_s:
                failed.append(f"not tried: {budget_s:.0f}s budget spent")
                return
            try:
                await sock.open()
            except Exception as exc:
                failed.append(repr(exc)[:200])
                await sock.close()
                return
        sockets.append(sock)
        if on_progress is not None and len(sockets) % 1000 == 0:
            on_progress(len(sockets))

    await asyncio.gather(*(one() for _ in range(n)))
    return sockets, time.perf_counter() - started, failed


async def close_all(sockets: list[Socket]) -> None:
    for i in range(0, len(sockets), 500):
        await asyncio.gather(*(s.close() for s in sockets[i : i + 500]))
