"""The one token bucket: its math and the in-memory buckets."""

import math

import pytest

from services.runtime.token_bucket import BucketPolicy, TokenBuckets

POLICY = BucketPolicy(rate=2.0, burst=5.0)


def test_refill_grows_with_time_up_to_the_burst() -> None:
    assert POLICY.refill(0.0, at=10.0, now=11.0) == 2.0
    assert POLICY.refill(4.5, at=10.0, now=20.0) == 5.0


def test_wait_is_the_time_to_a_whole_token() -> None:
    assert POLICY.wait_s(1.0) == 0.0
    assert POLICY.wait_s(0.5) == pytest.approx(0.25)
    assert BucketPolicy(rate=0.0, burst=1.0).wait_s(0.0) == math.inf


def test_a_new_key_starts_full_then_refills_at_the_rate() -> None:
    buckets = TokenBuckets(POLICY)
    assert [buckets.take("a", 0.0) for _ in range(5)] == [0.0] * 5
    assert buckets.take("a", 0.0) == pytest.approx(0.5)
    assert buckets.take("a", 0.25) == pytest.approx(0.25)  # a refusal takes nothing
    assert buckets.take("a", 0.5) == 0.0
    assert buckets.take("b", 0.5) == 0.0  # keys do not share


def test_forget_gives_a_key_a_full_bucket() -> None:
    buckets = TokenBuckets(BucketPolicy(rate=0.1, burst=1.0))
    assert buckets.take("a", 0.0) == 0.0
    assert buckets.take("a", 0.0) > 0
    buckets.forget("a")
    assert buckets.take("a", 0.0) == 0.0


def test_max_keys_forgets_only_buckets_that_are_full_again() -> None:
    buckets = TokenBuckets(BucketPolicy(rate=1.0, burst=2.0), max_keys=2)
    buckets.take("idle", 0.0)  # full again at 1.0
    buckets.take("busy", 0.0)
    buckets.take("busy", 0.0)  # empty: full only at 2.0
    buckets.take("new", 1.5)
    assert len(buckets) == 2
    assert buckets.take("busy", 1.5) == 0.0  # kept its 1.5 tokens
    assert buckets.take("busy", 1.5) == pytest.approx(0.5)
