"""/api/v1/stores: create, list, get, change, events, credentials, delete."""

from datetime import UTC, datetime
from typing import Annotated, Any

import msgspec
import uuid_utils
from litestar import Controller, Request, Response, delete, get, patch, post
from litestar.datastructures import State
from litestar.di import NamedDependency
from litestar.exceptions import HTTPException, NotFoundException, PermissionDeniedException
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import FromPath, FromQuery, JSONBody, QueryParameter
from nats.errors import NoRespondersError
from nats.errors import TimeoutError as NatsTimeout

from services.contracts.commands import CreateStore, DeleteStore
from services.contracts.credentials import CredentialsReply, CredentialsRequest
from services.contracts.phases import Phase
from services.contracts.store import StoreSpec
from services.contracts.subjects import command_subject, credentials_subject
from services.contracts.wire import encode
from services.gateway import releases
from services.gateway import repository as repo
from services.gateway.models import (
    CreateStoreRequest,
    Credentials,
    EventList,
    StoreList,
    StoreView,
    TenantView,
    UpdateStoreRequest,
)
from services.gateway.openapi_errors import errors
from services.gateway.sql import Conn

AnyRequest = Request[Any, Any, State]


def _conflict(detail: str) -> HTTPException:
    return HTTPException(status_code=409, detail=detail)


def _same_spec(view: StoreView, data: CreateStoreRequest, same_release: bool) -> bool:
    return same_release and (view.engine, view.plan, view.display_name) == (
        data.engine,
        data.plan,
        data.display_name,
    )


def _check_existing(
    existing: StoreView, tenant: TenantView, data: CreateStoreRequest, same_release: bool
) -> None:
    """Raise unless re-creating `existing` is allowed (it returns it as-is)."""
    if existing.tenant != tenant.id:
        raise _conflict(f"store id '{data.id}' is not available; choose another id")
    if existing.phase is Phase.DELETING:
        raise _conflict(f"store '{data.id}' is being deleted; create it again once it is deleted")
    if existing.engine != data.engine:
        raise _conflict(
            f"store '{data.id}' already exists as engine={existing.engine}; "
            "delete it first or choose another id"
        )
    if not _same_spec(existing, data, same_release):
        raise _conflict(
            f"store '{data.id}' already exists with plan={existing.plan}; change its plan, "
            f"name or release with PATCH /api/v1/stores/{data.id}, or choose another id"
        )


def _updated(current: StoreView, data: UpdateStoreRequest, release: str) -> StoreView | None:
    """The store after `data` (and `release`, already checked) at its next
    generation; None when nothing changes."""
    plan = data.plan or current.plan
    name = current.display_name if data.display_name is None else data.display_name
    if (plan, name, release) == (current.plan, current.display_name, current.release):
        return None
    if release != current.release:
        what = f"release {current.release or 'from before releases'} → {release}"
    else:
        what = f"plan {current.plan} → {plan}" if plan != current.plan else "the new name"
    return msgspec.structs.replace(
        current,
        plan=plan,
        display_name=name,
        release=release,
        phase=Phase.PROVISIONING,
        generation=current.generation + 1,
        reason="Updating",
        message=f"applying {what}",
        updated_at=datetime.now(UTC),
    )


def _same_store(description: str) -> ResponseSpec:
    """The 200 of an idempotent call: the store as it already is."""
    return ResponseSpec(data_container=StoreView, description=description, generate_examples=False)


async def _queue(conn: Conn, command: CreateStore | DeleteStore) -> None:
    """The command into the outbox, in the caller's transaction."""
    subject = command_subject(command.tenant, command.store)
    await repo.add_outbox(conn, command.command_id, subject, encode(command))


def _apply_command(view: StoreView, actor: str) -> CreateStore:
    """Bring the store to `view`'s spec at its generation (a create or a change)."""
    spec = StoreSpec(
        id=view.id,
        tenant=view.tenant,
        engine=view.engine,
        plan=view.plan,
        display_name=view.display_name,
        storage_plan=view.storage_plan,
        release=view.release,
    )
    return CreateStore(
        command_id=str(uuid_utils.uuid7()),
        generation=view.generation,
        issued_at=view.updated_at,
        actor=actor,
        spec=spec,
    )


def _new_view(
    data: CreateStoreRequest, tenant: str, generation: int, url: str, release: str
) -> StoreView:
    at = datetime.now(UTC)
    return StoreView(
        id=data.id,
        tenant=tenant,
        engine=data.engine,
        plan=data.plan,
        display_name=data.display_name,
        storage_plan=data.plan,
        phase=Phase.PENDING,
        generation=generation,
        url=url,
        reason="",
        message="",
        conditions=[],
        created_at=at,
        updated_at=at,
        release=release,
    )


