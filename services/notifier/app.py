"""The notifier's Litestar app: ``/ws`` plus health and metrics."""

import asyncio
from typing import Any

from litestar import Litestar, WebSocket, websocket
from nats.js import JetStreamContext

from services.notifier.hub import Hub
from services.notifier.session import Session
from services.notifier.settings import NotifierSettings
from services.runtime.health import Health, health_handlers


def create_app(
    settings: NotifierSettings, js: JetStreamContext, health: Health, stop: asyncio.Event
) -> Litestar:
    """``stop`` closes every socket with 1012 so clients resume on another replica.

    One hub (one shared JetStream consumer) per app: replicas share nothing.
    """
    hub = Hub(js)

    @websocket("/ws")
    async def ws(socket: WebSocket[Any, Any, Any]) -> None:
        await Session(socket, js, hub, settings, stop).run()

    return Litestar(
        route_handlers=[ws, *health_handlers(health)],
        on_shutdown=[hub.close],
        openapi_config=None,
        logging_config=None,
    )
