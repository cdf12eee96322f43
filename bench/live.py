"""Websocket clients of the notifier for the benchmarks (docs/websocket.md).

Many sockets share one asyncio loop in this process (the machine has 2 cores, so
one client process keeps the rest for the services). Every frame is timestamped
on arrival with ``time.perf_counter()`` before anything else is done with it.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

import httpx
import msgspec
from websockets.asyncio.client import ClientConnection, connect

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


@dataclass
class Socket:
    """One connection: hello (+ snapshot), then statuses into `sink`."""

    url: str
    sink: StatusSink
    ws: ClientConnection | None = None
    frames: int = 0
    closed: str = ""
    _task: asyncio.Task[None] | None = field(default=None, repr=False)

    async def open(self, within: float = 30.0) -> None:
        """Connect and read until the snapshot (or a resumed hello): then it is live."""
        self.ws = await connect(
            self.url,
            open_timeout=within,
            ping_interval=None,  # the server pings; the library answers by itself
            max_queue=64,
            compression=None,
        )
        async with asyncio.timeout(within):
            while True:
                frame = _decode(await self.ws.recv())
                if frame.type == "snapshot" or frame.type == "error":
                    break
        self._task = asyncio.create_task(self._read())

    async def _read(self) -> None:
        assert self.ws is not None
        try:
            async for raw in self.ws:
                at = time.perf_counter()
                self.frames += 1
                frame = _decode(raw)
                ev = frame.event
                if frame.type == "event" and ev is not None and ev.type == "store-status":
                    self.sink(ev.store, ev.phase or "", ev.generation, at, ev.reason)
        except Exception as exc:  # the benchmark reports it; it must not kill the loop
            self.closed = repr(exc)
        else:
            self.closed = f"closed {self.ws.close_code} {self.ws.close_reason}"

    async def close(self) -> None:
        if self.ws is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self.ws.close(), 5)
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(BaseException):
                await self._task


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
