"""Sleeping stores: what a sleep or a wake makes of a store. Pure: the store row
in, the store at its next generation (or a refusal) out; `spec_changes` writes it.

A sleep or a wake is a generation of its own, applied the usual way (the
provisioner scales the store's workloads to zero, or back), but not a spec
change: the store's release, plan and name stay, and a rollback returns to the
spec before the last change of those, asleep or awake as the store is."""

from datetime import UTC, datetime, timedelta
from typing import Final

import msgspec

from services.contracts.phases import Phase
from services.contracts.store import Plan
from services.gateway.domain_errors import ConflictError
from services.gateway.models import StoreView

_ENDED = (Phase.DELETING, Phase.DELETED)
# Who a wake on a shopper's visit is audited as.
VISIT_ACTOR: Final = "system:wake-on-visit"
# A visit to the asleep page is written as the store's last visit at most this
# often: a crawler's burst takes one write, not one per request.
VISIT_RECORD_EVERY: Final = timedelta(minutes=1)


def verb(asleep: bool) -> str:
    return "sleep" if asleep else "wake"


def toggled(current: StoreView, asleep: bool) -> StoreView | None:
    """`current` put to sleep (`asleep`) or woken at its next generation; None
    when it already is so. A store being deleted is refused."""
    if current.phase in _ENDED:
        raise ConflictError(
            f"store '{current.id}' is {current.phase}; it can no longer {verb(asleep)}"
        )
    if current.asleep == asleep:
        return None
    if asleep:
        reason, message = (
            "FallingAsleep",
            "putting the store to sleep: its pods stop, its data stays",
        )
    else:
        reason, message = "Waking", "waking the store: its pods start again on the same data"
    return msgspec.structs.replace(
        current,
        asleep=asleep,
        phase=Phase.PROVISIONING,
        generation=current.generation + 1,
        reason=reason,
        message=message,
        updated_at=datetime.now(UTC),
    )


def woken_by_visit(store: StoreView | None, plans: frozenset[Plan]) -> StoreView | None:
    """`store` woken at its next generation by a shopper's visit: it sleeps (or
    is falling asleep) and its plan is one of `plans`. None: the visit changes
    nothing (no store, awake, being deleted, or a plan that waits for its owner)."""
    if store is None or not store.asleep or store.phase in _ENDED or store.plan not in plans:
        return None
    woken = toggled(store, asleep=False)
    message = "a shopper's visit wakes the store: its pods start again on the same data"
    return None if woken is None else msgspec.structs.replace(woken, message=message)


def visit_worth_recording(store: StoreView, now: datetime) -> bool:
    """Whether a visit at `now` to the store's asleep page is written as its last
    visit: the one recorded is older than `VISIT_RECORD_EVERY`."""
    last = store.last_visit_at
    return store.phase not in _ENDED and (last is None or now - last >= VISIT_RECORD_EVERY)
