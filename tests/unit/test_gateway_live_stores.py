"""A tenant's live stores, which the quota reads, are counted by the database on
every write to `stores` (migration 12): on both backends they always equal a
count of the rows themselves, whatever wrote them."""

from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest

from services.contracts.phases import LIVE, Phase
from services.contracts.store import Engine, Plan
from services.gateway import repository as repo
from services.gateway.app import database
from services.gateway.models import StoreView, TenantView
from services.gateway.settings import GatewaySettings
from services.gateway.sql import Backend, Conn

TENANTS = ("acme", "globex")


@pytest.fixture
async def db(gateway_database: str) -> AsyncIterator[Backend]:
    if gateway_database.startswith("postgresql://"):
        settings = GatewaySettings(database_url=gateway_database)
    else:
        settings = GatewaySettings(database=gateway_database)
    backend = database(settings)
    await backend.open()
    async with backend.transaction() as conn:
        for tenant in TENANTS:
            at = datetime.now(UTC)
            await repo.add_tenant(conn, TenantView(tenant, "", 9, at))
    yield backend
    await backend.close()


def _store(store_id: str, tenant: str, phase: Phase = Phase.PENDING) -> StoreView:
    at = datetime.now(UTC)
    return StoreView(
        id=store_id,
        tenant=tenant,
        engine=Engine.WOOCOMMERCE,
        plan=Plan.SMALL,
        display_name="",
        storage_plan=Plan.SMALL,
        phase=phase,
        generation=1,
        url="",
        reason="",
        message="",
        conditions=[],
        created_at=at,
        updated_at=at,
    )


async def _counted(conn: Conn) -> dict[str, tuple[int, int]]:
    """Per tenant: (the counter, the rows counted)."""
    out = {}
    for tenant in TENANTS:
        rows = await conn.fetchone(
            "SELECT COUNT(*) FROM stores WHERE tenant_id = ? AND phase != 'deleted'", tenant
        )
        assert rows is not None
        out[tenant] = (await repo.count_live_stores(conn, tenant), int(rows[0]))
    return out


async def test_the_counter_follows_creates_deletes_reuse_and_removal(db: Backend) -> None:
    assert frozenset(Phase) - {Phase.DELETED} == LIVE  # what the triggers assume
    async with db.transaction() as conn:
        for i in range(3):
            await repo.upsert_store(conn, _store(f"a{i}", "acme"), first_generation=1)
        await repo.upsert_store(conn, _store("g0", "globex"), first_generation=1)
        assert await _counted(conn) == {"acme": (3, 3), "globex": (1, 1)}

        await repo.set_phase(conn, "a0", Phase.PROVISIONING, 2)  # live → live
        await repo.set_phase(conn, "a1", Phase.DELETING, 2)
        assert await _counted(conn) == {"acme": (3, 3), "globex": (1, 1)}

        await repo.set_phase(conn, "a1", Phase.DELETED, 2)  # live → deleted
        assert await _counted(conn) == {"acme": (2, 2), "globex": (1, 1)}

        # A deleted id reused (the upsert's update path), by another tenant.
        await repo.upsert_store(conn, _store("a1", "globex"), first_generation=3)
        assert await _counted(conn) == {"acme": (2, 2), "globex": (2, 2)}

        # A store written straight in as deleted, then its row removed: no change.
        await repo.upsert_store(conn, _store("x", "acme", Phase.DELETED), first_generation=1)
        await conn.execute("DELETE FROM stores WHERE id = ?", "x")
        await conn.execute("DELETE FROM stores WHERE id = ?", "a2")  # a live one
        assert await _counted(conn) == {"acme": (1, 1), "globex": (2, 2)}
