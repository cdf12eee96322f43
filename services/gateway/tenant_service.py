"""The tenant rules the admin calls: one tenant per id, tokens for existing ones."""

from datetime import UTC, datetime

from services.gateway import repository as repo
from services.gateway.auth import hash_token, new_token
from services.gateway.deps import GatewayDeps
from services.gateway.domain_errors import ConflictError, NotFoundError
from services.gateway.models import CreateTenantRequest, TenantCreated, TenantView, TokenCreated


class TenantService:
    def __init__(self, deps: GatewayDeps) -> None:
        self._deps = deps

    async def create(self, data: CreateTenantRequest) -> TenantCreated:
        """The tenant and its first token (shown once; only its hash is kept)."""
        tenant = TenantView(
            id=data.id,
            display_name=data.display_name,
            max_stores=data.max_stores,
            created_at=datetime.now(UTC),
        )
        token = new_token()
        async with self._deps.db.transaction() as conn:
            if await repo.get_tenant(conn, data.id) is not None:
                raise ConflictError(f"tenant '{data.id}' already exists")
            await repo.add_tenant(conn, tenant)
            await repo.add_token(conn, tenant.id, hash_token(token))
        return TenantCreated(tenant=tenant, token=token)

    async def all(self) -> list[TenantView]:
        return await repo.list_tenants(self._deps.db.reader)

    async def issue_token(self, tenant_id: str) -> TokenCreated:
        token = new_token()
        async with self._deps.db.transaction() as conn:
            if await repo.get_tenant(conn, tenant_id) is None:
                raise NotFoundError(f"no tenant '{tenant_id}'")
            await repo.add_token(conn, tenant_id, hash_token(token))
        return TokenCreated(token=token)
