"""Fleet upgrades: every store of an engine moved to one release, in waves.

The gateway keeps a fleet's state in its database and drives it; each change is
published as a `FleetProgress` event (stream URUMI_EVENTS, subject
`subjects.fleet_subject`) for the admin's live view.
"""

from datetime import datetime
from enum import StrEnum
from typing import Final

import msgspec

from services.contracts.store import Engine

# Stores per wave: a count ("10") or a share of the fleet ("10%").
WAVE_PATTERN: Final = r"^[1-9][0-9]{0,5}%?$"


class FleetState(StrEnum):
    RUNNING = "running"
    PAUSED = "paused"  # no new wave starts; the one in flight finishes
    CANCELLING = "cancelling"  # stops at the end of the wave in flight
    CANCELLED = "cancelled"
    HALTED = "halted"  # more stores failed than `max_failures` allows
    DONE = "done"


# A fleet in these states may still start waves; one per engine at a time.
ACTIVE: Final = frozenset({FleetState.RUNNING, FleetState.PAUSED, FleetState.CANCELLING})
FINAL: Final = frozenset({FleetState.CANCELLED, FleetState.HALTED, FleetState.DONE})


class MemberState(StrEnum):
    WAITING = "waiting"  # its wave has not started
    UPGRADING = "upgrading"  # its upgrade generation is being applied
    UPGRADED = "upgraded"  # ready at the target release
    FAILED = "failed"  # the upgrade failed (and was rolled back)
    SKIPPED = "skipped"  # deleted, or already changed, before or during its wave


class FleetMember(msgspec.Struct, frozen=True):
    """One store of a fleet upgrade."""

    store: str
    tenant: str
    wave: int  # 1-based
    from_release: str
    state: MemberState = MemberState.WAITING
    generation: int = 0  # the upgrade's generation, once started
    reason: str = ""
    started_at: datetime | None = None  # when its upgrade was queued


class FleetCounts(msgspec.Struct, frozen=True):
    waiting: int = 0
    upgrading: int = 0
    upgraded: int = 0
    failed: int = 0
    skipped: int = 0


class FleetSummary(msgspec.Struct, frozen=True):
    """A fleet upgrade as the API and its events show it."""

    id: str
    engine: Engine
    to_release: str
    wave_size: int
    max_failures: int
    store_timeout_s: int  # a store not ready this long after its upgrade counts failed
    state: FleetState
    wave: int  # the latest wave started (0: none yet)
    waves: int
    counts: FleetCounts
    actor: str
    created_at: datetime
    updated_at: datetime
    message: str = ""


class FleetProgress(msgspec.Struct, frozen=True, tag="fleet-progress", tag_field="type"):
    """A fleet upgrade changed: its summary now, and the stores whose state moved."""

    fleet: FleetSummary
    changed: list[FleetMember]
    at: datetime
