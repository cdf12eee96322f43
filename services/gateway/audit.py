"""Audit log of every mutating API call: who, what, when, from where, result.

An ASGI middleware, so rejected calls (401, 409, 422, 429, …) are recorded too.
"""

import logging
from typing import Any

from litestar.types import ASGIApp, Message, Receive, Scope, Send

from services.gateway import repository as repo
from services.gateway.sql import Backend

log = logging.getLogger(__name__)

MUTATING = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def _audited(scope: dict[str, Any]) -> bool:
    if scope.get("type") != "http" or not str(scope.get("path", "")).startswith("/api/"):
        return False
    return scope.get("method") in MUTATING or str(scope["path"]).endswith("/credentials")


class AuditMiddleware:
    def __init__(self, app: ASGIApp, db: Backend) -> None:
        self.app = app
        self.db = db

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        raw: dict[str, Any] = scope  # type: ignore[assignment]
        if not _audited(raw):
            await self.app(scope, receive, send)
            return
        raw.setdefault("state", {})  # so handlers can name the actor and the target
        recorded = False

        async def record_then_send(message: Message) -> None:
            # The row is written before the response starts, so a client that has
            # its answer can already find the call in the audit log.
            nonlocal recorded
            if message["type"] == "http.response.start":
                recorded = True
                await _record(self.db, raw, message["status"])
            await send(message)

        try:
            await self.app(scope, receive, record_then_send)
        finally:
            if not recorded:
                await _record(self.db, raw, 500)


async def _record(db: Backend, scope: dict[str, Any], code: int) -> None:
    state: dict[str, Any] = scope["state"]
    client = scope.get("client")
    row = {
        "actor": state.get("actor", "anonymous"),
        "action": f"{scope['method']} {scope['path']}",
        "target": state.get("audit_target", ""),
        "source": client[0] if client else "",
        "status_code": code,
        "result": "ok" if code < 400 else "rejected",
    }
    try:
        async with db.transaction(exclusive=False) as conn:
            await repo.add_audit(conn, **row)
    except Exception:
        log.exception("audit row not written", extra=row)
