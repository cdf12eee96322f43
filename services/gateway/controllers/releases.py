"""/api/v1/releases: the engine releases a store can be created at or upgraded to."""

from litestar import Controller, get
from litestar.di import NamedDependency

from services.gateway.deps import GatewayDeps
from services.gateway.models import CatalogView, TenantView
from services.gateway.openapi_errors import errors
from services.gateway.releases import catalog_view


class ReleaseController(Controller):
    path = "/api/v1/releases"
    tags = ["stores"]

    @get("/", summary="Every engine's releases, oldest first", responses=errors())
    async def list_releases(
        self, tenant: NamedDependency[TenantView], deps: NamedDependency[GatewayDeps]
    ) -> CatalogView:
        del tenant  # asked for so that a token is needed; any tenant's may read it
        return catalog_view(deps.releases)
