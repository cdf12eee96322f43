"""A database file from an earlier release opens, migrated, with its stores intact."""

import sqlite3
from pathlib import Path

from services.contracts.store import Plan
from services.gateway import repository as repo
from services.gateway.db import Database
from services.gateway.migrations import MIGRATIONS, for_sqlite


def _release_one(path: Path) -> None:
    """The schema as the first release left it, with one store in it."""
    with sqlite3.connect(path) as conn:
        conn.executescript(for_sqlite(MIGRATIONS[0]))
        conn.execute("PRAGMA user_version = 1")
        conn.execute("INSERT INTO tenants VALUES ('acme', '', 5, '2026-01-01T00:00:00+00:00')")
        conn.execute(
            "INSERT INTO stores (id, tenant_id, engine, plan, display_name, phase, generation, "
            "first_generation, created_at, updated_at) VALUES ('shop', 'acme', 'woocommerce', "
            "'large', 'Shop', 'ready', 3, 1, '2026-01-01T00:00:00+00:00', "
            "'2026-01-01T00:00:00+00:00')"
        )


async def test_stores_of_an_earlier_release_keep_their_volumes(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    _release_one(path)
    db = Database(str(path))
    await db.open()
    try:
        store = await repo.get_store(db.reader, "shop")
        version = await db.reader.fetchone("PRAGMA user_version")
        history = await repo.spec_history(db.reader, "shop")
    finally:
        await db.close()
    assert store is not None
    assert (store.plan, store.storage_plan, store.generation) == (Plan.LARGE, Plan.LARGE, 3)
    assert version is not None and version[0] == len(MIGRATIONS)
    # Its current spec starts its history: the next change can be rolled back.
    assert [(s.generation, s.plan, s.release) for s in history] == [(3, Plan.LARGE, "")]
