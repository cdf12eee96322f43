"""/api/v1/tenants: the platform admin creates tenants and issues their tokens."""

from datetime import UTC, datetime
from typing import Any

from litestar import Controller, Request, get, post
from litestar.datastructures import State
from litestar.di import NamedDependency, Provide
from litestar.exceptions import HTTPException, NotFoundException
from litestar.params import FromPath, JSONBody

from services.gateway import repository as repo
from services.gateway.auth import hash_token, new_token, require_admin
from services.gateway.models import CreateTenantRequest, TenantCreated, TenantView, TokenCreated
from services.gateway.openapi_errors import errors

AnyRequest = Request[Any, Any, State]


class TenantController(Controller):
    path = "/api/v1/tenants"
    tags = ["tenants (admin)"]
    dependencies = {"admin": Provide(require_admin)}

    @post(
        "/",
        status_code=201,
        summary="Create a tenant and its first token",
        responses=errors(400, 409, 413, 422),
    )
    async def create(
        self, request: AnyRequest, data: JSONBody[CreateTenantRequest], admin: NamedDependency[str]
    ) -> TenantCreated:
        request.state.audit_target = f"tenant:{data.id}"
        state = request.app.state
        tenant = TenantView(
            id=data.id,
            display_name=data.display_name,
            max_stores=data.max_stores,
            created_at=datetime.now(UTC),
        )
        token = new_token()
        async with state.db.transaction() as conn:
            if await repo.get_tenant(conn, data.id) is not None:
                raise HTTPException(status_code=409, detail=f"tenant '{data.id}' already exists")
            await repo.add_tenant(conn, tenant)
            await repo.add_token(conn, tenant.id, hash_token(token))
        return TenantCreated(tenant=tenant, token=token)

    @get("/", summary="List tenants", responses=errors())
    async def list_tenants(
        self, request: AnyRequest, admin: NamedDependency[str]
    ) -> list[TenantView]:
        return await repo.list_tenants(request.app.state.db.reader)

    @post(
        "/{tenant_id:str}/tokens",
        status_code=201,
        summary="Issue another token",
        responses=errors(404),
    )
    async def issue_token(
        self, request: AnyRequest, tenant_id: FromPath[str], admin: NamedDependency[str]
    ) -> TokenCreated:
        request.state.audit_target = f"tenant:{tenant_id}"
        token = new_token()
        async with request.app.state.db.transaction() as conn:
            if await repo.get_tenant(conn, tenant_id) is None:
                raise NotFoundException(f"no tenant '{tenant_id}'")
            await repo.add_token(conn, tenant_id, hash_token(token))
        return TokenCreated(token=token)
