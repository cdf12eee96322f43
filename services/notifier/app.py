"""The notifier's Litestar app: ``/ws`` plus health and metrics."""

import asyncio
from typing import Any, cast

from litestar import Litestar, WebSocket, websocket
from litestar.enums import ScopeType
from litestar.types import LifeSpanReceive, LifeSpanScope, LifeSpanSend, Receive, Scope, Send
from nats.js import JetStreamContext

from services.notifier.direct import DIRECT_SCOPE_KEY, direct_writer
from services.notifier.hub import Hub
from services.notifier.session import Session
from services.notifier.settings import NotifierSettings
from services.runtime.health import Health, health_handlers


class _NotifierApp(Litestar):
    """Litestar, handing each websocket session the server's own ``send``.

    Litestar wraps ``send`` before the handler sees it; the hub's direct writes
    (``direct.py``) need the server's, so it is put in the scope here, first.
    """

    async def __call__(
        self,
        scope: Scope | LifeSpanScope,
        receive: Receive | LifeSpanReceive,
        send: Send | LifeSpanSend,
    ) -> None:
        if scope["type"] == ScopeType.WEBSOCKET:
            cast(dict[str, Any], scope)[DIRECT_SCOPE_KEY] = direct_writer(send)
        await super().__call__(scope, receive, send)


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

    return _NotifierApp(
        route_handlers=[ws, *health_handlers(health)],
        on_shutdown=[hub.close],
        openapi_config=None,
        logging_config=None,
    )