class StoreController(Controller):
    path = "/api/v1/stores"
    tags = ["stores"]

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
        state = request.app.state
        release = releases.for_create(state.releases, data.engine, data.release)
        async with state.db.transaction() as conn:
            existing = await repo.get_store(conn, data.id)
            if existing is not None and existing.phase is not Phase.DELETED:
                same = releases.same_for_recreate(state.releases, existing, data.release)
                _check_existing(existing, tenant, data, same)
                return Response(releases.present(state.releases, existing), status_code=200)
            count = await repo.count_live_stores(conn, tenant.id)
            if count >= tenant.max_stores:
                raise PermissionDeniedException(
                    f"store quota reached: {count} of {tenant.max_stores} stores in use; "
                    "delete a store or ask your platform admin to raise the quota"
                )
            generation = existing.generation + 1 if existing else 1
            view = _new_view(data, tenant.id, generation, state.store_url(data.id), release)
            await repo.upsert_store(conn, view, first_generation=generation)
            command = _apply_command(view, f"tenant:{tenant.id}")
            await _queue(conn, command)
        state.outbox.wake.set()
        return Response(releases.present(state.releases, view), status_code=202)

    @get("/", summary="List the tenant's stores", responses=errors(400))
    async def list_stores(
        self,
        request: AnyRequest,
        tenant: NamedDependency[TenantView],
        limit: Annotated[int, QueryParameter(ge=1, le=1000)] = 500,
        after: Annotated[str, QueryParameter(max_length=40)] = "",
        include_deleted: FromQuery[bool] = False,
    ) -> StoreList:
        items = await repo.list_stores(
            request.app.state.db.reader, tenant.id, after, limit + 1, include_deleted
        )
        more = len(items) > limit
        shown = [releases.present(request.app.state.releases, s) for s in items[:limit]]
        return StoreList(items=shown, next_after=items[limit - 1].id if more else None)

    @get("/{store_id:str}", summary="One store", responses=errors(404))
    async def get_store(
        self, request: AnyRequest, store_id: FromPath[str], tenant: NamedDependency[TenantView]
    ) -> StoreView:
        store = await _owned(request.app.state.db.reader, store_id, tenant)
        return releases.present(request.app.state.releases, store)

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
        state = request.app.state
        async with state.db.transaction() as conn:
            current = await _owned(conn, store_id, tenant)
            if current.phase in (Phase.DELETING, Phase.DELETED):
                raise _conflict(f"store '{store_id}' is {current.phase}; it can no longer change")
            release = releases.for_update(
                state.releases, current, data.release, data.allow_downgrade
            )
            changed = _updated(current, data, release)
            if changed is None:
                return Response(releases.present(state.releases, current), status_code=200)
            await repo.save_spec(conn, changed)
            command = _apply_command(changed, f"tenant:{tenant.id}")
            await _queue(conn, command)
        state.outbox.wake.set()
        return Response(releases.present(state.releases, changed), status_code=202)

    @get(
        "/{store_id:str}/events",
        summary="The store's timeline: steps, statuses, Kubernetes events",
        responses=errors(400, 404),
    )
    async def events(
        self,
        request: AnyRequest,
        store_id: FromPath[str],
        tenant: NamedDependency[TenantView],
        limit: Annotated[int, QueryParameter(ge=1, le=1000)] = 200,
    ) -> EventList:
        await _owned(request.app.state.db.reader, store_id, tenant)
        reader = request.app.state.db.reader
        since = await repo.first_generation(reader, store_id)
        return EventList(items=await repo.list_events(reader, store_id, since, limit))

    @delete(
        "/{store_id:str}",
        status_code=202,
        summary="Delete a store and everything in it",
        responses=errors(404),
    )
    async def delete_store(
        self, request: AnyRequest, store_id: FromPath[str], tenant: NamedDependency[TenantView]
    ) -> StoreView:
        request.state.audit_target = store_id
        state = request.app.state
        async with state.db.transaction() as conn:
            current = await _owned(conn, store_id, tenant)
            if current.phase in (Phase.DELETING, Phase.DELETED):
                return releases.present(state.releases, current)
            generation = current.generation + 1
            await repo.set_phase(conn, store_id, Phase.DELETING, generation)
            command = DeleteStore(
                command_id=str(uuid_utils.uuid7()),
                generation=generation,
                issued_at=datetime.now(UTC),
                actor=f"tenant:{tenant.id}",
                tenant=tenant.id,
                store=store_id,
            )
            await _queue(conn, command)
            updated = await repo.get_store(conn, store_id)
        state.outbox.wake.set()
        assert updated is not None
        return releases.present(state.releases, updated)

    @get(
        "/{store_id:str}/credentials",
        summary="The store's admin credentials (owner only)",
        responses=errors(404, 409, 503),
    )
    async def credentials(
        self, request: AnyRequest, store_id: FromPath[str], tenant: NamedDependency[TenantView]
    ) -> Response[Credentials]:
        request.state.audit_target = store_id
        store = await _owned(request.app.state.db.reader, store_id, tenant)
        if store.phase not in (Phase.READY, Phase.DEGRADED):
            raise _conflict(
                f"credentials are available once the store is ready (now {store.phase})"
            )
        reply = await _ask_credentials(request, tenant.id, store_id)
        body = Credentials(
            username=reply.username, password=reply.password, admin_url=reply.admin_url
        )
        return Response(body, headers={"Cache-Control": "no-store"})


def _not_found(store_id: str) -> NotFoundException:
    return NotFoundException(f"no store '{store_id}'")


async def _owned(conn: Conn, store_id: str, tenant: TenantView) -> StoreView:
    """The tenant's store; another tenant's store is indistinguishable from none."""
    store = await repo.get_store(conn, store_id)
    if store is None or store.tenant != tenant.id:
        raise _not_found(store_id)
    return store


async def _ask_credentials(request: AnyRequest, tenant: str, store_id: str) -> CredentialsReply:
    state = request.app.state
    unavailable = HTTPException(
        status_code=503, detail="the provisioner did not answer; retry in a few seconds"
    )
    if state.nc is None:
        raise unavailable
    try:
        msg = await state.nc.request(
            credentials_subject(tenant, store_id),
            encode(CredentialsRequest(tenant=tenant, store=store_id)),
            timeout=state.settings.credentials_timeout_s,
        )
    except (NatsTimeout, NoRespondersError, TimeoutError):
        raise unavailable from None
    reply = msgspec.json.decode(msg.data, type=CredentialsReply)
    if reply.error:
        raise HTTPException(status_code=503, detail=f"credentials unavailable: {reply.error}")
    return reply
