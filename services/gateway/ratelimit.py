"""Token bucket per API token, kept in the database so that every replica
draws from the same bucket."""

from services.gateway import repository as repo
from services.gateway.sql import Backend


class RateLimiter:
    def __init__(self, db: Backend, per_minute: int, burst: int | None = None) -> None:
        self.db = db
        self.rate = per_minute / 60.0
        self.burst = float(burst if burst is not None else max(1, per_minute // 6))

    async def check(self, key: str, now: float) -> float:
        """Take one token: 0 when allowed, else seconds until one is available.

        `now` is wall-clock time: replicas share buckets, not a monotonic clock."""
        async with self.db.transaction(exclusive=False) as conn:
            tokens = await repo.take_token(conn, key, now, self.rate, self.burst)
        return 0.0 if tokens is None else (1 - tokens) / self.rate
