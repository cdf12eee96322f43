"""Backups of a store: what the gateway asks for, what the watcher reports, and
where a restore or a clone reads from.

A backup is a Job in the store's namespace named `backup-…` (its id): the
database's dump and the store's files, written to the platform's object storage
under `<prefix>/<store>/<backup id>/` (`database.sql.gz`, `files.tar.gz`).
On-demand backups are named `backup-<UTC time>` by the gateway; scheduled ones
by their CronJob (`backup-daily-<minutes since the epoch>`).
"""

import re
from datetime import datetime
from enum import StrEnum
from typing import Annotated, Final

import msgspec

from services.contracts.ids import StoreIdStr, TenantIdStr
from services.contracts.store import Plan

BACKUP_ID_PATTERN: Final = r"^backup-[a-z0-9]([a-z0-9-]{0,50}[a-z0-9])?$"
_BACKUP_ID_RE: Final = re.compile(BACKUP_ID_PATTERN)
BackupId = Annotated[
    str,
    msgspec.Meta(
        pattern=BACKUP_ID_PATTERN,
        description="A backup of the store (its Job's name).",
        examples=["backup-20261210-153012"],
    ),
]
# The CronJob of a store's scheduled backups; its Jobs are `<name>-<minutes>`.
SCHEDULED_PREFIX: Final = "backup-daily"
# How long a plan keeps its backups (scheduled daily, so "keep 7" on small): the
# provisioner's backup Jobs delete older files, the gateway lists them expired.
RETENTION_DAYS: Final[dict[Plan, int]] = {Plan.SMALL: 7, Plan.MEDIUM: 14, Plan.LARGE: 30}


def is_backup_id(value: str) -> bool:
    return bool(_BACKUP_ID_RE.match(value))


def manual_backup_id(at: datetime) -> str:
    """An on-demand backup's id: its UTC time to the second."""
    return f"backup-{at.strftime('%Y%m%d-%H%M%S')}"


class BackupState(StrEnum):
    PENDING = "pending"  # asked for; its Job is not running yet
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    EXPIRED = "expired"  # past the plan's retention (the next backup removes its files)


class BackupTrigger(StrEnum):
    MANUAL = "manual"
    SCHEDULED = "scheduled"


def trigger_of(backup: str) -> BackupTrigger:
    return (
        BackupTrigger.SCHEDULED
        if backup.startswith(f"{SCHEDULED_PREFIX}-")
        else BackupTrigger.MANUAL
    )


class BackupStore(msgspec.Struct, frozen=True, tag="backup-store", tag_field="type"):
    """Back the store up now: a Job `backup` (made from the store's backup
    CronJob's template) in its namespace. `generation` is the store's current one
    (a backup does not change the store)."""

    command_id: str
    generation: int
    issued_at: datetime
    actor: str
    tenant: TenantIdStr
    store: StoreIdStr
    backup: BackupId


class RestoreFrom(msgspec.Struct, frozen=True):
    """The backup a generation starts from: the store's own (a restore) or
    another store's of the same tenant (a clone). `host` is the host the backup
    was taken at, which the engine's stored addresses are rewritten from."""

    store: StoreIdStr
    backup: BackupId
    host: str


class BackupStatus(msgspec.Struct, frozen=True, tag="backup-status", tag_field="type"):
    """What a backup's Job shows; written by the watcher only. `size_bytes` is
    what the backup wrote to object storage (0 until it succeeded)."""

    tenant: str
    store: str
    backup: str
    state: BackupState
    observed_at: datetime
    trigger: BackupTrigger = BackupTrigger.MANUAL
    started_at: datetime | None = None
    completed_at: datetime | None = None
    size_bytes: int = 0
    message: str = ""
