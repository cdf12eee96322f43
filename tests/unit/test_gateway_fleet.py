"""Fleet upgrades without HTTP or a cluster: the waves, and the driver's passes over
a real SQLite database, with store rows moved the way the projector moves them."""

import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from services.contracts.commands import CreateStore
from services.contracts.fleet import FleetProgress, FleetState, MemberState
from services.contracts.phases import Phase
from services.contracts.store import Engine
from services.contracts.store_state import StoreState
from services.contracts.wire import decode_bus_event, decode_command
from services.gateway import fleet_events, fleet_plan
from services.gateway import repository as repo
from services.gateway.db import Database
from services.gateway.deps import GatewayDeps
from services.gateway.domain_errors import ConflictError, InvalidFieldError
from services.gateway.fleet_driver import drive
from services.gateway.fleet_service import FleetService
from services.gateway.models import CreateStoreRequest, StartFleetRequest, TenantView
from services.gateway.outbox import OutboxRelay
from services.gateway.ratelimit import LocalRateLimiter
from services.gateway.settings import GatewaySettings
from services.gateway.store_service import StoreService

OLD, NEW = "woo-2026.05", "woo-2026.11"
ACME = TenantView(id="acme", display_name="", max_stores=50, created_at=datetime.now(UTC))


@pytest.mark.parametrize(
    ("wave", "stores", "size"),
    [("10%", 30, 3), ("10", 30, 10), ("100%", 7, 7), ("1%", 5, 1), ("34%", 3, 2), ("250%", 4, 4)],
)
def test_a_wave_is_a_count_or_a_share_rounded_up(wave: str, stores: int, size: int) -> None:
    assert fleet_plan.wave_size(wave, stores) == size


@pytest.fixture
async def deps(tmp_path: Path) -> AsyncIterator[GatewayDeps]:
    db = Database(str(tmp_path / "g.db"))
    await db.open()
    async with db.transaction() as conn:
        await repo.add_tenant(conn, ACME)
    yield GatewayDeps(
        GatewaySettings(base_domain="shops.test"), db, OutboxRelay(db), LocalRateLimiter(600)
    )
    await db.close()


async def _stores(
    deps: GatewayDeps, count: int, release: str = OLD, prefix: str = "shop"
) -> list[str]:
    ids = [f"{prefix}-{i:02d}" for i in range(count)]
    for store in ids:
        await StoreService(deps).create(ACME, CreateStoreRequest(id=store, release=release))
        await _becomes(deps, store, Phase.READY)
    return ids


async def _becomes(deps: GatewayDeps, store: str, phase: Phase, message: str = "") -> None:
    """What the projector writes when the store's status event arrives."""
    async with deps.db.transaction() as conn:
        view = await repo.get_store(conn, store)
        assert view is not None
        state = StoreState(phase=phase, generation=view.generation, url=view.url, message=message)
        await repo.save_projection(conn, store, state)


async def _members(deps: GatewayDeps, fleet_id: str) -> dict[str, tuple[int, MemberState]]:
    detail = await FleetService(deps).get(fleet_id)
    return {m.store: (m.wave, m.state) for m in detail.stores}


async def _upgrade_commands(deps: GatewayDeps) -> list[CreateStore]:
    rows = await deps.db.reader.fetchall("SELECT subject, payload FROM outbox ORDER BY id")
    commands = [decode_command(bytes(r["payload"])) for r in rows if ".cmd." in r["subject"]]
    return [c for c in commands if isinstance(c, CreateStore) and c.generation > 1]


