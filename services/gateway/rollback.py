"""Rollback: which spec a store returns to, and when a failed upgrade rolls
itself back. Pure: the store row, the projection an event made and the spec
history in, a decision out; `spec_changes` and the projector do the writing."""

from collections.abc import Sequence
from datetime import UTC, datetime
from enum import StrEnum

import msgspec

from services.contracts.phases import Phase
from services.contracts.store import Plan
from services.contracts.store_state import StoreState
from services.gateway.domain_errors import ConflictError
from services.gateway.models import StoreView

AUTO_ROLLBACK_ACTOR = "system:auto-rollback"
_ENDED = (Phase.DELETING, Phase.DELETED)


class SpecCause(StrEnum):
    """Why a generation has its spec."""

    CREATE = "create"
    UPDATE = "update"
    ROLLBACK = "rollback"
    AUTO_ROLLBACK = "auto-rollback"


class SpecRecord(msgspec.Struct, frozen=True):
    """One generation's spec, as the store_specs table keeps it."""

    generation: int
    plan: Plan
    display_name: str
    release: str  # "" for a store made before releases existed (its legacy release)
    cause: SpecCause


class AutoRollback(msgspec.Struct, frozen=True):
    """Return the store to `target`; `message` is what the user reads."""

    target: SpecRecord
    message: str


class RollbackFailed(msgspec.Struct, frozen=True):
    """An automatic rollback failed: the store stays failed; `message` says so."""

    message: str


def shown(release: str) -> str:
    return release or "the release from before releases"


def target(store: StoreView, history: Sequence[SpecRecord]) -> SpecRecord:
    """The spec a rollback of `store` returns to: its previous generation's.
    `history` is the store's current life, newest first. Refusals say why."""
    if store.phase in _ENDED:
        raise ConflictError(f"store '{store.id}' is {store.phase}; it can no longer roll back")
    if len(history) < 2:
        first = history[0].generation if history else store.generation
        raise ConflictError(
            f"store '{store.id}' has nothing to roll back to: generation {first} is "
            "its first spec (no upgrade or change was made since it was created)"
        )
    return history[1]


def rolled_back(current: StoreView, to: SpecRecord, message: str) -> StoreView:
    """The store at its next generation with `to`'s spec (volumes keep their plan)."""
    return msgspec.structs.replace(
        current,
        plan=to.plan,
        display_name=to.display_name,
        release=to.release,
        phase=Phase.PROVISIONING,
        generation=current.generation + 1,
        reason="RollingBack",
        message=message,
        updated_at=datetime.now(UTC),
    )


def describe(current: StoreView, to: SpecRecord) -> str:
    """What a rollback changes, e.g. "release woo-2026.11 → woo-2026.05"."""
    changes = []
    if to.release != current.release:
        changes.append(f"release {shown(current.release)} → {shown(to.release)}")
    if to.plan != current.plan:
        changes.append(f"plan {current.plan} → {to.plan}")
    if to.display_name != current.display_name:
        changes.append("the previous name")
    what = ", ".join(changes) or "the same spec"
    return f"rolling back to generation {to.generation}'s spec: {what}"


_CAUSE_CHARS = 200


def _cause(failed: StoreState) -> str:
    """Why it failed, short: the detail (a provisioner's reason is its step's name)."""
    why = failed.message or failed.reason or "no reason given"
    return why if len(why) <= _CAUSE_CHARS else f"{why[: _CAUSE_CHARS - 1]}…"


def decide(
    store: StoreView, merged: StoreState, history: Sequence[SpecRecord]
) -> AutoRollback | RollbackFailed | None:
    """Whether the projection `merged`, which an event made of `store`, calls for
    an automatic rollback: the store just went failed at a generation that
    changed its release. Once only: a failed automatic rollback is reported,
    never rolled back again (it would loop between the two releases)."""
    just_failed = merged.phase is Phase.FAILED and store.phase is not Phase.FAILED
    if not just_failed or merged.generation != store.generation or not history:
        return None
    latest = history[0]
    if latest.generation != store.generation:
        return None
    why = _cause(merged)
    if latest.cause is SpecCause.AUTO_ROLLBACK:
        return RollbackFailed(
            f"automatic rollback to {shown(latest.release)} failed ({why}); the store "
            "stays failed: fix the cause, then roll back or upgrade it yourself"
        )
    if latest.cause is not SpecCause.UPDATE or len(history) < 2:
        return None
    previous = history[1]
    if previous.release == latest.release:
        return None
    return AutoRollback(
        target=previous,
        message=(
            f"upgrade to {shown(latest.release)} failed ({why}); "
            f"rolled back to {shown(previous.release)}"
        ),
    )
