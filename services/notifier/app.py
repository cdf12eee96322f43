"""The notifier's Litestar app: ``/ws`` plus health and metrics."""

import asyncio
from typing import Any

from litestar import Litestar, WebSocket, websocket
from nats.js import JetStreamContext

from services.notifier.session import Session
from services.runtime.health import Health, health_handlers
from services.runtime.settings import Settings


def create_app(
    settings: Settings, js: JetStreamContext, health: Health, stop: asyncio.Event
) -> Litestar:
    """``stop`` closes every socket with 1012 so clients resume on another replica."""

    @websocket("/ws")
    async def ws(socket: WebSocket[Any, Any, Any]) -> None:
        await Session(socket, js, settings, stop).run()

    return Litestar(
        route_handlers=[ws, *health_handlers(health)], openapi_config=None, logging_config=None
    )
