"""Token bucket per API token: pure, clock passed in."""

from typing import Final

_MAX_KEYS: Final = 50_000


class RateLimiter:
    def __init__(self, per_minute: int, burst: int | None = None) -> None:
        self.rate = per_minute / 60.0
        self.burst = float(burst if burst is not None else max(1, per_minute // 6))
        self._buckets: dict[str, tuple[float, float]] = {}

    def check(self, key: str, now: float) -> float:
        """Take one token: 0 when allowed, else seconds until one is available."""
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
