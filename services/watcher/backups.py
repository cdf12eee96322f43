"""A store's backup Jobs → BackupStatus reports. Pure: no I/O.

A backup Job (component `backup`, made by the store's CronJob or by the
provisioner on demand) is its backup: its name is the backup's id. Its upload
container ends by writing `{"size_bytes": N}` as its termination message, the
size of what it wrote to object storage.
"""

from collections.abc import Iterable
from datetime import datetime
from typing import Final

import msgspec

from services.contracts.backups import BackupState, BackupStatus, is_backup_id, trigger_of
from services.watcher.observed import JobObs, PodObs, StoreObjects

BACKUP: Final = "backup"


class _Result(msgspec.Struct):
    size_bytes: int = 0


_result: Final = msgspec.json.Decoder(_Result)


def backup_reports(objs: StoreObjects, now: datetime) -> list[BackupStatus]:
    """What every backup Job of the store shows now, by id."""
    ns = objs.namespace
    return [
        BackupStatus(
            tenant=ns.tenant,
            store=ns.store,
            backup=job.name,
            state=_state(job),
            observed_at=now,
            trigger=trigger_of(job.name),
            started_at=job.started,
            completed_at=job.completed if job.complete or job.failed else None,
            size_bytes=_size(p for p in objs.pods if p.job == job.name) if job.complete else 0,
            message=_message(job),
        )
        for job in sorted(objs.jobs, key=lambda j: j.name)
        if job.component == BACKUP and is_backup_id(job.name)
    ]


def same_report(a: BackupStatus | None, b: BackupStatus) -> bool:
    """Equal apart from `observed_at`: the publisher's change test."""
    return a is not None and msgspec.structs.replace(a, observed_at=b.observed_at) == b


def _state(job: JobObs) -> BackupState:
    if job.complete:
        return BackupState.SUCCEEDED
    if job.failed:
        return BackupState.FAILED
    return BackupState.RUNNING if job.active or job.started else BackupState.PENDING


def _message(job: JobObs) -> str:
    if job.failed:
        return f"backup job failed ({job.reason or 'Failed'}): {job.message or 'see its pod log'}"
    if job.failed_pods:
        return f"{job.failed_pods} failed attempts; retrying"
    return ""


def _size(pods: Iterable[PodObs]) -> int:
    for pod in pods:
        for result in pod.results:
            try:
                return _result.decode(result).size_bytes
            except msgspec.DecodeError:
                continue
    return 0
