"""Fleet upgrades, the rules: who is in a fleet, in which wave, when a store's
upgrade has settled, and what the fleet does next. Pure: rows in, decisions out;
`fleet_driver` reads and writes them."""

import math
import re
from collections import Counter
from collections.abc import Sequence
from datetime import datetime
from enum import Enum
from typing import NamedTuple

import msgspec

from services.contracts.fleet import (
    WAVE_PATTERN,
    FleetCounts,
    FleetMember,
    FleetState,
    FleetSummary,
    MemberState,
)
from services.contracts.phases import Phase
from services.gateway.domain_errors import ConflictError
from services.gateway.models import StoreView

_ENDED = (Phase.DELETING, Phase.DELETED)
_MAX_REASONS = 5


def wave_size(wave: str, stores: int) -> int:
    """How many stores a wave holds: `wave` is a count ("10") or a share of the
    fleet ("10%", rounded up, so every wave holds at least one store)."""
    if not re.fullmatch(WAVE_PATTERN, wave):
        raise ValueError(f"wave {wave!r} is neither a count nor a percentage")
    if wave.endswith("%"):
        return max(1, math.ceil(stores * min(100, int(wave[:-1])) / 100))
    return int(wave)


def members(stores: Sequence[StoreView], size: int) -> list[FleetMember]:
    """The fleet's stores in waves of `size`, in the order given (oldest first)."""
    return [
        FleetMember(store=s.id, tenant=s.tenant, wave=i // size + 1, from_release=s.release)
        for i, s in enumerate(stores)
    ]


def settle(
    member: FleetMember, store: StoreView | None, fleet: FleetSummary, now: datetime
) -> FleetMember:
    """An upgrading store's state now that its row says `store`. A failure the
    projector rolled back is marked there, with its reason; this catches the
    rest: a failed store not rolled back, a store deleted or changed since, and
    one not ready within the fleet's `store_timeout_s` (left as it is: it may
    still become ready, but its wave no longer waits for it)."""
    to_release = fleet.to_release
    if member.state is not MemberState.UPGRADING:
        return member
    if store is None or store.phase in _ENDED:
        return _moved(member, MemberState.SKIPPED, "deleted during its upgrade")
    if store.generation < member.generation:
        return member  # the row is older than the upgrade: cannot happen, wait
    at_target = store.release == to_release
    if at_target and store.phase is Phase.READY:
        return _moved(member, MemberState.UPGRADED, "")
    if at_target and store.phase is Phase.ASLEEP:
        # Its workloads stay at zero: the new release's setup runs when it wakes.
        return _moved(member, MemberState.UPGRADED, "asleep: its setup runs when it wakes")
    if store.phase is Phase.FAILED:
        return _moved(member, MemberState.FAILED, store.message or store.reason or "failed")
    if not at_target:
        why = f"changed outside this upgrade: now at {store.release or 'its old release'}"
        return _moved(member, MemberState.FAILED, why)
    started = member.started_at or now
    if (now - started).total_seconds() > fleet.store_timeout_s:
        minutes = f"{fleet.store_timeout_s / 60:g} min"
        why = f"not ready within {minutes} of its upgrade (now {store.phase}"
        why += f": {store.message})" if store.message else ")"
        return _moved(member, MemberState.FAILED, why)
    return member


def start(member: FleetMember, store: StoreView | None, behind: bool) -> FleetMember | None:
    """A waiting store as its wave starts: skipped (said why), or None when it is
    to be upgraded now (`behind`: its release is older than the target)."""
    if store is None or store.phase in _ENDED:
        return _moved(member, MemberState.SKIPPED, "deleted before its wave")
    if not behind:
        return _moved(member, MemberState.SKIPPED, f"already at {store.release}")
    return None


def _moved(member: FleetMember, state: MemberState, reason: str) -> FleetMember:
    return msgspec.structs.replace(member, state=state, reason=reason)


def counts(all_members: Sequence[FleetMember]) -> FleetCounts:
    by_state = Counter(m.state for m in all_members)
    return FleetCounts(**{state.value: by_state[state] for state in MemberState})


class Action(Enum):
    WAIT = "wait"  # stores in flight, or paused
    START_WAVE = "start-wave"
    FINISH = "finish"  # the fleet's state becomes final


class Next(NamedTuple):
    action: Action
    state: FleetState
    wave: int = 0  # the wave to start
    message: str = ""


def next_step(fleet: FleetSummary, all_members: Sequence[FleetMember]) -> Next:
    """What the fleet does after its stores settled: halt on too many failures,
    finish a cancel at the wave boundary, start the next wave, or be done."""
    c = counts(all_members)
    if fleet.state in (FleetState.CANCELLED, FleetState.HALTED, FleetState.DONE):
        return Next(Action.WAIT, fleet.state, message=fleet.message)
    if c.failed > fleet.max_failures:
        return Next(Action.FINISH, FleetState.HALTED, message=_halted(fleet, all_members))
    if c.upgrading:
        return Next(Action.WAIT, fleet.state, message=fleet.message)
    if fleet.state is FleetState.CANCELLING:
        message = (
            f"cancelled after wave {fleet.wave} of {fleet.waves}: {c.upgraded} upgraded, "
            f"{c.waiting} not started"
        )
        return Next(Action.FINISH, FleetState.CANCELLED, message=message)
    if fleet.state is FleetState.PAUSED:
        return Next(Action.WAIT, fleet.state, message=fleet.message)
    waiting = [m.wave for m in all_members if m.state is MemberState.WAITING]
    if waiting:
        return Next(Action.START_WAVE, fleet.state, wave=min(waiting))
    message = f"{c.upgraded} upgraded to {fleet.to_release}"
    if c.skipped:
        message += f", {c.skipped} skipped"
    if c.failed:
        message += f", {c.failed} failed (within max_failures {fleet.max_failures})"
    return Next(Action.FINISH, FleetState.DONE, message=message)


def _halted(fleet: FleetSummary, all_members: Sequence[FleetMember]) -> str:
    failed = [m for m in all_members if m.state is MemberState.FAILED]
    shown = "; ".join(f"{m.store}: {m.reason}" for m in failed[:_MAX_REASONS])
    more = f"; and {len(failed) - _MAX_REASONS} more" if len(failed) > _MAX_REASONS else ""
    return (
        f"halted in wave {fleet.wave}: {len(failed)} failed, more than max_failures "
        f"{fleet.max_failures} ({shown}{more}); the stores not started are untouched"
    )


class Control(Enum):
    PAUSE = "pause"
    RESUME = "resume"
    CANCEL = "cancel"


_CONTROLS = {
    Control.PAUSE: ({FleetState.RUNNING}, FleetState.PAUSED),
    Control.RESUME: ({FleetState.PAUSED}, FleetState.RUNNING),
    Control.CANCEL: ({FleetState.RUNNING, FleetState.PAUSED}, FleetState.CANCELLING),
}


def controlled(fleet: FleetSummary, control: Control) -> FleetState | None:
    """The state `control` moves the fleet to; None when it is already there (a
    repeated call changes nothing). Other states refuse it."""
    allowed, to = _CONTROLS[control]
    if fleet.state is to:
        return None
    if fleet.state not in allowed:
        hint = (
            "start a new fleet upgrade for the stores left"
            if fleet.state is FleetState.HALTED
            else "nothing is left to change"
        )
        raise ConflictError(
            f"fleet upgrade '{fleet.id}' is {fleet.state}; it cannot {control.value} ({hint})"
        )
    return to
