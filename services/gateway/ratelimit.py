"""Token bucket per API token: in the database when replicas share it, so that
every replica draws from the same bucket; in memory when one process is all."""

from typing import Final, Protocol

from services.gateway import repository as repo
from services.gateway.sql import Backend
from services.runtime.token_bucket import BucketPolicy, TokenBuckets

_MAX_KEYS: Final = 50_000


class Limiter(Protocol):
    async def check(self, key: str, now: float) -> float:
        """Take one token: 0 when allowed, else seconds until one is available.

        `now` is wall-clock time: replicas share buckets, not a monotonic clock."""
        ...


def _policy(per_minute: int, burst: int | None) -> BucketPolicy:
    return BucketPolicy(
        rate=per_minute / 60.0, burst=float(burst if burst is not None else max(1, per_minute // 6))
    )


class RateLimiter:
    """Buckets in the database: one atomic statement per call."""

    def __init__(self, db: Backend, per_minute: int, burst: int | None = None) -> None:
        self.db = db
        self.policy = _policy(per_minute, burst)

    async def check(self, key: str, now: float) -> float:
        async with self.db.transaction(exclusive=False) as conn:
            tokens = await repo.take_token(conn, key, now, self.policy)
        return 0.0 if tokens is None else self.policy.wait_s(tokens)


class LocalRateLimiter:
    """Buckets in this process: exact for the one SQLite replica, and no write
    (SQLite's single writer) for every authenticated call."""

    def __init__(self, per_minute: int, burst: int | None = None) -> None:
        self.buckets = TokenBuckets(_policy(per_minute, burst), max_keys=_MAX_KEYS)

    async def check(self, key: str, now: float) -> float:
        return self.buckets.take(key, now)
