"""Pure merge of watcher statuses and provisioner progress into a store's phase.

One writer per fact: the watcher says what Kubernetes shows, the provisioner what
it did. Newest generation wins; within one generation a few rules keep facts the
other writer cannot see from being overwritten.
"""

from datetime import datetime

import msgspec

from services.contracts.events import Condition, StoreProgress, StoreStatus
from services.contracts.phases import Phase


class Projected(msgspec.Struct, frozen=True):
    """The part of a store row the projector owns."""

    phase: Phase
    generation: int
    url: str = ""
    reason: str = ""
    message: str = ""
    conditions: list[Condition] = []
    updated_at: datetime | None = None


# While the cluster still shows objects of a store being deleted, the watcher
# may report them as provisioning or degraded; those must not undo `deleting`.
_AFTER_DELETING = frozenset({Phase.DELETING, Phase.DELETED})
# A failure the provisioner reported (the cluster never saw it) stays until the
# cluster shows the store working.
_AFTER_FAILED = frozenset(
    {Phase.FAILED, Phase.READY, Phase.DEGRADED, Phase.DELETING, Phase.DELETED}
)


def _allowed(current: Phase, new: Phase) -> bool:
    if current is Phase.DELETED:
        return False
    if current is Phase.DELETING:
        return new in _AFTER_DELETING
    if current is Phase.FAILED:
        return new in _AFTER_FAILED
    return True


def apply_status(current: Projected, event: StoreStatus) -> Projected | None:
    """The new projection, or None when the event changes nothing."""
    if event.generation < current.generation or not _allowed(current.phase, event.phase):
        return None
    merged = Projected(
        phase=event.phase,
        generation=event.generation,
        url=event.url or current.url,
        reason=event.reason,
        message=event.message,
        conditions=list(event.conditions),
        updated_at=event.observed_at,
    )
    return None if _same(merged, current) else merged


def apply_progress(current: Projected, event: StoreProgress) -> Projected | None:
    if event.phase is None or event.generation < current.generation:
        return None
    # Retried steps must not pull a store the watcher sees as ready back.
    retried = event.generation == current.generation and current.phase is not Phase.PENDING
    if event.phase is Phase.PROVISIONING and retried:
        return None
    if not _allowed(current.phase, event.phase):
        return None
    failed = event.phase is Phase.FAILED
    merged = msgspec.structs.replace(
        current,
        phase=event.phase,
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
