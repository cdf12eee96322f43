"""The one backoff policy: exponential growth, a cap, equal jitter or none."""

import random

from services.runtime.backoff import Backoff, BackoffPolicy

JITTERED = BackoffPolicy(base_s=1.0, cap_s=60.0)
EXACT = BackoffPolicy(base_s=0.2, cap_s=5.0, jitter=False)


def test_grows_exponentially_within_jitter_bounds() -> None:
    rng = random.Random(1)
    for attempt, full in [(1, 1.0), (2, 2.0), (3, 4.0), (4, 8.0), (6, 32.0)]:
        for _ in range(50):
            delay = JITTERED.delay(attempt, rng=rng)
            assert full / 2 <= delay <= full


def test_capped() -> None:
    rng = random.Random(2)
    delays = [JITTERED.delay(n, rng=rng) for n in range(7, 60)]
    assert all(30.0 <= d <= 60.0 for d in delays)


def test_huge_attempt_stays_at_the_cap() -> None:
    assert EXACT.delay(10_000) == 5.0


def test_jitter_spreads_replicas() -> None:
    rng = random.Random(3)
    delays = {round(JITTERED.delay(5, rng=rng), 3) for _ in range(20)}
    assert len(delays) > 15


def test_attempt_zero_is_treated_as_first() -> None:
    assert 0.5 <= JITTERED.delay(0) <= 1.0


def test_without_jitter_the_delay_is_exact() -> None:
    assert [EXACT.delay(n) for n in range(1, 8)] == [0.2, 0.4, 0.8, 1.6, 3.2, 5.0, 5.0]


def test_a_loop_counts_failures_until_a_success() -> None:
    backoff = Backoff(EXACT)
    assert [backoff.failed() for _ in range(3)] == [0.2, 0.4, 0.8]
    backoff.succeeded()
    assert backoff.failed() == 0.2


def test_a_loop_draws_jitter_from_its_rng() -> None:
    first, second = Backoff(JITTERED, random.Random(4)), Backoff(JITTERED, random.Random(4))
    assert [first.failed() for _ in range(5)] == [second.failed() for _ in range(5)]
