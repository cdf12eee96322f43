"""SQL for stores, tenants, tokens, outbox, events and audit. No HTTP here."""

from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

import aiosqlite
import msgspec

from services.contracts.events import Condition
from services.contracts.phases import LIVE, Phase
from services.contracts.store import Engine, Plan
from services.gateway.models import EventView, StoreView, TenantView
from services.gateway.projection import Projected

_conditions = msgspec.json.Decoder(list[Condition])
_LIVE_PHASES = tuple(p.value for p in LIVE)


def now() -> datetime:
    return datetime.now(UTC)


def _ts(value: datetime) -> str:
    return value.isoformat()


def store_from_row(row: aiosqlite.Row) -> StoreView:
    return StoreView(
        id=row["id"],
        tenant=row["tenant_id"],
        engine=Engine(row["engine"]),
        plan=Plan(row["plan"]),
        display_name=row["display_name"],
        storage_plan=Plan(row["storage_plan"]),
        phase=Phase(row["phase"]),
        generation=row["generation"],
        url=row["url"],
        reason=row["reason"],
        message=row["message"],
        conditions=_conditions.decode(row["conditions"]),
        created_at=datetime.fromisoformat(row["created_at"]),
        updated_at=datetime.fromisoformat(row["updated_at"]),
    )


def projected_from_view(view: StoreView) -> Projected:
    return Projected(
        phase=view.phase,
        generation=view.generation,
        url=view.url,
        reason=view.reason,
        message=view.message,
        conditions=view.conditions,
        updated_at=view.updated_at,
    )


async def get_store(conn: aiosqlite.Connection, store_id: str) -> StoreView | None:
    async with conn.execute("SELECT * FROM stores WHERE id = ?", (store_id,)) as cur:
        row = await cur.fetchone()
    return store_from_row(row) if row else None


async def list_stores(
    conn: aiosqlite.Connection, tenant: str, after: str, limit: int, include_deleted: bool
) -> list[StoreView]:
    phase_filter = "" if include_deleted else "AND phase != 'deleted'"
    sql = (
        f"SELECT * FROM stores WHERE tenant_id = ? AND id > ? {phase_filter} "  # noqa: S608
        "ORDER BY id LIMIT ?"
    )
    async with conn.execute(sql, (tenant, after, limit)) as cur:
        return [store_from_row(r) for r in await cur.fetchall()]


async def count_live_stores(conn: aiosqlite.Connection, tenant: str) -> int:
    marks = ",".join("?" * len(_LIVE_PHASES))
    sql = f"SELECT COUNT(*) FROM stores WHERE tenant_id = ? AND phase IN ({marks})"  # noqa: S608
    async with conn.execute(sql, (tenant, *_LIVE_PHASES)) as cur:
        row = await cur.fetchone()
    return int(row[0]) if row else 0


async def upsert_store(conn: aiosqlite.Connection, view: StoreView, first_generation: int) -> None:
    await conn.execute(
        """INSERT INTO stores (id, tenant_id, engine, plan, display_name, storage_plan, phase,
               generation, first_generation, url, reason, message, conditions, created_at,
               updated_at)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
           ON CONFLICT (id) DO UPDATE SET tenant_id=excluded.tenant_id, engine=excluded.engine,
               plan=excluded.plan, display_name=excluded.display_name,
               storage_plan=excluded.storage_plan, phase=excluded.phase,
               generation=excluded.generation, first_generation=excluded.first_generation,
               url=excluded.url, reason=excluded.reason, message=excluded.message,
               conditions=excluded.conditions, created_at=excluded.created_at,
               updated_at=excluded.updated_at, ready_at=NULL""",
        (
            view.id,
            view.tenant,
            view.engine.value,
            view.plan.value,
            view.display_name,
            view.storage_plan.value,
            view.phase.value,
            view.generation,
            first_generation,
            view.url,
            view.reason,
            view.message,
            msgspec.json.encode(view.conditions).decode(),
            _ts(view.created_at),
            _ts(view.updated_at),
        ),
    )


async def save_spec(conn: aiosqlite.Connection, view: StoreView) -> None:
    """A changed spec at its new generation (an update; the id and engine stay)."""
    await conn.execute(
        "UPDATE stores SET plan = ?, display_name = ?, phase = ?, generation = ?, reason = ?, "
        "message = ?, updated_at = ? WHERE id = ?",
        (
            view.plan.value,
            view.display_name,
            view.phase.value,
            view.generation,
            view.reason,
            view.message,
            _ts(view.updated_at),
            view.id,
        ),
    )


async def set_phase(
    conn: aiosqlite.Connection, store_id: str, phase: Phase, generation: int
) -> None:
    await conn.execute(
        "UPDATE stores SET phase = ?, generation = ?, reason = '', message = '', updated_at = ? "
        "WHERE id = ?",
        (phase.value, generation, _ts(now()), store_id),
    )


async def save_projection(conn: aiosqlite.Connection, store_id: str, p: Projected) -> None:
    await conn.execute(
        "UPDATE stores SET phase = ?, generation = ?, url = ?, reason = ?, message = ?, "
        "conditions = ?, updated_at = ? WHERE id = ?",
        (
            p.phase.value,
            p.generation,
            p.url,
            p.reason,
            p.message,
            msgspec.json.encode(p.conditions).decode(),
            _ts(p.updated_at or now()),
            store_id,
        ),
    )


