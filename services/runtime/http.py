"""Serve an ASGI app in-process with uvicorn until a stop event."""

import asyncio
import contextlib
from collections.abc import Iterator

import uvicorn
from litestar import Litestar

from services.runtime.health import Health, health_handlers


class _Server(uvicorn.Server):
    """uvicorn without its own signal handling: the service owns SIGTERM."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


async def serve(app: Litestar, host: str, port: int, stop: asyncio.Event) -> None:
    # No permessage-deflate: a zlib context per websocket (tens of KiB, thousands of
    # sockets) and CPU per socket per frame, to shrink frames of a few hundred bytes.
    config = uvicorn.Config(
        app, host=host, port=port, log_config=None, lifespan="on", ws_per_message_deflate=False
    )
    server = _Server(config)
    task = asyncio.create_task(server.serve())
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
