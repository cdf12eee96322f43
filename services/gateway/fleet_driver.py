"""The fleet upgrade driver: level-triggered, from the database alone.

Every gateway replica runs it. Each pass over a fleet is one exclusive
transaction: settle the stores in flight from their rows, then halt, finish or
start the next wave (each store's upgrade is the same next generation a PATCH
makes, queued in the outbox). A restart, of this or any other service, resumes
from the rows: nothing is kept in memory between passes.
"""

import asyncio
import logging

import msgspec

from services.contracts.fleet import FleetMember, FleetSummary, MemberState
from services.gateway import fleet_events, fleet_plan, releases, spec_changes
from services.gateway import fleet_repository as fleets
from services.gateway import repository as repo
from services.gateway.deps import GatewayDeps
from services.gateway.models import UpdateStoreRequest
from services.gateway.passes import run_passes
from services.gateway.rollback import SpecCause
from services.gateway.sql import Conn
from services.gateway.store_service import updated

log = logging.getLogger(__name__)


async def run_fleets(deps: GatewayDeps, stop: asyncio.Event) -> None:
    async def one_pass() -> bool:
        changed = False
        for fleet_id in await fleets.fleets_to_drive(deps.db.reader):
            changed |= await drive(deps, fleet_id)
        return changed

    await run_passes("fleet", one_pass, deps.fleet_wake, deps.outbox.wake, stop)


async def drive(deps: GatewayDeps, fleet_id: str) -> bool:
    """One pass over the fleet; whether it changed anything."""
    async with deps.db.transaction() as conn:
        found = await fleets.get_fleet(conn, fleet_id)
        if found is None:
            return False
        fleet, members = found
        changed: dict[str, FleetMember] = {}
        now = repo.now()
        for m in members:
            settled = fleet_plan.settle(m, await repo.get_store(conn, m.store), fleet, now)
            if settled != m:
                changed[m.store] = settled
        step = _next(fleet, members, changed)
        while step.action is fleet_plan.Action.START_WAVE:
            fleet = msgspec.structs.replace(fleet, wave=step.wave)
            for m in members:
                if m.wave == step.wave and m.state is MemberState.WAITING:
                    changed[m.store] = await _start(deps, conn, fleet, m)
            step = _next(fleet, members, changed)
        latest = [changed.get(m.store, m) for m in members]
        after = msgspec.structs.replace(
            fleet, state=step.state, message=step.message, counts=fleet_plan.counts(latest)
        )
        if not changed and after == fleet:
            return False
        after = fleets.touched(after, after.state, after.message)
        for m in changed.values():
            await fleets.save_member(conn, fleet.id, m)
        await fleets.save_fleet(conn, after)
        await fleet_events.announce(conn, after, list(changed.values()))
    if after.state != fleet.state:
        log.info("fleet upgrade %s", after.state, extra={"fleet": fleet.id, "why": after.message})
    return True


def _next(
    fleet: FleetSummary, members: list[FleetMember], changed: dict[str, FleetMember]
) -> fleet_plan.Next:
    return fleet_plan.next_step(fleet, [changed.get(m.store, m) for m in members])


async def _start(
    deps: GatewayDeps, conn: Conn, fleet: FleetSummary, member: FleetMember
) -> FleetMember:
    """The store's upgrade, queued as its next generation (or why it is skipped)."""
    store = await repo.get_store(conn, member.store)
    behind = store is not None and releases.behind(deps.releases, store, fleet.to_release)
    skipped = fleet_plan.start(member, store, behind)
    if skipped is not None or store is None:
        return skipped or member
    request = UpdateStoreRequest(release=fleet.to_release)
    upgrade = updated(store, request, fleet.to_release)
    assert upgrade is not None  # behind: the release changes
    actor = f"fleet:{fleet.id}"
    await spec_changes.changed(conn, store, upgrade, actor, SpecCause.UPDATE)
    return msgspec.structs.replace(
        member,
        state=MemberState.UPGRADING,
        generation=upgrade.generation,
        reason="",
        started_at=upgrade.updated_at,
    )
