"""Commands: what the gateway asks the provisioner to do (stream URUMI_COMMANDS)."""

from datetime import datetime
from typing import Final

import msgspec

from services.contracts.backups import BackupStore, RestoreFrom
from services.contracts.ids import StoreIdStr, TenantIdStr
from services.contracts.store import StoreSpec


class CreateStore(msgspec.Struct, frozen=True, tag="create-store", tag_field="type"):
    """Bring the store to `spec` at `generation`: a create, a re-apply, or a change
    of plan or name (the next generation with the new spec)."""

    command_id: str
    generation: int
    issued_at: datetime
    actor: str
    spec: StoreSpec
    # This generation runs another release than the one before (an upgrade or a
    # rollback): the setup step dumps the database before the release touches it.
    release_changed: bool = False
    # This generation starts from a backup (a restore, or a clone's first
    # generation): the setup step loads it before anything else runs.
    restore: RestoreFrom | None = None

    @property
    def tenant(self) -> str:
        return self.spec.tenant

    @property
    def store(self) -> str:
        return self.spec.id


class DeleteStore(msgspec.Struct, frozen=True, tag="delete-store", tag_field="type"):
    """Remove every object of the store."""

    command_id: str
    generation: int
    issued_at: datetime
    actor: str
    tenant: TenantIdStr
    store: StoreIdStr


RESYNC: Final = "periodic resync"  # a ReconcileStore's reason when no drift was seen


class ReconcileStore(msgspec.Struct, frozen=True, tag="reconcile-store", tag_field="type"):
    """Re-apply the spec the store was last brought to at `generation`, restoring
    what changed outside Urumi (asked by the watcher on its own subject,
    `reconcile_subject`). Never creates a store that is gone or being deleted."""

    command_id: str
    generation: int
    issued_at: datetime
    actor: str
    tenant: TenantIdStr
    store: StoreIdStr
    reason: str = ""  # what the asker saw, e.g. "Deployment/wordpress deleted"


Command = CreateStore | DeleteStore | ReconcileStore | BackupStore
