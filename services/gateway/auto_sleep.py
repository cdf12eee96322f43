"""Auto-sleep: a store nobody visited for its plan's idle limit is put to sleep.
Pure: the setting, the store row and the time in, the sleeping store (or
nothing) out; `auto_sleep_driver` writes it.

A store's last visit (`last_visit_at`) is its creation, its last wake, its last
visit to the asleep page, or the last time the ingress controller counted a
request for it (the watcher's `StoreActivity`), whichever is latest."""

import re
from datetime import datetime, timedelta
from typing import Final

import msgspec

from services.contracts.phases import Phase
from services.contracts.store import Plan
from services.gateway.models import StoreView
from services.gateway.sleep import toggled

# Who an automatic sleep is audited as.
AUTO_SLEEP_ACTOR: Final = "system:auto-sleep"
_ENDED = (Phase.DELETING, Phase.DELETED)
_PLAN = "|".join(p.value for p in Plan)
_LIMIT = rf"({_PLAN})=[1-9][0-9]*[smhd]?"
# `plan=duration`, comma-separated; a duration is a whole number of days (d),
# hours (h), minutes (m) or seconds (s, or no unit).
LIMITS_PATTERN: Final = rf"^$|^{_LIMIT}(,{_LIMIT})*$"
_UNITS: Final = {"d": 86400, "h": 3600, "m": 60, "s": 1, "": 1}
_NAMES: Final = ((86400, "day"), (3600, "hour"), (60, "minute"), (1, "second"))


def parse_limits(text: str) -> dict[Plan, timedelta]:
    """`small=7d,medium=30d` → each plan's idle limit; a plan not named never
    sleeps on its own. Raises ValueError naming what is wrong."""
    if re.fullmatch(LIMITS_PATTERN, text) is None:
        raise ValueError(f"{text!r}: expected plan=duration pairs, e.g. small=7d,medium=30d")
    limits: dict[Plan, timedelta] = {}
    for plan, number, unit in re.findall(rf"({_PLAN})=([0-9]+)([smhd]?)", text):
        limits[Plan(plan)] = timedelta(seconds=int(number) * _UNITS[unit])
    return limits


def describe(limit: timedelta) -> str:
    """`7 days`, `1 hour`, `90 seconds`: the largest unit the limit is a whole number of."""
    seconds = int(limit.total_seconds())
    size, name = next((s, n) for s, n in _NAMES if seconds % s == 0)
    count = seconds // size
    return f"{count} {name}{'' if count == 1 else 's'}"


def idle_limit(store: StoreView, limits: dict[Plan, timedelta], now: datetime) -> timedelta | None:
    """The plan's limit when `store` is awake and was last visited longer ago
    than it, else None (asleep, being deleted, a plan that never sleeps on its
    own, or visited lately)."""
    limit = limits.get(store.plan)
    last = store.last_visit_at or store.created_at
    if limit is None or store.asleep or store.phase in _ENDED or now - last < limit:
        return None
    return limit


def put_to_sleep(store: StoreView, limit: timedelta) -> StoreView | None:
    """`store` put to sleep at its next generation, exactly as its owner's sleep,
    its message saying why; None when it already sleeps."""
    asleep = toggled(store, asleep=True)
    message = f"no visit for {describe(limit)}: the store sleeps; its pods stop, its data stays"
    return None if asleep is None else msgspec.structs.replace(asleep, message=message)
