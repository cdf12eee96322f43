"""Tenants by token hash, remembered for a while: see `services.gateway.auth`."""

from typing import Final

from services.gateway.models import TenantView

# Tokens remembered at most; past it the cache starts afresh (a rare event:
# a tenant has a few tokens, a gateway a few thousand tenants).
CACHE_MAX: Final = 10_000
# The default of URUMI_TOKEN_CACHE_S.
TOKEN_CACHE_S: Final = 5.0


class TokenCache:
    """Tenants by token hash, each for `ttl_s` from its lookup (monotonic time)."""

    def __init__(self, ttl_s: float) -> None:
        self.ttl_s = ttl_s
        self._entries: dict[str, tuple[float, TenantView]] = {}

    def get(self, digest: str, now: float) -> TenantView | None:
        entry = self._entries.get(digest)
        if entry is None:
            return None
        if now >= entry[0]:
            del self._entries[digest]
            return None
        return entry[1]

    def put(self, digest: str, tenant: TenantView, now: float) -> None:
        if len(self._entries) >= CACHE_MAX:
            self._entries.clear()
        self._entries[digest] = (now + self.ttl_s, tenant)
