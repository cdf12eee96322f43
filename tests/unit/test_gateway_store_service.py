"""The store rules without HTTP: the service answers with outcomes and domain
errors, and every change leaves its command in the outbox."""

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from services.contracts.commands import CreateStore
from services.contracts.phases import Phase
from services.contracts.store import Engine, Plan
from services.contracts.wire import decode_command
from services.gateway import repository as repo
from services.gateway.db import Database
from services.gateway.deps import GatewayDeps
from services.gateway.domain_errors import (
    ConflictError,
    DomainError,
    NotFoundError,
    QuotaReachedError,
    UnavailableError,
)
from services.gateway.errors import domain_handler
from services.gateway.models import CreateStoreRequest, TenantView, UpdateStoreRequest
from services.gateway.outbox import OutboxRelay
from services.gateway.ratelimit import LocalRateLimiter
from services.gateway.settings import GatewaySettings
from services.gateway.store_service import StoreService

ACME = TenantView(id="acme", display_name="", max_stores=2, created_at=datetime.now(UTC))
GLOBEX = TenantView(id="globex", display_name="", max_stores=2, created_at=datetime.now(UTC))


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    db = Database(str(tmp_path / "g.db"))
    await db.open()
    async with db.transaction() as conn:
        for tenant in (ACME, GLOBEX):
            await repo.add_tenant(conn, tenant)
    yield db
    await db.close()


@pytest.fixture
def service(db: Database) -> StoreService:
    settings = GatewaySettings(base_domain="shops.test")
    return StoreService(GatewayDeps(settings, db, OutboxRelay(db), LocalRateLimiter(600)))


async def _outbox(db: Database) -> int:
    row = await db.reader.fetchone("SELECT count(*) FROM outbox")
    assert row is not None
    return int(row[0])


async def test_create_queues_a_command_and_an_identical_recreate_changes_nothing(
    service: StoreService, db: Database
) -> None:
    created = await service.create(ACME, CreateStoreRequest(id="shop"))
    assert created.changed and created.store.phase is Phase.PENDING
    assert created.store.url == "http://shop.shops.test"
    again = await service.create(ACME, CreateStoreRequest(id="shop"))
    assert (again.changed, again.store.id) == (False, "shop")
    assert await _outbox(db) == 1


async def test_create_refuses_other_specs_other_tenants_and_a_full_quota(
    service: StoreService,
) -> None:
    await service.create(ACME, CreateStoreRequest(id="shop"))
    with pytest.raises(ConflictError, match="engine=woocommerce"):
        await service.create(ACME, CreateStoreRequest(id="shop", engine=Engine.MEDUSA))
    with pytest.raises(ConflictError, match="plan=small"):
        await service.create(ACME, CreateStoreRequest(id="shop", plan=Plan.LARGE))
    with pytest.raises(ConflictError, match="not available"):
        await service.create(GLOBEX, CreateStoreRequest(id="shop"))
    await service.create(ACME, CreateStoreRequest(id="shop-2"))
    with pytest.raises(QuotaReachedError, match="2 of 2"):
        await service.create(ACME, CreateStoreRequest(id="shop-3"))


async def test_lifecycle_update_then_delete_then_no_more_changes(
    service: StoreService, db: Database
) -> None:
    await service.create(ACME, CreateStoreRequest(id="shop"))
    same = await service.update(ACME, "shop", UpdateStoreRequest(plan=Plan.SMALL))
    assert not same.changed
    bigger = await service.update(ACME, "shop", UpdateStoreRequest(plan=Plan.MEDIUM))
    assert (bigger.changed, bigger.store.generation) == (True, 2)
    deleting = await service.delete(ACME, "shop")
    assert (deleting.phase, deleting.generation) == (Phase.DELETING, 3)
    assert (await service.delete(ACME, "shop")).generation == 3  # already deleting
    with pytest.raises(ConflictError, match="can no longer change"):
        await service.update(ACME, "shop", UpdateStoreRequest(plan=Plan.LARGE))
    with pytest.raises(ConflictError, match="being deleted"):
        await service.create(ACME, CreateStoreRequest(id="shop"))
    assert await _outbox(db) == 3


async def test_another_tenants_store_is_not_found(service: StoreService) -> None:
    await service.create(ACME, CreateStoreRequest(id="shop"))
    with pytest.raises(NotFoundError, match="no store 'shop'"):
        await service.get(GLOBEX, "shop")
    with pytest.raises(ConflictError, match="once the store is ready"):
        await service.credentials(ACME, "shop")


async def _queued_asleep(db: Database) -> list[bool]:
    """The `asleep` of every CreateStore queued, oldest first."""
    rows = await db.reader.fetchall("SELECT payload FROM outbox ORDER BY id")
    commands = [decode_command(bytes(r["payload"])) for r in rows]
    return [c.spec.asleep for c in commands if isinstance(c, CreateStore)]


async def test_sleep_and_wake_are_generations_of_their_own_that_keep_the_spec(
    service: StoreService, db: Database
) -> None:
    await service.create(ACME, CreateStoreRequest(id="shop"))
    await service.update(ACME, "shop", UpdateStoreRequest(plan=Plan.MEDIUM))
    slept = await service.set_asleep(ACME, "shop", asleep=True)
    assert slept.changed and (slept.store.asleep, slept.store.generation) == (True, 3)
    assert not (await service.set_asleep(ACME, "shop", asleep=True)).changed
    # A change while asleep stays asleep; a rollback returns to the spec before
    # the last change (not to before the sleep) and stays asleep too.
    named = await service.update(ACME, "shop", UpdateStoreRequest(display_name="Teas"))
    assert named.store.asleep and named.store.generation == 4
    back = await service.rollback(ACME, "shop")
    assert (back.plan, back.display_name, back.asleep) == (Plan.MEDIUM, "", True)
    woken = await service.set_asleep(ACME, "shop", asleep=False)
    assert woken.changed and (woken.store.asleep, woken.store.plan) == (False, Plan.MEDIUM)
    assert (await service.get(ACME, "shop")).asleep is False
    assert await _queued_asleep(db) == [False, False, True, True, True, False]
    audit = await db.reader.fetchall("SELECT actor, action FROM audit ORDER BY id")
    assert [(r["actor"], r["action"].split(":")[0]) for r in audit] == [
        ("tenant:acme", "sleep store at generation 3"),
        ("tenant:acme", "rollback store to generation 5"),
        ("tenant:acme", "wake store at generation 6"),
    ]
    await service.delete(ACME, "shop")
    with pytest.raises(ConflictError, match="is deleting; it can no longer sleep"):
        await service.set_asleep(ACME, "shop", asleep=True)


@pytest.mark.parametrize(
    ("error", "status"),
    [(NotFoundError, 404), (ConflictError, 409), (QuotaReachedError, 403), (UnavailableError, 503)],
)
def test_domain_errors_answer_with_their_status(error: type[DomainError], status: int) -> None:
    response = domain_handler(None, error("why"))  # type: ignore[arg-type]
    assert response.status_code == status
    assert (response.content.status_code, response.content.detail) == (status, "why")
