"""The store rules: quota, idempotent create, lifecycle transitions (sleep and
wake among them), ownership.

Controllers translate HTTP to these calls; refusals are domain errors
(`domain_errors`), which one exception handler answers. Every change writes the
store row and its command into the outbox in one transaction, then wakes the relay.
"""

from datetime import UTC, datetime
from typing import NamedTuple

import msgspec
import uuid_utils

from services.contracts.backups import RestoreFrom
from services.contracts.commands import DeleteStore
from services.contracts.credentials import CredentialsReply
from services.contracts.phases import Phase
from services.gateway import releases, rollback, sleep, spec_changes
from services.gateway import repository as repo
from services.gateway.audit import InTransaction
from services.gateway.credentials import ask_credentials
from services.gateway.deps import GatewayDeps
from services.gateway.domain_errors import ConflictError, NotFoundError, QuotaReachedError
from services.gateway.models import (
    CreateStoreRequest,
    EventView,
    PreviousSpecView,
    StoreList,
    StoreView,
    TenantView,
    UpdateStoreRequest,
)
from services.gateway.sql import Conn

_ENDED = (Phase.DELETING, Phase.DELETED)
_SERVING = (Phase.READY, Phase.DEGRADED)


class Outcome(NamedTuple):
    store: StoreView
    changed: bool  # False: nothing to do, `store` is as it already was


class StoreService:
    def __init__(self, deps: GatewayDeps) -> None:
        self._deps = deps

    async def create(
        self,
        tenant: TenantView,
        data: CreateStoreRequest,
        restore: RestoreFrom | None = None,
        audit: InTransaction | None = None,
    ) -> Outcome:
        """A new store (or a deleted one's id reused); an identical re-create of a
        live store is no change. `restore`: a clone, starting from that backup.
        `audit`: the HTTP call's row, written in the same transaction."""
        catalog = self._deps.releases
        release = releases.for_create(catalog, data.engine, data.release)
        async with self._deps.db.transaction() as conn:
            existing = await repo.get_store(conn, data.id)
            if existing is not None and existing.phase is not Phase.DELETED:
                if restore is not None:
                    raise ConflictError(f"store id '{data.id}' is taken; choose another id")
                same = releases.same_for_recreate(catalog, existing, data.release)
                _check_recreate(existing, tenant, data, same)
                if audit is not None:
                    await audit.write(conn, 200)
                return Outcome(releases.present(catalog, existing), changed=False)
            count = await repo.count_live_stores(conn, tenant.id)
            if count >= tenant.max_stores:
                raise QuotaReachedError(
                    f"store quota reached: {count} of {tenant.max_stores} stores in use; "
                    "delete a store or ask your platform admin to raise the quota"
                )
            generation = existing.generation + 1 if existing else 1
            url = self._deps.store_url(data.id)
            view = _new_view(data, tenant.id, generation, url, release)
            await repo.upsert_store(conn, view, first_generation=generation)
            await spec_changes.created(conn, view, actor(tenant), restore)
            if audit is not None:
                await audit.write(conn, 202)  # last: nothing but the commit follows
        self._deps.outbox.wake.set()
        return Outcome(releases.present(catalog, view), changed=True)

    async def page(
        self, tenant: TenantView, after: str, limit: int, include_deleted: bool
    ) -> StoreList:
        """Up to `limit` of the tenant's stores by id after `after`."""
        items = await repo.list_stores(
            self._deps.db.reader, tenant.id, after, limit + 1, include_deleted
        )
        more = len(items) > limit
        shown = [releases.present(self._deps.releases, s) for s in items[:limit]]
        return StoreList(items=shown, next_after=items[limit - 1].id if more else None)

    async def live_count(self, tenant: TenantView) -> int:
        return await repo.count_live_stores(self._deps.db.reader, tenant.id)

    async def get(self, tenant: TenantView, store_id: str) -> StoreView:
        store = await owned(self._deps.db.reader, store_id, tenant)
        return releases.present(self._deps.releases, store)

    async def update(self, tenant: TenantView, store_id: str, data: UpdateStoreRequest) -> Outcome:
        """The store at its next generation with the new plan, name or release."""
        catalog = self._deps.releases
        async with self._deps.db.transaction() as conn:
            current = await owned(conn, store_id, tenant)
            if current.phase in _ENDED:
                raise ConflictError(
                    f"store '{store_id}' is {current.phase}; it can no longer change"
                )
            release = releases.for_update(catalog, current, data.release, data.allow_downgrade)
            changed = updated(current, data, release)
            if changed is None:
                return Outcome(releases.present(catalog, current), changed=False)
            cause = rollback.SpecCause.UPDATE
            await spec_changes.changed(conn, current, changed, actor(tenant), cause)
        self._deps.outbox.wake.set()
        return Outcome(releases.present(catalog, changed), changed=True)

    async def previous(self, tenant: TenantView, store_id: str) -> PreviousSpecView:
        """What `rollback` would return the store to (its refusals when none)."""
        reader = self._deps.db.reader
        current = await owned(reader, store_id, tenant)
        to = rollback.target(current, await repo.spec_history(reader, store_id))
        release = to.release or self._deps.releases.of(current.engine).legacy.name
        return PreviousSpecView(
            generation=to.generation, release=release, plan=to.plan, display_name=to.display_name
        )

    async def rollback(self, tenant: TenantView, store_id: str) -> StoreView:
        """The store at its next generation with its previous generation's spec
        (an older release included: this is the explicit way back)."""
        catalog = self._deps.releases
        async with self._deps.db.transaction() as conn:
            current = await owned(conn, store_id, tenant)
            to = rollback.target(current, await repo.spec_history(conn, store_id))
            releases.still_shipped(catalog, current.engine, to.release)
            back = rollback.rolled_back(current, to, rollback.describe(current, to))
            cause = rollback.SpecCause.ROLLBACK
            await spec_changes.changed(conn, current, back, actor(tenant), cause)
        self._deps.outbox.wake.set()
        return releases.present(catalog, back)

    async def set_asleep(self, tenant: TenantView, store_id: str, asleep: bool) -> Outcome:
        """The store put to sleep (`asleep`) or woken at its next generation; as it
        is when it already was."""
        catalog = self._deps.releases
        async with self._deps.db.transaction() as conn:
            current = await owned(conn, store_id, tenant)
            after = sleep.toggled(current, asleep)
            if after is None:
                return Outcome(releases.present(catalog, current), changed=False)
            await spec_changes.slept(conn, after, actor(tenant))
        self._deps.outbox.wake.set()
        return Outcome(releases.present(catalog, after), changed=True)

    async def visited(self, store_id: str) -> StoreView | None:
        """The store a shopper's request for its host reached the platform for,
        woken first when it sleeps and its plan wakes on a visit: one wake
        however many visit at once. None: no such store."""
        plans = self._deps.settings.wakes_on_visit()
        seen = await repo.get_store(self._deps.db.reader, store_id)
        if sleep.woken_by_visit(seen, plans) is None:
            if seen is not None and sleep.visit_worth_recording(seen, repo.now()):
                async with self._deps.db.transaction() as conn:
                    await repo.visited(conn, seen, repo.now())
            return seen  # no lock for a page that changes nothing, or once a minute
        async with self._deps.db.transaction() as conn:
            current = await repo.get_store(conn, store_id)
            after = sleep.woken_by_visit(current, plans)
            if after is None:
                return current  # an earlier visit woke it, or its owner deleted it
            await spec_changes.slept(conn, after, sleep.VISIT_ACTOR)
        self._deps.outbox.wake.set()
        return after

    async def delete(self, tenant: TenantView, store_id: str) -> StoreView:
        """The store, deleting (already deleting or deleted: as it is)."""
        async with self._deps.db.transaction() as conn:
            current = await owned(conn, store_id, tenant)
            if current.phase in _ENDED:
                return releases.present(self._deps.releases, current)
            generation = current.generation + 1
            await repo.set_phase(conn, store_id, Phase.DELETING, generation)
            command = DeleteStore(
                command_id=str(uuid_utils.uuid7()),
                generation=generation,
                issued_at=datetime.now(UTC),
                actor=actor(tenant),
                tenant=tenant.id,
                store=store_id,
            )
            await spec_changes.queue(conn, command)
            deleting = await repo.get_store(conn, store_id)
        self._deps.outbox.wake.set()
        assert deleting is not None  # written in this transaction
        return releases.present(self._deps.releases, deleting)

    async def events(self, tenant: TenantView, store_id: str, limit: int) -> list[EventView]:
        """The latest `limit` events since the store's current life began."""
        reader = self._deps.db.reader
        await owned(reader, store_id, tenant)
        since = await repo.first_generation(reader, store_id)
        return await repo.list_events(reader, store_id, since, limit)

    async def credentials(self, tenant: TenantView, store_id: str) -> CredentialsReply:
        store = await owned(self._deps.db.reader, store_id, tenant)
        if store.phase not in _SERVING:
            raise ConflictError(
                f"credentials are available once the store is ready (now {store.phase})"
            )
        timeout = self._deps.settings.credentials_timeout_s
        return await ask_credentials(self._deps.nc, tenant.id, store_id, timeout)


