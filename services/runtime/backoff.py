"""Retry delays for transient failures: one policy, a counter per retry loop.

A loop sleeps with `shutdown.sleep_or_stop(stop, backoff.failed())`, so a service
that is retrying still stops at once on SIGTERM.
"""

import random
from dataclasses import dataclass

# 2**62 seconds outlasts any cap; a larger exponent would only risk OverflowError.
_MAX_DOUBLINGS = 62


@dataclass(frozen=True)
class BackoffPolicy:
    """Exponential growth from `base_s`, capped at `cap_s`.

    With `jitter`, "equal jitter": a random point in the upper half of the delay,
    so replicas that failed together do not retry together, yet none retries
    almost at once. Without it the delay is exact (one client of one server:
    nobody to spread out).
    """

    base_s: float
    cap_s: float
    jitter: bool = True

    def delay(self, attempt: int, rng: random.Random | None = None) -> float:
        """Delay before retry number `attempt` (1 = first retry; 0 counts as 1)."""
        doublings = min(max(attempt - 1, 0), _MAX_DOUBLINGS)
        full = min(self.cap_s, self.base_s * 2.0**doublings)
        if not self.jitter:
            return full
        return full / 2 + (rng or random).uniform(0, full / 2)


class Backoff:
    """The consecutive failures of one retry loop."""

    def __init__(self, policy: BackoffPolicy, rng: random.Random | None = None) -> None:
        self.policy = policy
        self.rng = rng
        self.failures = 0

    def failed(self) -> float:
        """Count a failure; the delay before the next try."""
        self.failures += 1
        return self.policy.delay(self.failures, self.rng)

    def succeeded(self) -> None:
        """Start again from the shortest delay."""
        self.failures = 0
