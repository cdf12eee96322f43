"""SQL for stores, tenants, tokens, outbox, events and audit. No HTTP here."""

from datetime import UTC, datetime

import msgspec

from services.contracts.events import Condition, StoreProgress
from services.contracts.phases import Phase
from services.contracts.store import Engine, Plan
from services.contracts.store_state import StoreState
from services.contracts.wire import encode
from services.gateway.models import EventView, StoreView, TenantView
from services.gateway.rollback import SpecCause, SpecRecord
from services.gateway.sql import Conn, Row
from services.runtime.token_bucket import BucketPolicy

_conditions = msgspec.json.Decoder(list[Condition])
_domains = msgspec.json.Decoder(list[str])


def now() -> datetime:
    return datetime.now(UTC)


def _ts(value: datetime) -> str:
    return value.isoformat()


def store_from_row(row: Row) -> StoreView:
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
        release=row["release"],
        asleep=bool(row["asleep"]),
        domains=_domains.decode(row["domains"]),
        last_visit_at=datetime.fromisoformat(row["last_visit_at"]),
    )


def projected_from_view(view: StoreView) -> StoreState:
    return StoreState(
        phase=view.phase,
        generation=view.generation,
        url=view.url,
        reason=view.reason,
        message=view.message,
        conditions=view.conditions,
        updated_at=view.updated_at,
    )


def with_projection(view: StoreView, p: StoreState) -> StoreView:
    """`view` as `save_projection(p)` leaves its row (the inverse of the above)."""
    assert p.updated_at is not None
    return msgspec.structs.replace(
        view,
        phase=p.phase,
        generation=p.generation,
        url=p.url,
        reason=p.reason,
        message=p.message,
        conditions=p.conditions,
        updated_at=p.updated_at,
    )


async def get_store(conn: Conn, store_id: str) -> StoreView | None:
    row = await conn.fetchone("SELECT * FROM stores WHERE id = ?", store_id)
    return store_from_row(row) if row else None


async def list_stores(
    conn: Conn, tenant: str, after: str, limit: int, include_deleted: bool
) -> list[StoreView]:
    phase_filter = "" if include_deleted else "AND phase != 'deleted'"
    sql = (
        f"SELECT * FROM stores WHERE tenant_id = ? AND id > ? {phase_filter} "  # noqa: S608
        "ORDER BY id LIMIT ?"
    )
    return [store_from_row(r) for r in await conn.fetchall(sql, tenant, after, limit)]


async def count_live_stores(conn: Conn, tenant: str) -> int:
    """The tenant's stores in any phase but `deleted` (migration 12's triggers count them)."""
    row = await conn.fetchone("SELECT live_stores FROM tenants WHERE id = ?", tenant)
    return int(row[0]) if row else 0


async def upsert_store(conn: Conn, view: StoreView, first_generation: int) -> None:
    await conn.execute(
        """INSERT INTO stores (id, tenant_id, engine, plan, display_name, storage_plan, phase,
               generation, first_generation, url, reason, message, conditions, created_at,
               updated_at, release, asleep, domains, last_visit_at)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
           ON CONFLICT (id) DO UPDATE SET tenant_id=excluded.tenant_id, engine=excluded.engine,
               plan=excluded.plan, display_name=excluded.display_name,
               storage_plan=excluded.storage_plan, release=excluded.release, phase=excluded.phase,
               generation=excluded.generation, first_generation=excluded.first_generation,
               url=excluded.url, reason=excluded.reason, message=excluded.message,
               conditions=excluded.conditions, created_at=excluded.created_at,
               updated_at=excluded.updated_at, asleep=excluded.asleep, domains=excluded.domains,
               last_visit_at=excluded.last_visit_at, ready_at=NULL""",
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
        view.release,
        int(view.asleep),
        msgspec.json.encode(view.domains).decode(),
        _ts(view.created_at),  # a new store's idle time counts from its creation
    )


async def save_spec(conn: Conn, view: StoreView) -> None:
    """A changed spec at its new generation (an update, a rollback, a sleep, a
    wake or a domain routed or removed; the id and engine stay)."""
    await conn.execute(
        "UPDATE stores SET plan = ?, display_name = ?, release = ?, asleep = ?, domains = ?, "
        "phase = ?, generation = ?, reason = ?, message = ?, updated_at = ? WHERE id = ?",
        view.plan.value,
        view.display_name,
        view.release,
        int(view.asleep),
        msgspec.json.encode(view.domains).decode(),
        view.phase.value,
        view.generation,
        view.reason,
        view.message,
        _ts(view.updated_at),
        view.id,
    )


async def visited(conn: Conn, store: StoreView, at: datetime) -> bool:
    """`at` the store's last visit, unless it has a later one; whether it changed."""
    if store.last_visit_at is not None and store.last_visit_at >= at:
        return False
    await conn.execute("UPDATE stores SET last_visit_at = ? WHERE id = ?", _ts(at), store.id)
    return True


