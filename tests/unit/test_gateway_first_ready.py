"""A store's first `ready` (what the POST → ready histogram counts) is recorded
once per store: not again after an upgrade, again after a re-create."""

import sqlite3
from datetime import UTC, datetime
from pathlib import Path

from services.contracts.phases import Phase
from services.contracts.store import Engine, Plan
from services.gateway import repository as repo
from services.gateway.db import Database
from services.gateway.migrations import MIGRATIONS, for_sqlite
from services.gateway.models import StoreView, TenantView

AT = datetime(2026, 3, 1, tzinfo=UTC)


def _release_two(path: Path) -> None:
    """The schema before ready_at, with a ready, a degraded and a provisioning store."""
    with sqlite3.connect(path) as conn:
        for script in MIGRATIONS[:2]:
            conn.executescript(for_sqlite(script))
        conn.execute("PRAGMA user_version = 2")
        conn.execute("INSERT INTO tenants VALUES ('acme', '', 5, '2026-01-01T00:00:00+00:00')")
        for store, phase in (("up", "ready"), ("hurt", "degraded"), ("new", "provisioning")):
            conn.execute(
                "INSERT INTO stores (id, tenant_id, engine, plan, display_name, storage_plan, "
                "phase, generation, first_generation, created_at, updated_at) VALUES "
                "(?, 'acme', 'medusa', 'small', '', 'small', ?, 1, 1, "
                "'2026-01-01T00:00:00+00:00', '2026-01-01T00:05:00+00:00')",
                (store, phase),
            )


async def test_stores_ready_before_the_upgrade_are_not_counted_again(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    _release_two(path)
    db = Database(str(path))
    await db.open()
    try:
        async with db.transaction() as conn:
            first = {s: await repo.mark_first_ready(conn, s, AT) for s in ("up", "hurt", "new")}
    finally:
        await db.close()
    assert first == {"up": False, "hurt": False, "new": True}


def _view(generation: int, phase: Phase) -> StoreView:
    return StoreView(
        id="shop",
        tenant="acme",
        engine=Engine.WOOCOMMERCE,
        plan=Plan.SMALL,
        display_name="",
        storage_plan=Plan.SMALL,
        phase=phase,
        generation=generation,
        url="",
        reason="",
        message="",
        conditions=[],
        created_at=AT,
        updated_at=AT,
    )


async def test_a_re_created_store_is_counted_again(tmp_path: Path) -> None:
    db = Database(str(tmp_path / "gw.db"))
    await db.open()
    try:
        async with db.transaction() as conn:
            await repo.add_tenant(conn, TenantView("acme", "", 5, AT))
            await repo.upsert_store(conn, _view(1, Phase.PENDING), first_generation=1)
            once = [await repo.mark_first_ready(conn, "shop", AT) for _ in range(2)]
            await repo.set_phase(conn, "shop", Phase.DELETED, 1)
            await repo.upsert_store(conn, _view(2, Phase.PENDING), first_generation=2)
            again = await repo.mark_first_ready(conn, "shop", AT)
    finally:
        await db.close()
    assert (once, again) == ([True, False], True)
