"""Store lifecycle phases, and how a reader folds the two writers' reports into one.

One writer per fact: the watcher reports what Kubernetes shows (StoreStatus), the
provisioner what it did (StoreProgress). Every reader (the gateway's projector,
the CLI, the dashboard's JS twin) merges them by `merge_phase`, through
`store_state.fold`, so they agree.
"""

from enum import StrEnum
from typing import Final


class Phase(StrEnum):
    PENDING = "pending"
    PROVISIONING = "provisioning"
    READY = "ready"
    DEGRADED = "degraded"
    # Put to sleep by its tenant: no pod runs, volumes and data are kept.
    ASLEEP = "asleep"
    FAILED = "failed"
    DELETING = "deleting"
    DELETED = "deleted"


TERMINAL: Final = frozenset({Phase.DELETED})
# Phases that count against a tenant's store quota and block re-creating the id.
LIVE: Final = frozenset(set(Phase) - {Phase.DELETED})

# While the cluster still shows objects of a store being deleted, the watcher
# may report them as provisioning or degraded; those must not undo `deleting`.
_AFTER_DELETING: Final = frozenset({Phase.DELETING, Phase.DELETED})
# A failure the provisioner reported (the cluster never saw it) stays until the
# cluster shows the store working (or asleep, as asked), or it is deleted.
_AFTER_FAILED: Final = frozenset(
    {Phase.FAILED, Phase.READY, Phase.DEGRADED, Phase.ASLEEP, Phase.DELETING, Phase.DELETED}
)


def may_follow(current: Phase, new: Phase) -> bool:
    if current is Phase.DELETED:
        return False
    if current is Phase.DELETING:
        return new in _AFTER_DELETING
    if current is Phase.FAILED:
        return new in _AFTER_FAILED
    return True


def merge_phase(
    current: Phase, current_generation: int, new: Phase | None, generation: int, by_watcher: bool
) -> Phase | None:
    """The phase after a report of `new` at `generation`, or None to ignore it."""
    if new is None or generation < current_generation or not may_follow(current, new):
        return None
    if generation > current_generation:
        return new
    if by_watcher and current is Phase.PROVISIONING and new is Phase.PENDING:
        # The watcher says pending until it sees objects: no step back.
        return Phase.PROVISIONING
    if not by_watcher and new is Phase.PROVISIONING and current is not Phase.PENDING:
        # A retried step must not pull back a store the watcher already reports on.
        return None
    return new
