"""Backup rules. Pure: rows and reports in, rows, views and refusals out.

A backup's row is folded from the watcher's reports (BackupStatus) the way a
store's is from its statuses: a report older than the row's is ignored, and a
finished backup never runs again. Retention is the plan's (RETENTION_DAYS): a
succeeded backup is shown `expired` past it (its files are removed by the
store's next backup Job).
"""

from datetime import datetime, timedelta
from typing import Final

import msgspec

from services.contracts.backups import (
    RETENTION_DAYS,
    BackupState,
    BackupStatus,
    BackupTrigger,
    RestoreFrom,
)
from services.contracts.phases import Phase
from services.contracts.store import Plan
from services.gateway.domain_errors import ConflictError, NotFoundError
from services.gateway.models import BackupView, StoreView

_DONE: Final = frozenset({BackupState.SUCCEEDED, BackupState.FAILED})
_SERVING: Final = (Phase.READY, Phase.DEGRADED)


class BackupRow(msgspec.Struct, frozen=True):
    store: str
    id: str
    tenant: str
    trigger: BackupTrigger
    state: BackupState
    created_at: datetime
    observed_at: datetime
    host: str = ""  # the store's host when the backup was taken
    size_bytes: int = 0
    message: str = ""
    started_at: datetime | None = None
    completed_at: datetime | None = None


def folded(row: BackupRow | None, report: BackupStatus, host: str) -> BackupRow | None:
    """The row after `report`; None when it changes nothing (an older report, or
    a finished backup reported running again). `host`: the store's now, for a
    backup first seen in this report."""
    if row is None:
        return BackupRow(
            store=report.store,
            id=report.backup,
            tenant=report.tenant,
            trigger=report.trigger,
            state=report.state,
            created_at=report.started_at or report.observed_at,
            observed_at=report.observed_at,
            host=host,
            size_bytes=report.size_bytes,
            message=report.message,
            started_at=report.started_at,
            completed_at=report.completed_at,
        )
    if report.observed_at < row.observed_at or (row.state in _DONE and report.state not in _DONE):
        return None
    after = msgspec.structs.replace(
        row,
        state=report.state,
        observed_at=report.observed_at,
        size_bytes=report.size_bytes or row.size_bytes,
        message=report.message,
        started_at=report.started_at or row.started_at,
        completed_at=report.completed_at or row.completed_at,
    )
    return None if msgspec.structs.replace(after, observed_at=row.observed_at) == row else after


def view(row: BackupRow, plan: Plan, now: datetime) -> BackupView:
    """As a person sees it: a succeeded backup past its plan's retention is expired."""
    expires = None
    state = row.state
    if row.state is BackupState.SUCCEEDED and row.completed_at is not None:
        expires = row.completed_at + timedelta(days=RETENTION_DAYS[plan])
        if now >= expires:
            state = BackupState.EXPIRED
    return BackupView(
        id=row.id,
        store=row.store,
        trigger=row.trigger,
        state=state,
        created_at=row.created_at,
        started_at=row.started_at,
        completed_at=row.completed_at,
        size_bytes=row.size_bytes,
        message=row.message,
        expires_at=expires,
    )


def check_can_back_up(store: StoreView, bucket: str) -> None:
    """Raise unless `store` can be backed up now."""
    if not bucket:
        raise ConflictError(
            "backups are not configured on this platform: the operator sets the object "
            "storage (stores.backups in the platform chart, URUMI_BACKUP_BUCKET)"
        )
    if store.asleep:
        raise ConflictError(
            f"store '{store.id}' is asleep: nothing changes while it sleeps; wake it to back it up"
        )
    if store.phase not in _SERVING:
        raise ConflictError(
            f"store '{store.id}' is {store.phase}; a backup needs it ready (try again once it is)"
        )


def restorable(
    row: BackupRow | None, backup: str, store: str, plan: Plan, now: datetime
) -> RestoreFrom:
    """Where a restore or clone reads `backup` of `store` from; refused unless it
    succeeded and has not expired."""
    if row is None:
        raise NotFoundError(f"store '{store}' has no backup '{backup}' (`backup`)")
    shown = view(row, plan, now)
    if shown.state is not BackupState.SUCCEEDED:
        raise ConflictError(
            f"backup '{backup}' is {shown.state}; restore from a succeeded backup "
            f"(GET /api/v1/stores/{store}/backups lists them)"
        )
    return RestoreFrom(store=row.store, backup=row.id, host=row.host)


def restoring(current: StoreView, source: RestoreFrom, now: datetime) -> StoreView:
    """`current` at its next generation, starting from the backup `source`."""
    if current.phase in (Phase.DELETING, Phase.DELETED):
        raise ConflictError(f"store '{current.id}' is {current.phase}; it can no longer change")
    if current.asleep:
        raise ConflictError(f"store '{current.id}' is asleep; wake it, then restore")
    return msgspec.structs.replace(
        current,
        phase=Phase.PROVISIONING,
        generation=current.generation + 1,
        reason="Restoring",
        message=f"restoring backup {source.backup}",
        updated_at=now,
    )
