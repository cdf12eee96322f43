"""The slow periodic resync: when each store is re-applied in case a watch missed
a change (pure, no I/O).

Every store once per `period_s`, each at its own offset in the period (from a
hash of its name, so a fleet spreads evenly and a restart keeps the spread), and
never more than `per_s` a second (a burst of `per_s` at most), so the provisioner
and the API server feel a steady trickle, not a wave. A store that appears
later (a new one, just applied) waits a whole period: a resync then would only
queue a second command behind the first apply.
"""

import zlib
from collections.abc import Iterable


class ResyncSchedule:
    def __init__(self, period_s: float, per_s: float) -> None:
        self.period_s = period_s
        self.per_s = per_s
        self._next: dict[str, float] = {}
        self._tokens = 0.0
        self._last: float | None = None
        self._started = False

    def offset(self, store: str) -> float:
        return zlib.crc32(store.encode()) / 2**32 * self.period_s

    def due(self, stores: Iterable[str], now: float) -> list[str]:
        """The stores to resync now, oldest first; the rest wait their turn."""
        present = set(stores)
        for gone in set(self._next) - present:
            del self._next[gone]
        for store in present - set(self._next):
            wait = self.period_s if self._started else self.offset(store)
            self._next[store] = now + wait
        self._started = True
        self._refill(now)
        ready = sorted((at, s) for s, at in self._next.items() if at <= now)
        taken = [s for _, s in ready[: int(self._tokens)]]
        self._tokens -= len(taken)
        for store in taken:
            following = self._next[store] + self.period_s
            # Far behind (after a long standby): a period from now, not a catch-up burst.
            self._next[store] = following if following > now else now + self.period_s
        return taken

    def _refill(self, now: float) -> None:
        elapsed = 0.0 if self._last is None else now - self._last
        self._last = now
        self._tokens = min(max(self.per_s, 1.0), self._tokens + elapsed * self.per_s)