async def awake_stores(conn: Conn) -> list[StoreView]:
    """Every store awake and not being deleted (what auto-sleep looks at)."""
    sql = "SELECT * FROM stores WHERE asleep = 0 AND phase NOT IN ('deleting', 'deleted')"
    return [store_from_row(r) for r in await conn.fetchall(sql)]


async def add_spec(conn: Conn, store_id: str, spec: SpecRecord) -> None:
    """Remember a generation's spec (a deleted id reused starts its generations
    past the old life's, so a row is never overwritten)."""
    await conn.execute(
        "INSERT INTO store_specs (store_id, generation, plan, display_name, release, cause, at) "
        "VALUES (?, ?, ?, ?, ?, ?, ?)",
        store_id,
        spec.generation,
        spec.plan.value,
        spec.display_name,
        spec.release,
        spec.cause.value,
        _ts(now()),
    )


async def spec_history(conn: Conn, store_id: str, limit: int = 2) -> list[SpecRecord]:
    """The latest `limit` specs of the store's current life, newest first."""
    sql = (
        "SELECT h.generation, h.plan, h.display_name, h.release, h.cause FROM store_specs h "
        "JOIN stores s ON s.id = h.store_id WHERE h.store_id = ? "
        "AND h.generation >= s.first_generation ORDER BY h.generation DESC LIMIT ?"
    )
    return [
        SpecRecord(
            generation=r["generation"],
            plan=Plan(r["plan"]),
            display_name=r["display_name"],
            release=r["release"],
            cause=SpecCause(r["cause"]),
        )
        for r in await conn.fetchall(sql, store_id, limit)
    ]


async def set_phase(conn: Conn, store_id: str, phase: Phase, generation: int) -> None:
    await conn.execute(
        "UPDATE stores SET phase = ?, generation = ?, reason = '', message = '', updated_at = ? "
        "WHERE id = ?",
        phase.value,
        generation,
        _ts(now()),
        store_id,
    )


async def save_projection(conn: Conn, store_id: str, p: StoreState) -> None:
    await conn.execute(
        "UPDATE stores SET phase = ?, generation = ?, url = ?, reason = ?, message = ?, "
        "conditions = ?, updated_at = ? WHERE id = ?",
        p.phase.value,
        p.generation,
        p.url,
        p.reason,
        p.message,
        msgspec.json.encode(p.conditions).decode(),
        _ts(p.updated_at or now()),
        store_id,
    )


async def mark_first_ready(conn: Conn, store_id: str, at: datetime) -> bool:
    """Record the store's first `ready`; False when it was ready before."""
    sql = "UPDATE stores SET ready_at = ? WHERE id = ? AND ready_at IS NULL"
    return await conn.execute(sql, _ts(at), store_id) == 1


async def add_outbox(conn: Conn, command_id: str, subject: str, payload: bytes) -> None:
    await conn.execute(
        "INSERT INTO outbox (command_id, subject, payload, created_at) VALUES (?, ?, ?, ?)",
        command_id,
        subject,
        payload,
        _ts(now()),
    )


async def unsent_outbox(conn: Conn, limit: int) -> list[Row]:
    """The oldest unsent commands; on PostgreSQL, locked for this transaction and
    skipping those another replica holds."""
    sql = "SELECT id, command_id, subject, payload FROM outbox WHERE sent_at IS NULL ORDER BY id"
    lock = " FOR UPDATE SKIP LOCKED" if conn.dialect == "postgresql" else ""
    return await conn.fetchall(f"{sql} LIMIT ?{lock}", limit)


async def mark_sent(conn: Conn, ids: list[int]) -> None:
    marks = ",".join("?" * len(ids))
    sql = f"UPDATE outbox SET sent_at = ? WHERE id IN ({marks})"  # noqa: S608
    await conn.execute(sql, _ts(now()), *ids)


async def prune_outbox(conn: Conn, before: datetime) -> None:
    await conn.execute("DELETE FROM outbox WHERE sent_at IS NOT NULL AND sent_at < ?", _ts(before))


async def add_event(
    conn: Conn,
    stream_seq: int,
    store_id: str,
    generation: int,
    kind: str,
    at: datetime,
    body: bytes,
) -> bool:
    """Record a timeline entry; False when this stream message was already seen."""
    sql = (
        "INSERT INTO store_events (stream_seq, store_id, generation, type, at, body) "
        "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (stream_seq) DO NOTHING"
    )
    return (
        await conn.execute(sql, stream_seq, store_id, generation, kind, _ts(at), body.decode()) == 1
    )


