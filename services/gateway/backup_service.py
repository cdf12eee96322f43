"""Store backups: start one, list them, restore one into its store, clone one
into a new store. Each change is written with its command into the outbox in
one transaction (as every store change), then wakes the relay."""

from datetime import UTC, datetime

import uuid_utils

from services.contracts.backups import (
    BackupState,
    BackupStatus,
    BackupStore,
    BackupTrigger,
    manual_backup_id,
)
from services.gateway import backup_repository as backup_repo
from services.gateway import backups, releases, spec_changes
from services.gateway import repository as repo
from services.gateway.deps import GatewayDeps
from services.gateway.domain_errors import ConflictError
from services.gateway.models import (
    BackupList,
    BackupView,
    CloneStoreRequest,
    CreateStoreRequest,
    StoreView,
    TenantView,
)
from services.gateway.sql import Conn
from services.gateway.store_service import Outcome, StoreService, actor, owned


def _host(store: StoreView) -> str:
    return store.url.split("://", 1)[-1].split("/", 1)[0].split(":", 1)[0]


class BackupService:
    def __init__(self, deps: GatewayDeps, stores: StoreService) -> None:
        self._deps = deps
        self._stores = stores

    async def start(self, tenant: TenantView, store_id: str) -> BackupView:
        """A backup of the store now (`pending` until its Job runs)."""
        at = datetime.now(UTC)
        async with self._deps.db.transaction() as conn:
            store = await owned(conn, store_id, tenant)
            backups.check_can_back_up(store, self._deps.settings.backup_bucket)
            backup_id = manual_backup_id(at)
            if await backup_repo.get_backup(conn, store_id, backup_id) is not None:
                raise ConflictError(
                    f"a backup of '{store_id}' was started this second; try again in a moment"
                )
            row = backups.BackupRow(
                store=store_id,
                id=backup_id,
                tenant=tenant.id,
                trigger=BackupTrigger.MANUAL,
                state=BackupState.PENDING,
                created_at=at,
                observed_at=at,
                host=_host(store),
            )
            await backup_repo.save_backup(conn, row)
            command = BackupStore(
                command_id=str(uuid_utils.uuid7()),
                generation=store.generation,
                issued_at=at,
                actor=actor(tenant),
                tenant=tenant.id,
                store=store_id,
                backup=backup_id,
            )
            await spec_changes.queue(conn, command)
            await repo.add_audit(
                conn, actor(tenant), f"back up store: {backup_id}", store_id, "", 202, "ok"
            )
        self._deps.outbox.wake.set()
        return backups.view(row, store.plan, at)

    async def page(self, tenant: TenantView, store_id: str, limit: int) -> BackupList:
        """The store's backups, newest first."""
        reader = self._deps.db.reader
        store = await owned(reader, store_id, tenant)
        rows = await backup_repo.list_backups(reader, store_id, limit)
        at = datetime.now(UTC)
        return BackupList(items=[backups.view(r, store.plan, at) for r in rows])

    async def restore(self, tenant: TenantView, store_id: str, backup_id: str) -> StoreView:
        """The store at its next generation, its data as in the backup."""
        at = datetime.now(UTC)
        async with self._deps.db.transaction() as conn:
            current = await owned(conn, store_id, tenant)
            row = await backup_repo.get_backup(conn, store_id, backup_id)
            source = backups.restorable(row, backup_id, store_id, current.plan, at)
            after = backups.restoring(current, source, at)
            await spec_changes.restored(conn, after, actor(tenant), source)
        self._deps.outbox.wake.set()
        return releases.present(self._deps.releases, after)

    async def clone(self, tenant: TenantView, store_id: str, data: CloneStoreRequest) -> Outcome:
        """A new store `data.id` of the same engine and release, starting from a
        backup of `store_id` (its addresses rewritten for the new host)."""
        reader = self._deps.db.reader
        source_store = await owned(reader, store_id, tenant)
        row = await backup_repo.get_backup(reader, store_id, data.backup)
        source = backups.restorable(
            row, data.backup, store_id, source_store.plan, datetime.now(UTC)
        )
        create = CreateStoreRequest(
            id=data.id,
            engine=source_store.engine,
            plan=data.plan or source_store.plan,
            display_name=source_store.display_name
            if data.display_name is None
            else data.display_name,
            release=source_store.release,
        )
        return await self._stores.create(tenant, create, restore=source)


async def record_report(conn: Conn, report: BackupStatus) -> None:
    """Fold the watcher's (or provisioner's) report into the backup's row."""
    store = await repo.get_store(conn, report.store)
    if store is None or store.tenant != report.tenant:
        return
    current = await backup_repo.get_backup(conn, report.store, report.backup)
    after = backups.folded(current, report, _host(store))
    if after is not None:
        await backup_repo.save_backup(conn, after)
