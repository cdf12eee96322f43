"""/api/v1/releases: the engine releases a store can be created at or upgraded to."""

from typing import Any

from litestar import Controller, Request, get
from litestar.datastructures import State
from litestar.di import NamedDependency

from services.gateway.models import CatalogView, TenantView
from services.gateway.openapi_errors import errors
from services.gateway.releases import catalog_view

AnyRequest = Request[Any, Any, State]


class ReleaseController(Controller):
    path = "/api/v1/releases"
    tags = ["stores"]

    @get("/", summary="Every engine's releases, oldest first", responses=errors())
    async def list_releases(
        self, request: AnyRequest, tenant: NamedDependency[TenantView]
    ) -> CatalogView:
        del tenant  # any tenant's token may read the catalog
        return catalog_view(request.app.state.releases)
