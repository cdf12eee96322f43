"""How watcher statuses and provisioner progress merge into the phase a user sees."""

from datetime import UTC, datetime

import pytest

from services.contracts.events import StepState, StoreProgress, StoreStatus
from services.contracts.phases import Phase
from services.gateway.projection import Projected, apply_progress, apply_status

NOW = datetime(2026, 11, 26, tzinfo=UTC)


def status(phase: Phase, generation: int = 1, reason: str = "") -> StoreStatus:
    return StoreStatus(
        tenant="t",
        store="s",
        phase=phase,
        generation=generation,
        observed_at=NOW,
        reason=reason,
        url="http://s.example",
    )


def progress(phase: Phase | None, generation: int = 1, message: str = "") -> StoreProgress:
    return StoreProgress(
        tenant="t",
        store="s",
        generation=generation,
        command_id="c",
        step="apply",
        state=StepState.FAILED if phase is Phase.FAILED else StepState.STARTED,
        at=NOW,
        phase=phase,
        message=message,
    )


@pytest.mark.parametrize(
    ("current", "generation", "event", "expected"),
    [
        (Phase.PENDING, 1, status(Phase.PROVISIONING), Phase.PROVISIONING),
        (Phase.PROVISIONING, 1, status(Phase.READY), Phase.READY),
        (Phase.READY, 1, status(Phase.DEGRADED), Phase.DEGRADED),
        (Phase.DEGRADED, 1, status(Phase.READY), Phase.READY),
        (Phase.PROVISIONING, 1, status(Phase.FAILED, reason="ImagePullBackOff"), Phase.FAILED),
        (Phase.FAILED, 1, status(Phase.PROVISIONING), None),
        (Phase.FAILED, 1, status(Phase.READY), Phase.READY),
        (Phase.DELETING, 2, status(Phase.DEGRADED, 2), None),
        (Phase.DELETING, 2, status(Phase.DELETED, 2), Phase.DELETED),
        (Phase.DELETED, 2, status(Phase.READY, 2), None),
        (Phase.PENDING, 3, status(Phase.READY, 2), None),
        (Phase.READY, 1, status(Phase.READY), None),
        (Phase.PENDING, 1, progress(Phase.PROVISIONING), Phase.PROVISIONING),
        (Phase.READY, 1, progress(Phase.PROVISIONING), None),
        (Phase.PROVISIONING, 1, progress(Phase.FAILED, message="422"), Phase.FAILED),
        (Phase.PENDING, 1, progress(None), None),
        (Phase.DELETING, 2, progress(Phase.DELETING, 2), None),
        (Phase.DELETED, 2, progress(Phase.DELETING, 2), None),
        (Phase.READY, 2, progress(Phase.FAILED, 1), None),
        (Phase.PROVISIONING, 1, status(Phase.PENDING), None),
        (Phase.READY, 1, status(Phase.PENDING, 2), Phase.PENDING),
        (Phase.PENDING, 1, progress(Phase.DELETED), Phase.DELETED),
    ],
)
def test_merge(
    current: Phase, generation: int, event: StoreStatus | StoreProgress, expected: Phase | None
) -> None:
    base = Projected(phase=current, generation=generation, url="http://s.example")
    merged = (
        apply_status(base, event) if isinstance(event, StoreStatus) else apply_progress(base, event)
    )
    assert (merged.phase if merged else None) == expected


def test_failure_keeps_message_for_the_user() -> None:
    base = Projected(phase=Phase.PROVISIONING, generation=1)
    merged = apply_progress(base, progress(Phase.FAILED, message="spec.replicas: Invalid"))
    assert merged is not None
    assert (merged.reason, merged.message) == ("apply", "spec.replicas: Invalid")
