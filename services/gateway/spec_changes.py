"""A store's new spec at its next generation, written the one way: the store
row, the spec history, the command in the outbox and, for an upgrade, a
rollback, a sleep, a wake or a domain routed or removed, an audit row, in the
caller's transaction."""

import uuid_utils

from services.contracts.backups import BackupStore, RestoreFrom
from services.contracts.commands import CreateStore, DeleteStore
from services.contracts.events import StepState, StoreProgress
from services.contracts.store import StoreSpec
from services.contracts.subjects import command_subject
from services.contracts.wire import encode
from services.gateway import repository as repo
from services.gateway.models import StoreView
from services.gateway.rollback import SpecCause, SpecRecord, shown
from services.gateway.sleep import verb
from services.gateway.sql import Conn

# The status an audit row of a change made here records: its command was queued.
_QUEUED = 202


def record_of(view: StoreView, cause: SpecCause) -> SpecRecord:
    return SpecRecord(
        generation=view.generation,
        plan=view.plan,
        display_name=view.display_name,
        release=view.release,
        cause=cause,
    )


async def created(
    conn: Conn, view: StoreView, actor: str, restore: RestoreFrom | None = None
) -> None:
    """A new store (or a deleted one's id reused) at its first generation; a
    clone of another store's backup `restore`."""
    await repo.add_spec(conn, view.id, record_of(view, SpecCause.CREATE))
    await queue(conn, create_command(view, actor, release_changed=False, restore=restore))
    if restore is not None:
        action = f"clone store from {restore.store} backup {restore.backup}"
        await repo.add_audit(conn, actor, action, view.id, "", _QUEUED, "ok")


async def restored(conn: Conn, after: StoreView, actor: str, restore: RestoreFrom) -> None:
    """The store at `after`'s generation, starting from its backup `restore`. Not
    a spec change: the spec history, which rollbacks read, stays as it is."""
    await repo.save_spec(conn, after)
    await queue(conn, create_command(after, actor, release_changed=False, restore=restore))
    action = f"restore store at generation {after.generation} from backup {restore.backup}"
    await repo.add_audit(conn, actor, action, after.id, "", _QUEUED, "ok")


async def changed(
    conn: Conn, before: StoreView, after: StoreView, actor: str, cause: SpecCause
) -> None:
    """`before` at `after`'s spec and generation: a PATCH or a rollback."""
    await repo.save_spec(conn, after)
    await repo.add_spec(conn, after.id, record_of(after, cause))
    if cause in (SpecCause.ROLLBACK, SpecCause.AUTO_ROLLBACK):
        await timeline(conn, after, StepState.STARTED, after.message)
    moved = before.release != after.release
    await queue(conn, create_command(after, actor, release_changed=moved))
    if cause is SpecCause.UPDATE and not moved:
        return  # a plan or name change: the HTTP call's own audit row is enough
    verb = "upgrade" if cause is SpecCause.UPDATE else str(cause)
    action = (
        f"{verb} store to generation {after.generation}: release "
        f"{shown(before.release)} → {shown(after.release)}"
    )
    await repo.add_audit(conn, actor, action, after.id, "", _QUEUED, "ok")


async def slept(conn: Conn, after: StoreView, actor: str) -> None:
    """The store at `after`'s generation, put to sleep or woken (`after.asleep`)."""
    action = f"{verb(after.asleep)} store at generation {after.generation}"
    await regenerated(conn, after, actor, action)
    if not after.asleep:  # a wake is a visit: auto-sleep counts from it
        await repo.visited(conn, after, after.updated_at)


async def regenerated(conn: Conn, after: StoreView, actor: str, action: str) -> None:
    """The store at `after`'s generation: a sleep, a wake, a domain routed or
    removed. Not a spec change: the spec history, which rollbacks read, stays as
    it is. `action` is the audit row's."""
    await repo.save_spec(conn, after)
    await queue(conn, create_command(after, actor, release_changed=False))
    await repo.add_audit(conn, actor, action, after.id, "", _QUEUED, "ok")


async def timeline(conn: Conn, store: StoreView, state: StepState, message: str) -> None:
    """A `rollback` step in the store's timeline at its generation, shaped as the
    provisioner's steps are (so every reader shows it), from the gateway."""
    entry = StoreProgress(
        tenant=store.tenant,
        store=store.id,
        generation=store.generation,
        command_id="",
        step="rollback",
        state=state,
        at=repo.now(),
        message=message,
    )
    await repo.add_own_event(conn, entry)


async def queue(conn: Conn, command: CreateStore | DeleteStore | BackupStore) -> None:
    """The command into the outbox, in the caller's transaction."""
    subject = command_subject(command.tenant, command.store)
    await repo.add_outbox(conn, command.command_id, subject, encode(command))


def create_command(
    view: StoreView, actor: str, release_changed: bool, restore: RestoreFrom | None = None
) -> CreateStore:
    """Bring the store to `view`'s spec at its generation (a create or a change),
    from the backup `restore` if any."""
    spec = StoreSpec(
        id=view.id,
        tenant=view.tenant,
        engine=view.engine,
        plan=view.plan,
        display_name=view.display_name,
        storage_plan=view.storage_plan,
        release=view.release,
        asleep=view.asleep,
        domains=view.domains,
    )
    return CreateStore(
        command_id=str(uuid_utils.uuid7()),
        generation=view.generation,
        issued_at=view.updated_at,
        actor=actor,
        spec=spec,
        release_changed=release_changed,
        restore=restore,
    )