async def test_waves_start_one_after_another_and_a_failure_halts_the_fleet(
    deps: GatewayDeps,
) -> None:
    stores = await _stores(deps, 6)
    fleets = FleetService(deps)
    fleet = await fleets.start("admin", StartFleetRequest(Engine.WOOCOMMERCE, NEW, wave="2"))
    assert (fleet.waves, fleet.wave_size, fleet.counts.waiting) == (3, 2, 6)

    assert await drive(deps, fleet.id)
    assert not await drive(deps, fleet.id)  # nothing settled: no change
    wave1 = {s: (1, MemberState.UPGRADING) for s in stores[:2]}
    assert (await _members(deps, fleet.id)).items() >= wave1.items()
    commands = await _upgrade_commands(deps)
    assert {(c.store, c.generation, c.spec.release, c.actor) for c in commands} == {
        (s, 2, NEW, f"fleet:{fleet.id}") for s in stores[:2]
    }

    await _becomes(deps, stores[0], Phase.READY)
    assert await drive(deps, fleet.id)  # one settled; the wave is not done
    assert (await _members(deps, fleet.id))[stores[2]][1] is MemberState.WAITING
    await _becomes(deps, stores[1], Phase.READY)
    await drive(deps, fleet.id)
    members = await _members(deps, fleet.id)
    assert [members[s][1] for s in stores] == [MemberState.UPGRADED] * 2 + [
        MemberState.UPGRADING
    ] * 2 + [MemberState.WAITING] * 2

    async with deps.db.transaction() as conn:  # what the projector does on a rollback
        await fleet_events.upgrade_failed(conn, stores[2], 2, "upgrade to X failed (denied)")
    await drive(deps, fleet.id)
    halted = (await fleets.get(fleet.id)).fleet
    assert halted.state is FleetState.HALTED
    assert f"{stores[2]}: upgrade to X failed (denied)" in halted.message
    await _becomes(deps, stores[3], Phase.READY)
    await drive(deps, fleet.id)  # the store in flight still settles
    members = await _members(deps, fleet.id)
    assert members[stores[3]][1] is MemberState.UPGRADED
    assert [members[s][1] for s in stores[4:]] == [MemberState.WAITING] * 2
    untouched = [await repo.get_store(deps.db.reader, s) for s in stores[4:]]
    assert [(s.generation, s.release) for s in untouched if s] == [(1, OLD)] * 2
    with pytest.raises(ConflictError, match="halted; it cannot resume"):
        await fleets.control(fleet.id, fleet_plan.Control.RESUME)


async def test_pause_holds_the_next_wave_and_cancel_stops_at_the_wave_boundary(
    deps: GatewayDeps,
) -> None:
    stores = await _stores(deps, 6)
    fleets = FleetService(deps)
    fleet = await fleets.start("admin", StartFleetRequest(Engine.WOOCOMMERCE, NEW, wave="34%"))
    await drive(deps, fleet.id)
    paused = await fleets.control(fleet.id, fleet_plan.Control.PAUSE)
    assert paused.state is FleetState.PAUSED
    assert await fleets.control(fleet.id, fleet_plan.Control.PAUSE) == paused  # no change
    for store in stores[:3]:
        await _becomes(deps, store, Phase.READY)
    await drive(deps, fleet.id)
    members = await _members(deps, fleet.id)
    assert members[stores[3]][1] is MemberState.WAITING, "a paused fleet started a wave"

    await fleets.control(fleet.id, fleet_plan.Control.RESUME)
    await drive(deps, fleet.id)
    assert (await _members(deps, fleet.id))[stores[3]][1] is MemberState.UPGRADING
    cancelling = await fleets.control(fleet.id, fleet_plan.Control.CANCEL)
    assert cancelling.state is FleetState.CANCELLING
    await drive(deps, fleet.id)
    assert (await fleets.get(fleet.id)).fleet.state is FleetState.CANCELLING  # wave in flight
    for store in stores[3:]:
        await _becomes(deps, store, Phase.READY)
    await drive(deps, fleet.id)
    done = await fleets.get(fleet.id)
    assert done.fleet.state is FleetState.CANCELLED
    assert done.fleet.message == "cancelled after wave 2 of 2: 6 upgraded, 0 not started"


async def test_a_store_deleted_before_its_wave_is_skipped_and_the_fleet_finishes(
    deps: GatewayDeps,
) -> None:
    stores = await _stores(deps, 3)
    fleets = FleetService(deps)
    fleet = await fleets.start("admin", StartFleetRequest(Engine.WOOCOMMERCE, NEW, wave="1"))
    await StoreService(deps).delete(ACME, stores[1])
    await drive(deps, fleet.id)
    await _becomes(deps, stores[0], Phase.READY)
    await drive(deps, fleet.id)  # wave 2 is skipped, wave 3 starts in the same pass
    members = await _members(deps, fleet.id)
    assert members[stores[1]][1] is MemberState.SKIPPED
    assert members[stores[2]][1] is MemberState.UPGRADING
    await _becomes(deps, stores[2], Phase.READY)
    await drive(deps, fleet.id)
    done = (await fleets.get(fleet.id)).fleet
    assert (done.state, done.message) == (FleetState.DONE, f"2 upgraded to {NEW}, 1 skipped")


