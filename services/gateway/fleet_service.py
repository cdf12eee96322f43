"""Fleet upgrades at the API: start one, read them, pause, resume, cancel.

Starting writes the fleet and its stores, in waves, in one transaction; the
driver (`fleet_driver`) does the upgrading. Refusals are domain errors.
"""

from datetime import UTC, datetime

import uuid_utils

from services.contracts.fleet import FleetState, FleetSummary
from services.gateway import fleet_events, fleet_plan, releases
from services.gateway import fleet_repository as fleets
from services.gateway.deps import GatewayDeps
from services.gateway.domain_errors import ConflictError, NotFoundError
from services.gateway.models import FleetDetail, StartFleetRequest


class FleetService:
    def __init__(self, deps: GatewayDeps) -> None:
        self._deps = deps

    async def start(self, actor: str, data: StartFleetRequest) -> FleetSummary:
        """A fleet upgrade of every live store of the engine behind `to_release`."""
        catalog = self._deps.releases
        target = releases.for_fleet(catalog, data.engine, data.to_release)
        async with self._deps.db.transaction() as conn:
            other = await fleets.active_fleet(conn, data.engine)
            if other is not None:
                raise ConflictError(
                    f"fleet upgrade '{other}' of {data.engine.value} is still active; "
                    "wait for it, or cancel it first"
                )
            stores = [
                releases.present(catalog, s)
                for s in await fleets.live_stores(conn, data.engine)
                if releases.behind(catalog, s, target)
            ]
            if not stores:
                raise ConflictError(
                    f"every live {data.engine.value} store already runs {target} or newer: "
                    "nothing to upgrade"
                )
            size = fleet_plan.wave_size(data.wave, len(stores))
            members = fleet_plan.members(stores, size)
            at = datetime.now(UTC)
            fleet = FleetSummary(
                id=str(uuid_utils.uuid7()),
                engine=data.engine,
                to_release=target,
                wave_size=size,
                max_failures=data.max_failures,
                store_timeout_s=data.store_timeout_s,
                state=FleetState.RUNNING,
                wave=0,
                waves=members[-1].wave,
                counts=fleet_plan.counts(members),
                actor=actor,
                created_at=at,
                updated_at=at,
                message=f"{len(members)} stores in {members[-1].wave} waves of up to {size}",
            )
            await fleets.add_fleet(conn, fleet, members)
            await fleet_events.announce(conn, fleet, members)
        self._deps.fleet_wake.set()
        self._deps.outbox.wake.set()
        return fleet

    async def all(self, limit: int) -> list[FleetSummary]:
        return await fleets.list_fleets(self._deps.db.reader, limit)

    async def get(self, fleet_id: str) -> FleetDetail:
        found = await fleets.get_fleet(self._deps.db.reader, fleet_id)
        if found is None:
            raise NotFoundError(f"no fleet upgrade '{fleet_id}'")
        return FleetDetail(fleet=found[0], stores=found[1])

    async def control(self, fleet_id: str, control: fleet_plan.Control) -> FleetSummary:
        """Pause, resume or cancel; a repeated call answers the fleet as it is."""
        async with self._deps.db.transaction() as conn:
            found = await fleets.get_fleet(conn, fleet_id)
            if found is None:
                raise NotFoundError(f"no fleet upgrade '{fleet_id}'")
            fleet = found[0]
            state = fleet_plan.controlled(fleet, control)
            if state is None:
                return fleet
            fleet = fleets.touched(fleet, state=state, message=_said(control, fleet))
            await fleets.save_fleet(conn, fleet)
            await fleet_events.announce(conn, fleet, [])
        self._deps.fleet_wake.set()
        self._deps.outbox.wake.set()
        return fleet


def _said(control: fleet_plan.Control, fleet: FleetSummary) -> str:
    if control is fleet_plan.Control.PAUSE:
        return f"paused in wave {fleet.wave}: no new wave starts until resumed"
    if control is fleet_plan.Control.RESUME:
        return "resumed"
    return f"cancelling: stops when wave {fleet.wave} is done"