async def add_own_event(conn: Conn, event: StoreProgress) -> None:
    """A timeline entry the gateway writes itself: no stream message, so no
    stream sequence (and none of the projector's ordering applies to it)."""
    await conn.execute(
        "INSERT INTO store_events (store_id, generation, type, at, body) VALUES (?, ?, ?, ?, ?)",
        event.store,
        event.generation,
        "progress",
        _ts(event.at),
        encode(event).decode(),
    )


async def newest_event_seq(conn: Conn, store_id: str) -> int:
    """The newest stream sequence of the store's status, progress or backup
    entries (0: none): with several replicas sharing the consumer, events can
    arrive out of order, and one older than this is not folded."""
    sql = "SELECT MAX(stream_seq) FROM store_events WHERE store_id = ? AND type != 'kube'"
    row = await conn.fetchone(sql, store_id)
    return int(row[0]) if row is not None and row[0] is not None else 0


async def list_events(
    conn: Conn, store_id: str, since_generation: int, limit: int
) -> list[EventView]:
    sql = (
        "SELECT seq, type, generation, at, body FROM store_events WHERE store_id = ? "
        "AND generation >= ? ORDER BY seq DESC LIMIT ?"
    )
    rows = await conn.fetchall(sql, store_id, since_generation, limit)
    return [
        EventView(
            seq=r["seq"],
            type=r["type"],
            generation=r["generation"],
            at=datetime.fromisoformat(r["at"]),
            event=msgspec.json.decode(r["body"]),
        )
        for r in reversed(rows)
    ]


async def first_generation(conn: Conn, store_id: str) -> int:
    row = await conn.fetchone("SELECT first_generation FROM stores WHERE id = ?", store_id)
    return int(row[0]) if row else 0


async def add_audit(
    conn: Conn, actor: str, action: str, target: str, source: str, status_code: int, result: str
) -> None:
    await conn.execute(
        "INSERT INTO audit (at, actor, action, target, source, status_code, result) "
        "VALUES (?, ?, ?, ?, ?, ?, ?)",
        _ts(now()),
        actor,
        action,
        target,
        source,
        status_code,
        result,
    )


async def tenant_for_token(conn: Conn, token_hash: str) -> TenantView | None:
    sql = "SELECT t.* FROM tokens k JOIN tenants t ON t.id = k.tenant_id WHERE k.hash = ?"
    row = await conn.fetchone(sql, token_hash)
    return tenant_from_row(row) if row else None


def tenant_from_row(row: Row) -> TenantView:
    return TenantView(
        id=row["id"],
        display_name=row["display_name"],
        max_stores=row["max_stores"],
        created_at=datetime.fromisoformat(row["created_at"]),
    )


async def get_tenant(conn: Conn, tenant: str) -> TenantView | None:
    row = await conn.fetchone("SELECT * FROM tenants WHERE id = ?", tenant)
    return tenant_from_row(row) if row else None


async def list_tenants(conn: Conn) -> list[TenantView]:
    return [tenant_from_row(r) for r in await conn.fetchall("SELECT * FROM tenants ORDER BY id")]


async def add_tenant(conn: Conn, tenant: TenantView) -> None:
    await conn.execute(
        "INSERT INTO tenants (id, display_name, max_stores, created_at) VALUES (?, ?, ?, ?)",
        tenant.id,
        tenant.display_name,
        tenant.max_stores,
        _ts(tenant.created_at),
    )


async def add_token(conn: Conn, tenant: str, token_hash: str) -> None:
    await conn.execute(
        "INSERT INTO tokens (hash, tenant_id, created_at) VALUES (?, ?, ?)",
        token_hash,
        tenant,
        _ts(now()),
    )


async def take_token(conn: Conn, key: str, at: float, bucket: BucketPolicy) -> float | None:
    """Take a token from `key`'s bucket in one atomic statement: None when taken,
    else the tokens it holds (fewer than one). The statement spells out
    `bucket.refill`, so that replicas never read and write the row apart."""
    refill = (
        "CASE WHEN rate_buckets.tokens + (excluded.at - rate_buckets.at) * ? < ? "
        "THEN rate_buckets.tokens + (excluded.at - rate_buckets.at) * ? ELSE ? END"
    )
    sql = (
        "INSERT INTO rate_buckets (key, tokens, at) VALUES (?, ?, ?) "  # noqa: S608
        f"ON CONFLICT (key) DO UPDATE SET tokens = {refill} - 1, at = excluded.at "
        f"WHERE {refill} >= 1 RETURNING tokens"
    )
    rate, burst = bucket.rate, bucket.burst
    params = (rate, burst, rate, burst)
    if await conn.fetchone(sql, key, burst - 1, at, *params, *params) is not None:
        return None
    row = await conn.fetchone("SELECT tokens, at FROM rate_buckets WHERE key = ?", key)
    assert row is not None  # the statement above found it
    return bucket.refill(float(row["tokens"]), float(row["at"]), at)
