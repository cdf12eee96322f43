"""/api/v1/stores/{id}/backups, …/restore and …/clone: a store's backups."""

from typing import Annotated

from litestar import Controller, Response, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody, QueryParameter

from services.gateway.backup_service import BackupService
from services.gateway.deps import AnyRequest
from services.gateway.models import (
    BackupList,
    BackupView,
    CloneStoreRequest,
    RestoreRequest,
    StoreView,
    TenantView,
)
from services.gateway.openapi_errors import errors


class BackupController(Controller):
    path = "/api/v1/stores/{store_id:str}"
    tags = ["backups"]

    @post(
        "/backups",
        status_code=202,
        summary="Back a store up now",
        description="The database's consistent dump and the store's files, written by a Job "
        "in the store's namespace to the platform's object storage. 202 + the backup "
        "(`pending`, then `running`, `succeeded` or `failed`, live as `backup-status` events). "
        "409 when backups are not configured, or the store is asleep or not ready.",
        responses=errors(404, 409),
    )
    async def start(
        self,
        request: AnyRequest,
        store_id: FromPath[str],
        tenant: NamedDependency[TenantView],
        backup_service: NamedDependency[BackupService],
    ) -> BackupView:
        request.state.audit_target = store_id
        return await backup_service.start(tenant, store_id)

    @get(
        "/backups",
        summary="The store's backups, newest first",
        description="Scheduled (daily) and on-demand ones, with time, size and state; a "
        "succeeded backup is `expired` past its plan's retention (`expires_at`).",
        responses=errors(400, 404),
    )
    async def list_backups(
        self,
        store_id: FromPath[str],
        tenant: NamedDependency[TenantView],
        backup_service: NamedDependency[BackupService],
        limit: Annotated[int, QueryParameter(ge=1, le=1000)] = 100,
    ) -> BackupList:
        return await backup_service.page(tenant, store_id, limit)

    @post(
        "/restore",
        status_code=202,
        summary="Restore a store from one of its backups",
        description="The store's next generation starts from the backup: its setup step "
        "loads the dump and the files, then migrates as usual; the store is `provisioning`, "
        "then `ready`. 409 when the backup did not succeed or has expired, or the store is "
        "asleep or being deleted.",
        responses=errors(400, 404, 409, 422),
    )
    async def restore(
        self,
        request: AnyRequest,
        store_id: FromPath[str],
        data: JSONBody[RestoreRequest],
        tenant: NamedDependency[TenantView],
        backup_service: NamedDependency[BackupService],
    ) -> StoreView:
        request.state.audit_target = store_id
        return await backup_service.restore(tenant, store_id, data.backup)

    @post(
        "/clone",
        status_code=202,
        summary="Clone a store from one of its backups into a new store",
        description="A new store `id` (same engine and release; plan and name the source's "
        "unless given) whose first generation starts from the backup, its addresses "
        "rewritten for its own host: a staging copy of a live shop. Counts against the "
        "quota like a create (403); a taken id is 409.",
        responses=errors(400, 403, 404, 409, 422),
    )
    async def clone(
        self,
        request: AnyRequest,
        store_id: FromPath[str],
        data: JSONBody[CloneStoreRequest],
        tenant: NamedDependency[TenantView],
        backup_service: NamedDependency[BackupService],
    ) -> Response[StoreView]:
        request.state.audit_target = data.id
        outcome = await backup_service.clone(tenant, store_id, data)
        return Response(outcome.store, status_code=202)
