"""/api/v1/stores: create, list, get, change, roll back, sleep, wake, events,
credentials, delete."""

from typing import Annotated

from litestar import Controller, Response, delete, get, patch, post
from litestar.di import NamedDependency
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import FromPath, FromQuery, JSONBody, QueryParameter

from services.gateway.audit import in_transaction
from services.gateway.deps import AnyRequest
from services.gateway.models import (
    CreateStoreRequest,
    Credentials,
    EventList,
    PreviousSpecView,
    StoreList,
    StoreView,
    TenantView,
    UpdateStoreRequest,
)
from services.gateway.openapi_errors import errors
from services.gateway.store_service import Outcome, StoreService


def _same_store(description: str) -> ResponseSpec:
    """The 200 of an idempotent call: the store as it already is."""
    return ResponseSpec(data_container=StoreView, description=description, generate_examples=False)


def _answer(outcome: Outcome) -> Response[StoreView]:
    """202 when a command was queued; 200 when the store already was as asked."""
    return Response(outcome.store, status_code=202 if outcome.changed else 200)


class StoreController(Controller):
    """Mounted as `store_controller(service)`: the handlers call the service it
    binds rather than take it as a dependency. Taken as one, it and `deps` (which
    `tenant` needs) are two dependencies with none of their own, and Litestar
    resolves such a pair in an anyio task group: two tasks and a cancel scope per
    request, a fifth of a create's CPU in the gateway's handling of it."""

    path = "/api/v1/stores"
    tags = ["stores"]
    stores: StoreService

    @post(
        "/",
        status_code=202,
        summary="Launch a store",
        responses={
            200: _same_store("The same store already exists: an identical re-create"),
            **errors(400, 403, 409, 413, 422),
        },
    )
    async def create(
        self,
        request: AnyRequest,
        data: JSONBody[CreateStoreRequest],
        tenant: NamedDependency[TenantView],
    ) -> Response[StoreView]:
        request.state.audit_target = data.id
        audit = in_transaction(request.scope)  # type: ignore[arg-type]
        return _answer(await self.stores.create(tenant, data, audit=audit))

    @get("/", summary="List the tenant's stores", responses=errors(400))
    async def list_stores(
        self,
        tenant: NamedDependency[TenantView],
        limit: Annotated[int, QueryParameter(ge=1, le=1000)] = 500,
        after: Annotated[str, QueryParameter(max_length=40)] = "",
        include_deleted: FromQuery[bool] = False,
    ) -> StoreList:
        return await self.stores.page(tenant, after, limit, include_deleted)

    @get("/{store_id:str}", summary="One store", responses=errors(404))
    async def get_store(
        self,
        store_id: FromPath[str],
        tenant: NamedDependency[TenantView],
    ) -> StoreView:
        return await self.stores.get(tenant, store_id)

    @patch(
        "/{store_id:str}",
        status_code=202,
        summary="Change a store's plan, display name or release",
        description="Compute follows the new plan; volumes keep their size. A newer "
        "`release` upgrades the store's software (its setup step migrates the database); "
        "an older one is refused unless `allow_downgrade` is true. The store goes "
        "`provisioning` at the next generation, then `ready` once applied.",
        responses={
            200: _same_store("Nothing to change: the store as it is"),
            **errors(400, 404, 409, 413, 422),
        },
    )
    async def update_store(
        self,
        request: AnyRequest,
        store_id: FromPath[str],
        data: JSONBody[UpdateStoreRequest],
        tenant: NamedDependency[TenantView],
    ) -> Response[StoreView]:
        request.state.audit_target = store_id
        return _answer(await self.stores.update(tenant, store_id, data))

    @get(
        "/{store_id:str}/rollback",
        summary="What a rollback would return the store to",
        description="The previous generation's spec; 409 (saying why) when there is none.",
        responses=errors(404, 409),
    )
    async def rollback_target(
        self,
        store_id: FromPath[str],
        tenant: NamedDependency[TenantView],
    ) -> PreviousSpecView:
        return await self.stores.previous(tenant, store_id)

    @post(
        "/{store_id:str}/rollback",
        status_code=202,
        summary="Return a store to its previous generation's spec",
        description="The store's previous generation's spec (release, plan and display "
        "name) becomes its next generation, applied the usual way; an older release is "
        "allowed here. 409 when there is no previous generation (the store was never "
        "changed) or the store is being deleted.",
        responses=errors(404, 409),
    )
    async def rollback_store(
        self,
        request: AnyRequest,
        store_id: FromPath[str],
        tenant: NamedDependency[TenantView],
    ) -> StoreView:
        request.state.audit_target = store_id
        return await self.stores.rollback(tenant, store_id)

    @post(
        "/{store_id:str}/sleep",
        status_code=202,
        summary="Put a store to sleep",
        description="The store's workloads stop (no pod runs, no CPU or memory is "
        'reserved) and its volumes stay; its host answers with the platform\'s "asleep" '
        "page. The store goes `provisioning` at the next generation, then `asleep` once "
        "no pod runs. 409 when the store is being deleted.",
        responses={
            200: _same_store("The store is already asleep: as it is"),
            **errors(404, 409),
        },
    )
    async def sleep_store(
        self,
        request: AnyRequest,
        store_id: FromPath[str],
        tenant: NamedDependency[TenantView],
    ) -> Response[StoreView]:
        request.state.audit_target = store_id
        return _answer(await self.stores.set_asleep(tenant, store_id, asleep=True))

    @post(
        "/{store_id:str}/wake",
        status_code=202,
        summary="Wake a sleeping store",
        description="The store's workloads start again on the same volumes: it goes "
        "`provisioning` at the next generation, then `ready`. 409 when the store is being "
        "deleted.",
        responses={
            200: _same_store("The store is awake already: as it is"),
            **errors(404, 409),
        },
    )
    async def wake_store(
        self,
        request: AnyRequest,
        store_id: FromPath[str],
        tenant: NamedDependency[TenantView],
    ) -> Response[StoreView]:
        request.state.audit_target = store_id
        return _answer(await self.stores.set_asleep(tenant, store_id, asleep=False))

    @get(
        "/{store_id:str}/events",
        summary="The store's timeline: steps, statuses, Kubernetes events",
        responses=errors(400, 404),
    )
    async def events(
        self,
        store_id: FromPath[str],
        tenant: NamedDependency[TenantView],
        limit: Annotated[int, QueryParameter(ge=1, le=1000)] = 200,
    ) -> EventList:
        return EventList(items=await self.stores.events(tenant, store_id, limit))

    @delete(
        "/{store_id:str}",
        status_code=202,
        summary="Delete a store and everything in it",
        responses=errors(404),
    )
    async def delete_store(
        self,
        request: AnyRequest,
        store_id: FromPath[str],
        tenant: NamedDependency[TenantView],
    ) -> StoreView:
        request.state.audit_target = store_id
        return await self.stores.delete(tenant, store_id)

    @get(
        "/{store_id:str}/credentials",
        summary="The store's admin credentials (owner only)",
        responses=errors(404, 409, 503),
    )
    async def credentials(
        self,
        request: AnyRequest,
        store_id: FromPath[str],
        tenant: NamedDependency[TenantView],
    ) -> Response[Credentials]:
        request.state.audit_target = store_id
        reply = await self.stores.credentials(tenant, store_id)
        body = Credentials(
            username=reply.username, password=reply.password, admin_url=reply.admin_url
        )
        return Response(body, headers={"Cache-Control": "no-store"})


def store_controller(stores: StoreService) -> type[StoreController]:
    """`StoreController` serving `stores`."""
    return type(StoreController.__name__, (StoreController,), {"stores": stores})
