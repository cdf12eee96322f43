"""A fleet upgrade's changes on the bus: one `FleetProgress` per change, through
the outbox (in the transaction that made the change, so none is lost or invented)."""

from collections.abc import Sequence

import uuid_utils

from services.contracts.fleet import FleetMember, FleetProgress, FleetSummary
from services.contracts.subjects import fleet_subject
from services.contracts.wire import encode
from services.gateway import fleet_repository as fleets
from services.gateway import repository as repo
from services.gateway.sql import Conn


async def announce(conn: Conn, fleet: FleetSummary, changed: Sequence[FleetMember]) -> None:
    event = FleetProgress(fleet=fleet, changed=list(changed), at=repo.now())
    await repo.add_outbox(conn, str(uuid_utils.uuid7()), fleet_subject(fleet.id), encode(event))


async def upgrade_failed(conn: Conn, store_id: str, generation: int, reason: str) -> None:
    """The store's upgrade at `generation` failed and was rolled back: if a fleet
    was upgrading it, the store is failed there, with the reason, and said so."""
    fleet_id = await fleets.fail_upgrade(conn, store_id, generation, reason)
    if fleet_id is None:
        return
    found = await fleets.get_fleet(conn, fleet_id)
    assert found is not None  # its member was just updated
    fleet, members = found
    await announce(conn, fleet, [m for m in members if m.store == store_id])
