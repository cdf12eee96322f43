"""/api/v1/releases: the engine releases a store can be created at or upgraded to."""

from litestar import Controller, get
from litestar.di import NamedDependency, Provide

from services.gateway.auth import require_reader
from services.gateway.deps import GatewayDeps
from services.gateway.models import CatalogView
from services.gateway.openapi_errors import errors
from services.gateway.releases import catalog_view


class ReleaseController(Controller):
    path = "/api/v1/releases"
    tags = ["stores"]
    dependencies = {"reader": Provide(require_reader)}

    @get("/", summary="Every engine's releases, oldest first", responses=errors())
    async def list_releases(
        self, reader: NamedDependency[str], deps: NamedDependency[GatewayDeps]
    ) -> CatalogView:
        del reader  # asked for so that a token is needed: any tenant's, or the admin's
        return catalog_view(deps.releases)