def actor(tenant: TenantView) -> str:
    return f"tenant:{tenant.id}"


async def owned(conn: Conn, store_id: str, tenant: TenantView) -> StoreView:
    """The tenant's store; another tenant's store is indistinguishable from none."""
    store = await repo.get_store(conn, store_id)
    if store is None or store.tenant != tenant.id:
        raise NotFoundError(f"no store '{store_id}'")
    return store


def _check_recreate(
    existing: StoreView, tenant: TenantView, data: CreateStoreRequest, same_release: bool
) -> None:
    """Raise unless re-creating `existing` is allowed (it returns it as-is)."""
    if existing.tenant != tenant.id:
        raise ConflictError(f"store id '{data.id}' is not available; choose another id")
    if existing.phase is Phase.DELETING:
        raise ConflictError(
            f"store '{data.id}' is being deleted; create it again once it is deleted"
        )
    if existing.engine != data.engine:
        raise ConflictError(
            f"store '{data.id}' already exists as engine={existing.engine}; "
            "delete it first or choose another id"
        )
    if not same_release or (existing.plan, existing.display_name) != (
        data.plan,
        data.display_name,
    ):
        raise ConflictError(
            f"store '{data.id}' already exists with plan={existing.plan}; change its plan, "
            f"name or release with PATCH /api/v1/stores/{data.id}, or choose another id"
        )


def updated(current: StoreView, data: UpdateStoreRequest, release: str) -> StoreView | None:
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
