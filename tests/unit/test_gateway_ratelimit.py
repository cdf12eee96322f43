"""Token buckets: in the database every replica draws from one bucket; in memory
(one SQLite replica) the same arithmetic."""

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from services.gateway.db import Database
from services.gateway.ratelimit import Limiter, LocalRateLimiter, RateLimiter


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    database = Database(str(tmp_path / "gw.db"))
    await database.open()
    yield database
    await database.close()


@pytest.mark.parametrize("where", ["database", "memory"])
async def test_a_bucket_allows_its_burst_then_refills(db: Database, where: str) -> None:
    limiter: Limiter = (
        RateLimiter(db, per_minute=60, burst=3)
        if where == "database"
        else LocalRateLimiter(per_minute=60, burst=3)
    )
    assert [await limiter.check("k", 100.0) for _ in range(3)] == [0.0, 0.0, 0.0]
    assert await limiter.check("k", 100.0) == pytest.approx(1.0)
    assert await limiter.check("k", 100.5) == pytest.approx(0.5)  # refused calls take nothing
    assert await limiter.check("k", 101.0) == 0.0
    assert await limiter.check("other", 100.0) == 0.0


async def test_an_idle_bucket_refills_only_to_its_burst(db: Database) -> None:
    limiter = RateLimiter(db, per_minute=60, burst=2)
    await limiter.check("k", 0.0)
    taken = [await limiter.check("k", 1000.0) for _ in range(3)]
    assert taken[:2] == [0.0, 0.0] and taken[2] > 0


async def test_two_limiters_on_one_database_share_the_bucket(db: Database) -> None:
    """Two replicas: the limit holds in total, not per replica."""
    first, second = RateLimiter(db, per_minute=60, burst=2), RateLimiter(db, per_minute=60, burst=2)
    answers = [await limiter.check("k", 5.0) for limiter in (first, second, first, second)]
    assert answers[:2] == [0.0, 0.0]
    assert all(wait > 0 for wait in answers[2:])
