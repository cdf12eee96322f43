"""Token bucket math, and buckets kept in this process (pure, no I/O).

A bucket holds at most `burst` tokens and gains `rate` a second; a call takes
one whole token or is refused. Time is passed in, in any clock that the callers
of one bucket share (monotonic in one process, wall-clock across replicas).
Callers that keep buckets elsewhere (the gateway's database table for several
replicas) use `refill` and `wait_s` for the same answers.
"""

import math
from dataclasses import dataclass


@dataclass(frozen=True)
class BucketPolicy:
    rate: float  # tokens a second
    burst: float  # most tokens a bucket holds; a new bucket starts full

    def refill(self, tokens: float, at: float, now: float) -> float:
        """What a bucket that held `tokens` at time `at` holds at `now`."""
        return min(self.burst, tokens + (now - at) * self.rate)

    def wait_s(self, tokens: float) -> float:
        """Seconds until a bucket holding `tokens` has a whole one (0 if it has;
        never, as infinity, when nothing refills it)."""
        if tokens >= 1:
            return 0.0
        return (1 - tokens) / self.rate if self.rate > 0 else math.inf


class TokenBuckets:
    """One bucket per key, in memory.

    With `max_keys`, keys whose bucket would be full again are forgotten when a
    new key would pass it: a full bucket is what a new key gets anyway.
    """

    def __init__(self, policy: BucketPolicy, max_keys: int | None = None) -> None:
        self.policy = policy
        self.max_keys = max_keys
        self._buckets: dict[str, tuple[float, float]] = {}  # key → (tokens, at)

    def take(self, key: str, now: float) -> float:
        """Take a token: 0 when taken, else seconds until one is available."""
        tokens, at = self._buckets.get(key, (self.policy.burst, now))
        tokens = self.policy.refill(tokens, at, now)
        if tokens >= 1:
            self._store(key, tokens - 1, now)
            return 0.0
        self._store(key, tokens, now)
        return self.policy.wait_s(tokens)

    def forget(self, key: str) -> None:
        self._buckets.pop(key, None)

    def __len__(self) -> int:
        return len(self._buckets)

    def _store(self, key: str, tokens: float, now: float) -> None:
        if (
            self.max_keys is not None
            and len(self._buckets) >= self.max_keys
            and key not in self._buckets
        ):
            self._buckets = {
                k: (t, at)
                for k, (t, at) in self._buckets.items()
                if self.policy.refill(t, at, now) < self.policy.burst
            }
        self._buckets[key] = (tokens, now)