async def mark_first_ready(conn: aiosqlite.Connection, store_id: str, at: datetime) -> bool:
    """Record the store's first `ready`; False when it was ready before."""
    cur = await conn.execute(
        "UPDATE stores SET ready_at = ? WHERE id = ? AND ready_at IS NULL", (_ts(at), store_id)
    )
    return cur.rowcount == 1


async def add_outbox(
    conn: aiosqlite.Connection, command_id: str, subject: str, payload: bytes
) -> None:
    await conn.execute(
        "INSERT INTO outbox (command_id, subject, payload, created_at) VALUES (?, ?, ?, ?)",
        (command_id, subject, payload, _ts(now())),
    )


async def unsent_outbox(conn: aiosqlite.Connection, limit: int) -> list[aiosqlite.Row]:
    sql = "SELECT id, command_id, subject, payload FROM outbox WHERE sent_at IS NULL ORDER BY id"
    async with conn.execute(f"{sql} LIMIT ?", (limit,)) as cur:
        return list(await cur.fetchall())


async def mark_sent(conn: aiosqlite.Connection, ids: Iterable[int]) -> None:
    await conn.executemany(
        "UPDATE outbox SET sent_at = ? WHERE id = ?", [(_ts(now()), i) for i in ids]
    )


async def prune_outbox(conn: aiosqlite.Connection, before: datetime) -> None:
    await conn.execute(
        "DELETE FROM outbox WHERE sent_at IS NOT NULL AND sent_at < ?", (_ts(before),)
    )


async def add_event(
    conn: aiosqlite.Connection,
    stream_seq: int,
    store_id: str,
    generation: int,
    kind: str,
    at: datetime,
    body: bytes,
) -> bool:
    """Record a timeline entry; False when this stream message was already seen."""
    cur = await conn.execute(
        "INSERT OR IGNORE INTO store_events (stream_seq, store_id, generation, type, at, body) "
        "VALUES (?, ?, ?, ?, ?, ?)",
        (stream_seq, store_id, generation, kind, _ts(at), body.decode()),
    )
    return cur.rowcount == 1


async def list_events(
    conn: aiosqlite.Connection, store_id: str, since_generation: int, limit: int
) -> list[EventView]:
    sql = (
        "SELECT seq, type, generation, at, body FROM store_events WHERE store_id = ? "
        "AND generation >= ? ORDER BY seq DESC LIMIT ?"
    )
    async with conn.execute(sql, (store_id, since_generation, limit)) as cur:
        rows = await cur.fetchall()
    return [
        EventView(
            seq=r["seq"],
            type=r["type"],
            generation=r["generation"],
            at=datetime.fromisoformat(r["at"]),
            event=msgspec.json.decode(r["body"]),
        )
        for r in reversed(list(rows))
    ]


async def first_generation(conn: aiosqlite.Connection, store_id: str) -> int:
    sql = "SELECT first_generation FROM stores WHERE id = ?"
    async with conn.execute(sql, (store_id,)) as cur:
        row = await cur.fetchone()
    return int(row[0]) if row else 0


async def add_audit(conn: aiosqlite.Connection, **fields: Any) -> None:
    await conn.execute(
        "INSERT INTO audit (at, actor, action, target, source, status_code, result) "
        "VALUES (:at, :actor, :action, :target, :source, :status_code, :result)",
        {"at": _ts(now()), **fields},
    )


async def tenant_for_token(conn: aiosqlite.Connection, token_hash: str) -> TenantView | None:
    sql = "SELECT t.* FROM tokens k JOIN tenants t ON t.id = k.tenant_id WHERE k.hash = ?"
    async with conn.execute(sql, (token_hash,)) as cur:
        row = await cur.fetchone()
    return tenant_from_row(row) if row else None


def tenant_from_row(row: aiosqlite.Row) -> TenantView:
    return TenantView(
        id=row["id"],
        display_name=row["display_name"],
        max_stores=row["max_stores"],
        created_at=datetime.fromisoformat(row["created_at"]),
    )


async def get_tenant(conn: aiosqlite.Connection, tenant: str) -> TenantView | None:
    async with conn.execute("SELECT * FROM tenants WHERE id = ?", (tenant,)) as cur:
        row = await cur.fetchone()
    return tenant_from_row(row) if row else None


async def list_tenants(conn: aiosqlite.Connection) -> list[TenantView]:
    async with conn.execute("SELECT * FROM tenants ORDER BY id") as cur:
        return [tenant_from_row(r) for r in await cur.fetchall()]


async def add_tenant(conn: aiosqlite.Connection, tenant: TenantView) -> None:
    await conn.execute(
        "INSERT INTO tenants (id, display_name, max_stores, created_at) VALUES (?, ?, ?, ?)",
        (tenant.id, tenant.display_name, tenant.max_stores, _ts(tenant.created_at)),
    )


async def add_token(conn: aiosqlite.Connection, tenant: str, token_hash: str) -> None:
    await conn.execute(
        "INSERT INTO tokens (hash, tenant_id, created_at) VALUES (?, ?, ?)",
        (token_hash, tenant, _ts(now())),
    )
