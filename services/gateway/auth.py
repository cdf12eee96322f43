"""Bearer tokens: random, shown once, stored as SHA-256 (they carry 256 bits of
entropy, so a slow password hash would add nothing).

A known token's tenant is remembered for `URUMI_TOKEN_CACHE_S` (5 s): every API
call looked it up in the database. So a token deleted from the database (or a
tenant's quota changed there, by any replica) takes effect within that long; an
unknown token is never remembered, so a new token works at once.
"""

import hashlib
import hmac
import math
import secrets
import time

from litestar.di import NamedDependency
from litestar.exceptions import NotAuthorizedException, PermissionDeniedException

from services.gateway import repository as repo
from services.gateway.deps import AnyRequest, GatewayDeps
from services.gateway.errors import TooManyRequests
from services.gateway.models import TenantView

TOKEN_PREFIX = "urumi_"  # noqa: S105 - a label, not a secret


def new_token() -> str:
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _bearer(request: AnyRequest) -> str:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise NotAuthorizedException("send `Authorization: Bearer <token>`")
    return token.strip()


async def _limit(deps: GatewayDeps, key: str) -> None:
    wait = await deps.limiter.check(key, time.time())
    if wait > 0:
        seconds = max(1, math.ceil(wait))
        raise TooManyRequests(
            f"rate limit reached for this token; retry in {seconds} s", retry_after=seconds
        )


async def require_tenant(request: AnyRequest, deps: NamedDependency[GatewayDeps]) -> TenantView:
    token = _bearer(request)
    digest = hash_token(token)
    tenant = await _tenant(deps, digest)
    if tenant is None:
        if _is_admin(deps, token):
            raise PermissionDeniedException("the admin token manages tenants; use a tenant token")
        raise NotAuthorizedException("unknown token")
    request.state.actor = f"tenant:{tenant.id}"
    await _limit(deps, digest)
    return tenant


async def require_admin(request: AnyRequest, deps: NamedDependency[GatewayDeps]) -> str:
    token = _bearer(request)
    if not _is_admin(deps, token):
        raise NotAuthorizedException("admin token required")
    request.state.actor = "admin"
    await _limit(deps, "admin")
    return "admin"


async def require_reader(request: AnyRequest, deps: NamedDependency[GatewayDeps]) -> str:
    """A tenant's token or the admin's, for what both may read (the release
    catalog: tenants pick releases, the admin upgrades fleets to them)."""
    if _is_admin(deps, _bearer(request)):
        return await require_admin(request, deps)
    tenant = await require_tenant(request, deps)
    return tenant.id


async def _tenant(deps: GatewayDeps, digest: str) -> TenantView | None:
    now = time.monotonic()
    tenant = deps.tokens.get(digest, now)
    if tenant is None:
        tenant = await repo.tenant_for_token(deps.db.reader, digest)
        if tenant is not None:
            deps.tokens.put(digest, tenant, now)
    return tenant


def _is_admin(deps: GatewayDeps, token: str) -> bool:
    admin = deps.settings.admin_token
    return bool(admin) and hmac.compare_digest(token.encode(), admin.encode())
