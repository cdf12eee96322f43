"""When self-healing must stop: a store restored too often is being fought over
(pure, no I/O).

Something outside Urumi that keeps changing what Urumi applies (a second
controller, a script, an autoscaler on a field the chart sets) would otherwise
loop with us forever; after `limit` restores within `window_s` the provisioner
stops restoring that store until its next generation and says why.
"""

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import NamedTuple


class FightLimit(NamedTuple):
    limit: int = 5  # restores allowed within the window
    window_s: float = 600.0

    def recent(self, restores: Sequence[datetime], now: datetime) -> list[datetime]:
        """The restores still inside the window (what a record needs to keep)."""
        since = now - timedelta(seconds=self.window_s)
        return [at for at in restores if at > since]

    def exceeded(self, restores: Sequence[datetime], now: datetime) -> bool:
        """Would one more restore now be more than `limit` in the window?"""
        return len(self.recent(restores, now)) >= self.limit

    def explain(self, restored: Sequence[str]) -> str:
        minutes = self.window_s / 60
        what = ", ".join(restored) or "its objects"
        return (
            f"self-healing stopped: {what} changed outside Urumi again after "
            f"{self.limit} restores in {minutes:g} minutes; something else is managing "
            "this store's objects. Nothing more is restored until the store's next change."
        )
