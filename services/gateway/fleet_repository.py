"""SQL for fleet upgrades (tables `fleets` and `fleet_members`). No HTTP here."""

from collections.abc import Sequence
from datetime import datetime

import msgspec

from services.contracts.fleet import (
    ACTIVE,
    FleetMember,
    FleetState,
    FleetSummary,
    MemberState,
)
from services.contracts.phases import LIVE
from services.contracts.store import Engine
from services.gateway import fleet_plan
from services.gateway.models import StoreView
from services.gateway.repository import now, store_from_row
from services.gateway.sql import Conn, Row

_ACTIVE = tuple(s.value for s in ACTIVE)
_LIVE = tuple(p.value for p in LIVE)


def _marks(values: Sequence[str]) -> str:
    return ",".join("?" * len(values))


def _summary(row: Row, members: Sequence[FleetMember]) -> FleetSummary:
    return FleetSummary(
        id=row["id"],
        engine=Engine(row["engine"]),
        to_release=row["to_release"],
        wave_size=row["wave_size"],
        max_failures=row["max_failures"],
        store_timeout_s=row["store_timeout_s"],
        state=FleetState(row["state"]),
        wave=row["wave"],
        waves=row["waves"],
        counts=fleet_plan.counts(members),
        actor=row["actor"],
        created_at=datetime.fromisoformat(row["created_at"]),
        updated_at=datetime.fromisoformat(row["updated_at"]),
        message=row["message"],
    )


def _member(row: Row) -> FleetMember:
    return FleetMember(
        store=row["store_id"],
        tenant=row["tenant_id"],
        wave=row["wave"],
        from_release=row["from_release"],
        state=MemberState(row["state"]),
        generation=row["generation"],
        reason=row["reason"],
        started_at=datetime.fromisoformat(row["started_at"]) if row["started_at"] else None,
    )


async def live_stores(conn: Conn, engine: Engine) -> list[StoreView]:
    """Every tenant's live stores of `engine`, oldest first."""
    sql = (
        f"SELECT * FROM stores WHERE engine = ? AND phase IN ({_marks(_LIVE)}) "  # noqa: S608
        "AND phase != 'deleting' ORDER BY created_at, id"
    )
    return [store_from_row(r) for r in await conn.fetchall(sql, engine.value, *_LIVE)]


async def active_fleet(conn: Conn, engine: Engine) -> str | None:
    sql = f"SELECT id FROM fleets WHERE engine = ? AND state IN ({_marks(_ACTIVE)})"  # noqa: S608
    row = await conn.fetchone(sql, engine.value, *_ACTIVE)
    return str(row["id"]) if row else None


async def add_fleet(conn: Conn, fleet: FleetSummary, all_members: Sequence[FleetMember]) -> None:
    await conn.execute(
        "INSERT INTO fleets (id, engine, to_release, wave_size, max_failures, store_timeout_s, "
        "state, wave, waves, actor, message, created_at, updated_at) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        fleet.id,
        fleet.engine.value,
        fleet.to_release,
        fleet.wave_size,
        fleet.max_failures,
        fleet.store_timeout_s,
        fleet.state.value,
        fleet.wave,
        fleet.waves,
        fleet.actor,
        fleet.message,
        fleet.created_at.isoformat(),
        fleet.updated_at.isoformat(),
    )
    for m in all_members:
        await conn.execute(
            "INSERT INTO fleet_members (fleet_id, store_id, tenant_id, wave, from_release, "
            "state, generation, reason) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            fleet.id,
            m.store,
            m.tenant,
            m.wave,
            m.from_release,
            m.state.value,
            m.generation,
            m.reason,
        )


async def get_fleet(conn: Conn, fleet_id: str) -> tuple[FleetSummary, list[FleetMember]] | None:
    row = await conn.fetchone("SELECT * FROM fleets WHERE id = ?", fleet_id)
    if row is None:
        return None
    sql = "SELECT * FROM fleet_members WHERE fleet_id = ? ORDER BY wave, store_id"
    all_members = [_member(r) for r in await conn.fetchall(sql, fleet_id)]
    return _summary(row, all_members), all_members


async def list_fleets(conn: Conn, limit: int) -> list[FleetSummary]:
    """The newest fleets first, each with its counts."""
    rows = await conn.fetchall("SELECT * FROM fleets ORDER BY created_at DESC LIMIT ?", limit)
    fleets = []
    for row in rows:
        sql = "SELECT * FROM fleet_members WHERE fleet_id = ?"
        fleets.append(_summary(row, [_member(r) for r in await conn.fetchall(sql, row["id"])]))
    return fleets


async def fleets_to_drive(conn: Conn) -> list[str]:
    """Fleets that may start a wave, and final ones with stores still in flight."""
    sql = (
        f"SELECT id FROM fleets WHERE state IN ({_marks(_ACTIVE)}) OR id IN "  # noqa: S608
        "(SELECT fleet_id FROM fleet_members WHERE state = 'upgrading') ORDER BY created_at"
    )
    return [str(r["id"]) for r in await conn.fetchall(sql, *_ACTIVE)]


async def save_fleet(conn: Conn, fleet: FleetSummary) -> None:
    await conn.execute(
        "UPDATE fleets SET state = ?, wave = ?, message = ?, updated_at = ? WHERE id = ?",
        fleet.state.value,
        fleet.wave,
        fleet.message,
        fleet.updated_at.isoformat(),
        fleet.id,
    )


async def save_member(conn: Conn, fleet_id: str, m: FleetMember) -> None:
    await conn.execute(
        "UPDATE fleet_members SET state = ?, generation = ?, reason = ?, started_at = ? "
        "WHERE fleet_id = ? AND store_id = ?",
        m.state.value,
        m.generation,
        m.reason,
        m.started_at.isoformat() if m.started_at else None,
        fleet_id,
        m.store,
    )


async def fail_upgrade(conn: Conn, store_id: str, generation: int, reason: str) -> str | None:
    """Mark the store's fleet upgrade at `generation` failed (the projector saw it
    fail and rolled it back): the fleet's id, or None when none was upgrading it."""
    sql = (
        "SELECT fleet_id FROM fleet_members "
        "WHERE store_id = ? AND generation = ? AND state = 'upgrading'"
    )
    row = await conn.fetchone(sql, store_id, generation)
    if row is None:
        return None
    fleet_id = str(row["fleet_id"])
    await conn.execute(
        "UPDATE fleet_members SET state = 'failed', reason = ? WHERE fleet_id = ? AND store_id = ?",
        reason,
        fleet_id,
        store_id,
    )
    return fleet_id


def touched(fleet: FleetSummary, state: FleetState, message: str) -> FleetSummary:
    """The fleet in `state`, saying `message`, changed now."""
    return msgspec.structs.replace(fleet, state=state, message=message, updated_at=now())