async def test_every_change_is_announced_on_the_bus(deps: GatewayDeps) -> None:
    await _stores(deps, 2)
    fleet = await FleetService(deps).start(
        "admin", StartFleetRequest(Engine.WOOCOMMERCE, NEW, wave="1")
    )
    await drive(deps, fleet.id)
    rows = await deps.db.reader.fetchall(
        "SELECT subject, payload FROM outbox WHERE subject LIKE 'urumi.evt.%' ORDER BY id"
    )
    events = [decode_bus_event(bytes(r["payload"])) for r in rows]
    assert {r["subject"] for r in rows} == {f"urumi.evt._platform.{fleet.id}.fleet"}
    states = [
        (e.fleet.state, e.fleet.wave, [m.state for m in e.changed])
        for e in events
        if isinstance(e, FleetProgress)
    ]
    assert len(states) == len(events)
    assert states == [
        (FleetState.RUNNING, 0, [MemberState.WAITING] * 2),
        (FleetState.RUNNING, 1, [MemberState.UPGRADING]),
    ]


async def test_refusals_name_the_field_or_say_why(deps: GatewayDeps) -> None:
    fleets = FleetService(deps)
    with pytest.raises(
        InvalidFieldError, match=re.escape("`to_release`: 'woo-1999.01' is not a release")
    ):
        await fleets.start("admin", StartFleetRequest(Engine.WOOCOMMERCE, "woo-1999.01"))
    await _stores(deps, 1, release=NEW, prefix="new")
    with pytest.raises(ConflictError, match=re.escape("already runs woo-2026.11 or newer")):
        await fleets.start("admin", StartFleetRequest(Engine.WOOCOMMERCE, NEW))
    await _stores(deps, 2)
    first = await fleets.start("admin", StartFleetRequest(Engine.WOOCOMMERCE, NEW))
    assert first.counts.waiting == 2  # the store already at the target is not in it
    with pytest.raises(ConflictError, match=f"'{first.id}' of woocommerce is still active"):
        await fleets.start("admin", StartFleetRequest(Engine.WOOCOMMERCE, NEW))


async def test_an_asleep_store_is_upgraded_and_its_setup_waits_for_the_wake(
    deps: GatewayDeps,
) -> None:
    stores = await _stores(deps, 1)
    await StoreService(deps).set_asleep(ACME, stores[0], asleep=True)
    await _becomes(deps, stores[0], Phase.ASLEEP)
    fleets = FleetService(deps)
    fleet = await fleets.start("admin", StartFleetRequest(Engine.WOOCOMMERCE, NEW))
    await drive(deps, fleet.id)
    await _becomes(deps, stores[0], Phase.ASLEEP)  # at the upgrade's generation
    await drive(deps, fleet.id)
    detail = await fleets.get(fleet.id)
    assert detail.fleet.state is FleetState.DONE
    assert (detail.stores[0].state, detail.stores[0].reason) == (
        MemberState.UPGRADED,
        "asleep: its setup runs when it wakes",
    )
    view = await repo.get_store(deps.db.reader, stores[0])
    assert view is not None and (view.release, view.asleep) == (NEW, True)


async def test_a_store_not_ready_in_time_counts_failed_and_stays_as_it_is(
    deps: GatewayDeps,
) -> None:
    stores = await _stores(deps, 2)
    fleets = FleetService(deps)
    request = StartFleetRequest(Engine.WOOCOMMERCE, NEW, wave="1", store_timeout_s=60)
    fleet = await fleets.start("admin", request)
    await drive(deps, fleet.id)
    await _becomes(deps, stores[0], Phase.DEGRADED, message="1 of 2 pods not ready")
    async with deps.db.transaction() as conn:  # its upgrade started two minutes ago
        started = (repo.now() - timedelta(minutes=2)).isoformat()
        await conn.execute("UPDATE fleet_members SET started_at = ?", started)
    await drive(deps, fleet.id)
    detail = await fleets.get(fleet.id)
    assert detail.fleet.state is FleetState.HALTED
    assert (detail.stores[0].state, detail.stores[0].reason) == (
        MemberState.FAILED,
        "not ready within 1 min of its upgrade (now degraded: 1 of 2 pods not ready)",
    )
    view = await repo.get_store(deps.db.reader, stores[0])
    assert view is not None and (view.generation, view.release) == (2, NEW)
