"""Exponential backoff with jitter for transient failures."""

import random

from services.provisioner.backoff import CAP_S, backoff_with_jitter


def test_grows_exponentially_within_jitter_bounds() -> None:
    rng = random.Random(1)
    for attempt, full in [(1, 1.0), (2, 2.0), (3, 4.0), (4, 8.0), (6, 32.0)]:
        for _ in range(50):
            delay = backoff_with_jitter(attempt, rng=rng)
            assert full / 2 <= delay <= full


def test_capped() -> None:
    rng = random.Random(2)
    delays = [backoff_with_jitter(n, rng=rng) for n in range(7, 60)]
    assert all(CAP_S / 2 <= d <= CAP_S for d in delays)


def test_jitter_spreads_replicas() -> None:
    rng = random.Random(3)
    delays = {round(backoff_with_jitter(5, rng=rng), 3) for _ in range(20)}
    assert len(delays) > 15


def test_attempt_zero_is_treated_as_first() -> None:
    assert 0.5 <= backoff_with_jitter(0) <= 1.0
