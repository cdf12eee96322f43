"""Serve an ASGI app in-process with uvicorn until a stop event."""

import asyncio
import contextlib
import socket
from collections.abc import Iterator
from typing import Any

import uvicorn
from litestar import Litestar

from services.runtime.health import Health, health_handlers


class _Server(uvicorn.Server):
    """uvicorn without its own signal handling: the service owns SIGTERM."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


def _config(app: Litestar, **where: Any) -> uvicorn.Config:
    # No permessage-deflate: a zlib context per websocket (tens of KiB, thousands of
    # sockets) and CPU per socket per frame, to shrink frames of a few hundred bytes.
    # No access log: it would repeat every request's path (the gateway's audit log
    # and HTTP metrics say what was asked), and uvicorn builds each line's parts
    # even when the logger drops it. No `server` header naming uvicorn either.
    return uvicorn.Config(
        app,
        log_config=None,
        lifespan="on",
        ws_per_message_deflate=False,
        access_log=False,
        server_header=False,
        **where,
    )


async def serve(app: Litestar, host: str, port: int, stop: asyncio.Event) -> None:
    await _until(_Server(_config(app, host=host, port=port)), stop)


async def serve_socket(app: Litestar, sock: socket.socket, stop: asyncio.Event) -> None:
    """`serve` on a socket bound by the caller (several processes share its port)."""
    await _until(_Server(_config(app)), stop, [sock])


async def _until(
    server: uvicorn.Server, stop: asyncio.Event, sockets: list[socket.socket] | None = None
) -> None:
    task = asyncio.create_task(server.serve(sockets=sockets))
    stopper = asyncio.create_task(stop.wait())
    await asyncio.wait({task, stopper}, return_when=asyncio.FIRST_COMPLETED)
    server.should_exit = True
    stopper.cancel()
    await task


def health_app(health: Health) -> Litestar:
    """A bare app with the health endpoints, for services without an HTTP API."""
    return Litestar(
        route_handlers=health_handlers(health), openapi_config=None, logging_config=None
    )
