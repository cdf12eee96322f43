"""Requests for a store's host: the ingress sends a sleeping store's traffic to
the gateway, which wakes the store when its plan wakes on a visit
(`StoreService.visited`) and answers every path of it with the "asleep" or
"waking up" page (`sleep_page`); every other request goes on to the API."""

from typing import Any

from litestar.types import (
    ASGIApp,
    HTTPResponseBodyEvent,
    HTTPResponseStartEvent,
    Receive,
    Scope,
    Send,
)

from services.gateway.deps import GatewayDeps
from services.gateway.sleep_page import page, store_of_host
from services.gateway.store_service import StoreService


class StoreHostMiddleware:
    def __init__(self, app: ASGIApp, stores: StoreService, deps: GatewayDeps) -> None:
        self.app = app
        self.stores = stores
        self.deps = deps

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        raw: dict[str, Any] = scope  # type: ignore[assignment]
        store_id = (
            store_of_host(_host(raw), self.deps.settings.base_domain, self.deps.routed_domains)
            if raw["type"] == "http"
            else None
        )
        if store_id is None:
            await self.app(scope, receive, send)
            return
        answer = page(store_id, await self.stores.visited(store_id))
        headers = [(k.encode(), v.encode()) for k, v in answer.headers]
        start: HTTPResponseStartEvent = {
            "type": "http.response.start",
            "status": answer.status,
            "headers": headers,
        }
        await send(start)
        body: HTTPResponseBodyEvent = {
            "type": "http.response.body",
            "body": b"" if raw.get("method") == "HEAD" else answer.body,
            "more_body": False,
        }
        await send(body)


def _host(scope: dict[str, Any]) -> str:
    for name, value in scope.get("headers") or ():
        if name == b"host":
            return str(value.decode("latin-1"))
    return ""
