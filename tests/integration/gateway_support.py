"""Helpers for driving a gateway process over HTTP and reading what it published."""

import asyncio
import sqlite3
from typing import Any

import asyncpg
import httpx
from nats.js import JetStreamContext

from services.contracts import streams
from services.contracts.commands import CreateStore
from services.contracts.subjects import command_subject
from services.contracts.wire import decode_command
from tests.fixtures.waiting import eventually

ADMIN = "test-admin-token"


def gateway_env(nats_url: str, database: str, **extra: str) -> dict[str, str]:
    """`database`: a SQLite file, or a PostgreSQL URL."""
    where = "URUMI_DATABASE_URL" if database.startswith("postgresql://") else "URUMI_DATABASE"
    return {
        "URUMI_NATS_URL": nats_url,
        where: database,
        "URUMI_ADMIN_TOKEN": ADMIN,
        "URUMI_TICKET_SECRET": "test-ticket-secret",
        **extra,
    }


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def new_tenant(api: str, tenant: str, max_stores: int = 20) -> str:
    async with httpx.AsyncClient(base_url=api) as http:
        r = await http.post(
            "/api/v1/tenants", json={"id": tenant, "max_stores": max_stores}, headers=auth(ADMIN)
        )
    assert r.status_code == 201, r.text
    token: str = r.json()["token"]
    return token


async def create_stores(api: str, token: str, ids: list[str], at_once: int = 50) -> None:
    """Create every store in `ids` (`at_once` requests in flight); each must be 202."""
    async with httpx.AsyncClient(base_url=api, headers=auth(token)) as http:
        for start in range(0, len(ids), at_once):
            answers = await asyncio.gather(
                *(http.post("/api/v1/stores", json={"id": i}) for i in ids[start : start + at_once])
            )
            assert {r.status_code for r in answers} == {202}, [r.text for r in answers]


async def command_count(js: JetStreamContext) -> int:
    info = await js.stream_info(streams.COMMANDS.name)
    return int(info.state.messages)


async def query(database: str, sql: str) -> list[tuple[Any, ...]]:
    """Rows straight from the gateway's database (a SQLite file or PostgreSQL URL)."""
    if not database.startswith("postgresql://"):
        with sqlite3.connect(database) as conn:
            return conn.execute(sql).fetchall()
    conn = await asyncpg.connect(database)
    try:
        return [tuple(row) for row in await conn.fetch(sql)]
    finally:
        await conn.close()


async def last_command(js: JetStreamContext, store: str, commands: int) -> CreateStore:
    """Tenant acme's store's last command, once `commands` were published in all."""

    async def published() -> bool:
        return await command_count(js) == commands

    await eventually(published)
    msg = await js.get_last_msg(streams.COMMANDS.name, command_subject("acme", store))
    command = decode_command(msg.data or b"")
    assert isinstance(command, CreateStore)
    return command


async def store_at(
    http: httpx.AsyncClient, store: str, generation: int, phase: str
) -> dict[str, Any] | None:
    """The store's view once it is at `generation` in `phase`, else None (for
    `eventually`)."""
    view: dict[str, Any] = (await http.get(f"/api/v1/stores/{store}")).json()
    return view if (view["generation"], view["phase"]) == (generation, phase) else None
