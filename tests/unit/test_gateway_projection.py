"""The gateway saves a store row only when an event changes what a reader sees.

The merge rules themselves are the vectors' (tests/unit/test_store_state_vectors.py).
"""

from datetime import UTC, datetime, timedelta

from services.contracts.events import StepState, StoreProgress, StoreStatus
from services.contracts.phases import Phase
from services.contracts.store_state import StoreState
from services.gateway.projection import apply

NOW = datetime(2026, 11, 26, tzinfo=UTC)


def status(phase: Phase, at: datetime = NOW, reason: str = "") -> StoreStatus:
    return StoreStatus("t", "s", phase, 1, at, reason=reason, url="http://s.example")


def test_a_change_is_saved_with_the_events_time() -> None:
    base = StoreState(phase=Phase.PROVISIONING, generation=1)
    merged = apply(base, status(Phase.READY))
    assert merged is not None
    assert (merged.phase, merged.url, merged.updated_at) == (Phase.READY, "http://s.example", NOW)


def test_the_same_status_observed_later_is_not_saved_again() -> None:
    base = StoreState(phase=Phase.READY, generation=1, url="http://s.example", updated_at=NOW)
    assert apply(base, status(Phase.READY, at=NOW + timedelta(minutes=5))) is None


def test_a_late_pending_that_only_confirms_provisioning_is_not_saved() -> None:
    base = StoreState(phase=Phase.PROVISIONING, generation=1, url="http://s.example")
    assert apply(base, status(Phase.PENDING)) is None


def test_an_ignored_event_is_not_saved() -> None:
    base = StoreState(phase=Phase.DELETED, generation=1)
    failed = StoreProgress("t", "s", 1, "c", "provision", StepState.FAILED, NOW, "x", Phase.FAILED)
    assert apply(base, failed) is None
