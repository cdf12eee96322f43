"""Pure merge of watcher statuses and provisioner progress into a store row.

The phase rules live in `services.contracts.phases.merge_phase`, shared with
every other reader; this adds what the row keeps beside the phase.
"""

from datetime import datetime

import msgspec

from services.contracts.events import Condition, StoreProgress, StoreStatus
from services.contracts.phases import Phase, merge_phase


class Projected(msgspec.Struct, frozen=True):
    """The part of a store row the projector owns."""

    phase: Phase
    generation: int
    url: str = ""
    reason: str = ""
    message: str = ""
    conditions: list[Condition] = []
    updated_at: datetime | None = None


def apply_status(current: Projected, event: StoreStatus) -> Projected | None:
    """The new projection, or None when the event changes nothing."""
    phase = merge_phase(
        current.phase, current.generation, event.phase, event.generation, by_watcher=True
    )
    if phase is None:
        return None
    merged = Projected(
        phase=phase,
        generation=event.generation,
        url=event.url or current.url,
        reason=event.reason,
        message=event.message,
        conditions=list(event.conditions),
        updated_at=event.observed_at,
    )
    return None if _same(merged, current) else merged


def apply_progress(current: Projected, event: StoreProgress) -> Projected | None:
    phase = merge_phase(
        current.phase, current.generation, event.phase, event.generation, by_watcher=False
    )
    if phase is None:
        return None
    failed = phase is Phase.FAILED
    merged = msgspec.structs.replace(
        current,
        phase=phase,
        generation=event.generation,
        reason=event.step if failed else "",
        message=event.message if failed else "",
        updated_at=event.at,
    )
    return None if _same(merged, current) else merged


def _same(a: Projected, b: Projected) -> bool:
    return msgspec.structs.replace(a, updated_at=None) == msgspec.structs.replace(
        b, updated_at=None
    )
