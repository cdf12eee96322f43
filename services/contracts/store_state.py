"""A store's state as every reader folds it from the two writers' reports.

The watcher reports what Kubernetes shows (StoreStatus), the provisioner what it
did (StoreProgress); `merge_phase` decides the phase and `fold` what is kept
beside it. The gateway's projector stores the result, `urumi stores watch`
prints it, and the dashboard's js/state.js folds the same way, so a page shows
the same before and after a reload: tests/vectors/store_state.json holds both
languages to these rules.
"""

from datetime import datetime

import msgspec

from services.contracts.events import Condition, StoreProgress, StoreStatus
from services.contracts.phases import Phase, merge_phase


class StoreState(msgspec.Struct, frozen=True):
    phase: Phase
    generation: int
    url: str = ""
    reason: str = ""
    message: str = ""
    conditions: list[Condition] = []
    updated_at: datetime | None = None


def fold(current: StoreState, event: StoreStatus | StoreProgress) -> StoreState | None:
    """The state after `event`, or None when the event is ignored (an older
    generation, or a move the phase rules do not allow)."""
    if isinstance(event, StoreStatus):
        phase = merge_phase(
            current.phase, current.generation, event.phase, event.generation, by_watcher=True
        )
        if phase is None:
            return None
        return StoreState(
            phase=phase,
            generation=event.generation,
            url=event.url or current.url,
            reason=event.reason,
            message=event.message,
            conditions=list(event.conditions),
            updated_at=event.observed_at,
        )
    phase = merge_phase(
        current.phase, current.generation, event.phase, event.generation, by_watcher=False
    )
    if phase is None:
        return None
    # Kubernetes never saw this failure, so it has no Kubernetes reason: the step
    # that failed is the reason, a key of the next-steps table like any other.
    failed = phase is Phase.FAILED
    return msgspec.structs.replace(
        current,
        phase=phase,
        generation=event.generation,
        reason=event.step if failed else "",
        message=event.message if failed else "",
        updated_at=event.at,
    )
