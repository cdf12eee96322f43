"""/api/v1/tenants: the platform admin creates tenants and issues their tokens."""

from litestar import Controller, get, post
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath, JSONBody

from services.gateway.auth import require_admin
from services.gateway.deps import AnyRequest
from services.gateway.models import CreateTenantRequest, TenantCreated, TenantView, TokenCreated
from services.gateway.openapi_errors import errors
from services.gateway.tenant_service import TenantService


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
        self,
        request: AnyRequest,
        data: JSONBody[CreateTenantRequest],
        admin: NamedDependency[str],
        tenant_service: NamedDependency[TenantService],
    ) -> TenantCreated:
        request.state.audit_target = f"tenant:{data.id}"
        return await tenant_service.create(data)

    @get("/", summary="List tenants", responses=errors())
    async def list_tenants(
        self, admin: NamedDependency[str], tenant_service: NamedDependency[TenantService]
    ) -> list[TenantView]:
        return await tenant_service.all()

    @post(
        "/{tenant_id:str}/tokens",
        status_code=201,
        summary="Issue another token",
        responses=errors(404),
    )
    async def issue_token(
        self,
        request: AnyRequest,
        tenant_id: FromPath[str],
        admin: NamedDependency[str],
        tenant_service: NamedDependency[TenantService],
    ) -> TokenCreated:
        request.state.audit_target = f"tenant:{tenant_id}"
        return await tenant_service.issue_token(tenant_id)
