"""Backups as chart values and the Secret of the object storage's keys. Pure.

Every engine's chart takes the same `backup` values: where the platform's
object storage is (`storage`, from the provisioner's settings; no bucket: no
backups), when scheduled backups run and how long they are kept (from the
store's plan), and the backup a generation starts from (`restore`).
"""

import zlib
from typing import Final, NamedTuple

from services.contracts import labels
from services.contracts.backups import RETENTION_DAYS, RestoreFrom
from services.contracts.ids import namespace_for
from services.contracts.store import StoreSpec
from services.provisioner.ordering import Manifest
from services.provisioner.settings import ProvisionerSettings
from services.provisioner.values import Values

# The Secret in every store's namespace holding the object storage's keys.
STORAGE_SECRET: Final = "backup-storage"  # noqa: S105 - a name, not a value


# Scheduled backups run daily at this hour UTC (the minute spread by store).
BACKUP_HOUR: Final = 3


class BackupStorage(NamedTuple):
    endpoint: str
    bucket: str
    prefix: str
    region: str

    @classmethod
    def from_settings(cls, settings: ProvisionerSettings) -> "BackupStorage":
        return cls(
            settings.backup_endpoint,
            settings.backup_bucket,
            settings.backup_prefix.strip("/"),
            settings.backup_region,
        )


def schedule(store: str) -> str:
    """A daily cron schedule at BACKUP_HOUR, at a minute of the store's own
    (from its id), so the platform's stores do not all dump at once."""
    minute = zlib.crc32(store.encode()) % 60
    return f"{minute} {BACKUP_HOUR} * * *"


def backup_values(
    values: Values, storage: BackupStorage, spec: StoreSpec, restore: RestoreFrom | None
) -> Values:
    """The store's values with its `backup` settings; as they are when the
    platform has no object storage."""
    if not storage.bucket:
        return values
    backup: Values = {
        **values.get("backup", {}),
        "storage": {
            "endpoint": storage.endpoint,
            "bucket": storage.bucket,
            "prefix": storage.prefix,
            "region": storage.region,
            "secretName": STORAGE_SECRET,
        },
        "schedule": schedule(spec.id),
        "retentionDays": RETENTION_DAYS[spec.plan],
    }
    if restore is not None:
        backup["restore"] = {"store": restore.store, "backup": restore.backup, "host": restore.host}
    return {**values, "backup": backup}


def storage_secret(spec: StoreSpec, settings: ProvisionerSettings) -> Manifest:
    """The object storage's keys in the store's namespace, applied with each
    generation (so rotated keys reach every store)."""
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "type": "Opaque",
        "metadata": {
            "name": STORAGE_SECRET,
            "namespace": namespace_for(spec.id),
            "labels": {
                labels.MANAGED_BY: labels.MANAGED_BY_VALUE,
                labels.STORE: spec.id,
                labels.TENANT: spec.tenant,
                labels.COMPONENT: "backup",
            },
        },
        "stringData": {
            "access-key-id": settings.backup_access_key_id,
            "secret-access-key": settings.backup_secret_access_key,
        },
    }


def job_from_schedule(cronjob: Manifest, name: str) -> Manifest:
    """A Job `name` from the store's backup CronJob's template, as `kubectl create
    job --from=cronjob/…` makes one: the same pod, so an on-demand backup is
    exactly a scheduled one."""
    template = cronjob["spec"]["jobTemplate"]
    meta = cronjob["metadata"]
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {
            "name": name,
            "namespace": meta["namespace"],
            "labels": dict(template.get("metadata", {}).get("labels") or meta.get("labels") or {}),
        },
        "spec": template["spec"],
    }
