"""Rollback without HTTP: the automatic decision as a pure function of the store
row, the projection an event made and the spec history; the history a store
keeps across changes, rollbacks and a reused id; the target a rollback takes."""

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import msgspec
import pytest

from services.contracts.phases import Phase
from services.contracts.store import Engine, Plan
from services.contracts.store_state import StoreState
from services.gateway import repository as repo
from services.gateway.db import Database
from services.gateway.deps import GatewayDeps
from services.gateway.domain_errors import ConflictError, NotFoundError
from services.gateway.models import CreateStoreRequest, StoreView, TenantView, UpdateStoreRequest
from services.gateway.outbox import OutboxRelay
from services.gateway.ratelimit import LocalRateLimiter
from services.gateway.rollback import (
    AutoRollback,
    RollbackFailed,
    SpecCause,
    SpecRecord,
    decide,
    target,
)
from services.gateway.settings import GatewaySettings
from services.gateway.store_service import StoreService

OLD, NEW = "woo-2026.05", "woo-2026.11"
AT = datetime(2026, 12, 1, tzinfo=UTC)
ACME = TenantView(id="acme", display_name="", max_stores=5, created_at=AT)


def _store(phase: Phase = Phase.PROVISIONING, generation: int = 2) -> StoreView:
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
        release=NEW,
    )


def _failed(generation: int = 2, message: str = "ImagePullBackOff") -> StoreState:
    return StoreState(phase=Phase.FAILED, generation=generation, reason="render", message=message)


def _spec(generation: int, release: str, cause: SpecCause, plan: Plan = Plan.SMALL) -> SpecRecord:
    return SpecRecord(
        generation=generation, plan=plan, display_name="", release=release, cause=cause
    )


UPGRADE = [_spec(2, NEW, SpecCause.UPDATE), _spec(1, OLD, SpecCause.CREATE)]


def test_a_failed_upgrade_is_rolled_back_to_the_previous_release() -> None:
    decision = decide(_store(), _failed(), UPGRADE)
    assert decision == AutoRollback(
        target=UPGRADE[1],
        message=f"upgrade to {NEW} failed (ImagePullBackOff); rolled back to {OLD}",
    )


def test_a_long_cause_is_shortened() -> None:
    decision = decide(_store(), _failed(message="x" * 500), UPGRADE)
    assert isinstance(decision, AutoRollback)
    assert "(" + "x" * 199 + "…)" in decision.message


@pytest.mark.parametrize(
    ("store", "merged", "history"),
    [
        # Already failed: this is a repeat of the same failure, decided before.
        (_store(Phase.FAILED), _failed(), UPGRADE),
        # Not failed.
        (_store(), msgspec.structs.replace(_failed(), phase=Phase.READY), UPGRADE),
        # A failure of an older generation than the store's.
        (_store(generation=3), _failed(2), UPGRADE),
        # The failed generation changed the plan, not the release.
        (
            _store(),
            _failed(),
            [_spec(2, NEW, SpecCause.UPDATE, Plan.LARGE), _spec(1, NEW, SpecCause.CREATE)],
        ),
        # A first generation: nothing before it.
        (_store(generation=1), _failed(1), [_spec(1, NEW, SpecCause.CREATE)]),
        # A manual rollback that failed: its user decides what next.
        (_store(generation=3), _failed(3), [_spec(3, OLD, SpecCause.ROLLBACK), *UPGRADE]),
        # No history for this generation (a store from before spec history).
        (_store(generation=4), _failed(4), UPGRADE),
        (_store(), _failed(), []),
    ],
)
def test_no_automatic_rollback(
    store: StoreView, merged: StoreState, history: list[SpecRecord]
) -> None:
    assert decide(store, merged, history) is None


def test_a_failed_automatic_rollback_stays_failed_and_says_so() -> None:
    history = [_spec(3, OLD, SpecCause.AUTO_ROLLBACK), *UPGRADE]
    decision = decide(_store(generation=3), _failed(3, "render failed"), history)
    assert isinstance(decision, RollbackFailed)
    assert decision.message.startswith(f"automatic rollback to {OLD} failed (render failed)")


def test_the_target_is_the_previous_generation_and_refusals_say_why() -> None:
    assert target(_store(), UPGRADE) == UPGRADE[1]
    with pytest.raises(ConflictError, match="nothing to roll back to: generation 1 is"):
        target(_store(generation=1), UPGRADE[1:])
    with pytest.raises(ConflictError, match="is deleting; it can no longer roll back"):
        target(_store(Phase.DELETING), UPGRADE)


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    db = Database(str(tmp_path / "g.db"))
    await db.open()
    async with db.transaction() as conn:
        await repo.add_tenant(conn, ACME)
    yield db
    await db.close()


@pytest.fixture
def service(db: Database) -> StoreService:
    settings = GatewaySettings(base_domain="shops.test")
    return StoreService(GatewayDeps(settings, db, OutboxRelay(db), LocalRateLimiter(600)))


async def _history(db: Database) -> list[tuple[int, str, str]]:
    return [
        (s.generation, s.release, s.cause) for s in await repo.spec_history(db.reader, "shop", 9)
    ]


async def test_every_generation_keeps_its_spec_and_a_reused_id_starts_afresh(
    service: StoreService, db: Database
) -> None:
    await service.create(ACME, CreateStoreRequest(id="shop", release=OLD))
    await service.update(ACME, "shop", UpdateStoreRequest(release=NEW))
    back = await service.rollback(ACME, "shop")
    assert (back.generation, back.release, back.phase) == (3, OLD, Phase.PROVISIONING)
    assert await _history(db) == [(3, OLD, "rollback"), (2, NEW, "update"), (1, OLD, "create")]
    # Rolling back again returns to generation 2's spec: the previous one.
    again = await service.rollback(ACME, "shop")
    assert (again.generation, again.release) == (4, NEW)

    await service.delete(ACME, "shop")
    async with db.transaction() as conn:
        await repo.set_phase(conn, "shop", Phase.DELETED, 5)
    await service.create(ACME, CreateStoreRequest(id="shop"))
    assert await _history(db) == [(6, NEW, "create")]
    with pytest.raises(ConflictError, match="generation 6 is its first spec"):
        await service.rollback(ACME, "shop")


async def test_a_rollback_of_another_tenants_store_is_not_found(service: StoreService) -> None:
    with pytest.raises(NotFoundError, match="no store 'shop'"):
        await service.rollback(ACME, "shop")
