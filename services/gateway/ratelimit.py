"""Token bucket per API token: in the database when replicas share it, so that
every replica draws from the same bucket; in memory when one process is all."""

from typing import Final, Protocol

from services.gateway import repository as repo
from services.gateway.sql import Backend

_MAX_KEYS: Final = 50_000


class Limiter(Protocol):
    async def check(self, key: str, now: float) -> float:
        """Take one token: 0 when allowed, else seconds until one is available.

        `now` is wall-clock time: replicas share buckets, not a monotonic clock."""
        ...


class RateLimiter:
    """Buckets in the database: one atomic statement per call."""

    def __init__(self, db: Backend, per_minute: int, burst: int | None = None) -> None:
        self.db = db
        self.rate = per_minute / 60.0
        self.burst = float(burst if burst is not None else max(1, per_minute // 6))

    async def check(self, key: str, now: float) -> float:
        async with self.db.transaction(exclusive=False) as conn:
            tokens = await repo.take_token(conn, key, now, self.rate, self.burst)
        return 0.0 if tokens is None else (1 - tokens) / self.rate


class LocalRateLimiter:
    """Buckets in this process: exact for the one SQLite replica, and no write
    (SQLite's single writer) for every authenticated call."""

    def __init__(self, per_minute: int, burst: int | None = None) -> None:
        self.rate = per_minute / 60.0
        self.burst = float(burst if burst is not None else max(1, per_minute // 6))
        self._buckets: dict[str, tuple[float, float]] = {}

    async def check(self, key: str, now: float) -> float:
        tokens, last = self._buckets.get(key, (self.burst, now))
        tokens = min(self.burst, tokens + (now - last) * self.rate)
        if tokens >= 1:
            self._store(key, tokens - 1, now)
            return 0.0
        self._store(key, tokens, now)
        return (1 - tokens) / self.rate

    def _store(self, key: str, tokens: float, now: float) -> None:
        if len(self._buckets) >= _MAX_KEYS and key not in self._buckets:
            # Idle keys refill to full anyway; forgetting them changes nothing.
            self._buckets = {
                k: v
                for k, v in self._buckets.items()
                if v[0] + (now - v[1]) * self.rate < self.burst
            }
        self._buckets[key] = (tokens, now)
