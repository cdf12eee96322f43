"""Retry delays for transient failures."""

import random
from typing import Final

BASE_S: Final = 1.0
CAP_S: Final = 60.0


def backoff_with_jitter(
    attempt: int, base: float = BASE_S, cap: float = CAP_S, rng: random.Random | None = None
) -> float:
    """Delay before retry number `attempt` (1 = first retry).

    Exponential growth capped at `cap`, then "equal jitter": a random point in
    the upper half, so replicas that failed together do not retry together but
    never retry almost at once either.
    """
    exp = min(cap, base * 2.0 ** max(attempt - 1, 0))
    r = rng or random
    return exp / 2 + r.uniform(0, exp / 2)
