"""Audit log of every mutating API call: who, what, when, from where, result.

An ASGI middleware, so rejected calls (401, 409, 422, 429, …) are recorded too.
A handler whose call commits a transaction anyway (a create) writes the call's
row in that transaction (`InTransaction`), and the middleware then writes none:
one commit per call instead of two.
"""

import logging
from typing import Any, Final

from litestar.types import ASGIApp, Message, Receive, Scope, Send

from services.gateway import repository as repo
from services.gateway.sql import Backend, Conn

log = logging.getLogger(__name__)

MUTATING = frozenset({"POST", "PUT", "PATCH", "DELETE"})
# Where an audited request's scope state holds its `InTransaction`.
STATE_KEY: Final = "audit"


class InTransaction:
    """The call's audit row, written by its handler inside the transaction that
    makes its change. The middleware writes its own row unless the response
    goes out with the status written here: a transaction that failed after the
    row (its commit) raises, so the answer is an error and gets its own row."""

    def __init__(self, scope: dict[str, Any]) -> None:
        self._scope = scope
        self.written: int | None = None

    async def write(self, conn: Conn, status_code: int) -> None:
        await repo.add_audit(conn, **_row(self._scope, status_code))
        self.written = status_code


def in_transaction(scope: dict[str, Any]) -> InTransaction | None:
    """The request's `InTransaction`; None when the call is not audited."""
    state: dict[str, Any] = scope.get("state") or {}
    found = state.get(STATE_KEY)
    return found if isinstance(found, InTransaction) else None


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
        # So handlers can name the actor and the target, or write the row themselves.
        pending = InTransaction(raw)
        raw.setdefault("state", {})[STATE_KEY] = pending
        recorded = False

        async def record_then_send(message: Message) -> None:
            # The row is written before the response starts, so a client that has
            # its answer can already find the call in the audit log.
            nonlocal recorded
            if message["type"] == "http.response.start":
                recorded = True
                if pending.written != message["status"]:
                    await _record(self.db, raw, message["status"])
            await send(message)

        try:
            await self.app(scope, receive, record_then_send)
        finally:
            if not recorded:
                await _record(self.db, raw, 500)


def _row(scope: dict[str, Any], code: int) -> dict[str, Any]:
    state: dict[str, Any] = scope["state"]
    client = scope.get("client")
    return {
        "actor": state.get("actor", "anonymous"),
        "action": f"{scope['method']} {scope['path']}",
        "target": state.get("audit_target", ""),
        "source": client[0] if client else "",
        "status_code": code,
        "result": "ok" if code < 400 else "rejected",
    }


async def _record(db: Backend, scope: dict[str, Any], code: int) -> None:
    row = _row(scope, code)
    try:
        async with db.transaction(exclusive=False) as conn:
            await repo.add_audit(conn, **row)
    except Exception:
        log.exception("audit row not written", extra=row)
