"""A store's own domains at the API: add, list, remove. The rules are in
`domains`; the lookups and the routing in `domain_driver`."""

from typing import NamedTuple

import uuid_utils

from services.contracts.domains import DomainState, DomainStatus, records_for
from services.contracts.ids import host_for
from services.contracts.subjects import EventKind, event_subject
from services.contracts.wire import encode
from services.gateway import domain_repository as dom
from services.gateway import domains, releases, spec_changes
from services.gateway import repository as repo
from services.gateway.deps import GatewayDeps
from services.gateway.domain_errors import ConflictError, NotFoundError
from services.gateway.domains import DomainRecord
from services.gateway.models import AddDomainRequest, DomainList, DomainView, StoreView, TenantView
from services.gateway.sql import Conn
from services.gateway.store_service import owned

_ADDED, _DONE = 201, 200


class Added(NamedTuple):
    domain: DomainView
    changed: bool  # False: the store already had it


class Removed(NamedTuple):
    store: StoreView
    changed: bool  # True: the store's next generation no longer answers on it


class DomainService:
    def __init__(self, deps: GatewayDeps) -> None:
        self._deps = deps

    @property
    def _base(self) -> str:
        return self._deps.settings.base_domain

    async def add(self, tenant: TenantView, store_id: str, data: AddDomainRequest) -> Added:
        """The domain, waiting for its DNS records (the store's already: as it is)."""
        domain = domains.checked_domain(data.domain, self._base)
        self._check_certificates()
        async with self._deps.db.transaction() as conn:
            store = await owned(conn, store_id, tenant)
            existing = await dom.get_domain(conn, domain)
            if existing is not None:
                _check_taken(existing, store_id, tenant)
                return Added(domains.view_of(existing, self._base), changed=False)
            count = len(await dom.store_domains(conn, store_id))
            domains.check_addable(store, count, self._deps.settings.domains_per_store)
            at = repo.now()
            record = DomainRecord(
                domain=domain,
                store=store_id,
                tenant=tenant.id,
                token=domains.new_token(),
                state=DomainState.PENDING_DNS,
                reason="set the CNAME and TXT records in `records` at your DNS provider; "
                "they are looked up shortly, then every "
                f"{self._deps.settings.domain_check_s:g} s until they are right",
                created_at=at,
                updated_at=at,
            )
            await dom.put_domain(conn, record)
            actor = _actor(tenant)
            await repo.add_audit(conn, actor, f"add domain {domain}", store_id, "", _ADDED, "ok")
            await announce(conn, record, self._base)
        self._deps.domain_wake.set()
        self._deps.outbox.wake.set()
        return Added(domains.view_of(record, self._base), changed=True)

    async def list_domains(self, tenant: TenantView, store_id: str) -> DomainList:
        reader = self._deps.db.reader
        await owned(reader, store_id, tenant)
        found = await dom.store_domains(reader, store_id)
        return DomainList(items=[domains.view_of(d, self._base) for d in found])

    async def remove(self, tenant: TenantView, store_id: str, name: str) -> Removed:
        """The store without the domain: at its next generation when it was
        routed (its address back to its platform host, or its next domain)."""
        async with self._deps.db.transaction() as conn:
            store = await owned(conn, store_id, tenant)
            record = await dom.get_domain(conn, name.lower().rstrip("."))
            if record is None or record.store != store_id:
                raise NotFoundError(f"store '{store_id}' has no domain '{name}'")
            await dom.remove_domain(conn, record.domain)
            await announce(conn, record, self._base, removed=True)
            actor, action = _actor(tenant), f"remove domain {record.domain}"
            if record.domain not in store.domains or domains.ended(store):
                await repo.add_audit(conn, actor, action, store_id, "", _DONE, "ok")
                return Removed(releases.present(self._deps.releases, store), changed=False)
            after = domains.unrouted(store, record.domain, repo.now())
            action = f"{action}: store at generation {after.generation}"
            await spec_changes.regenerated(conn, after, actor, action)
        self._deps.outbox.wake.set()
        return Removed(releases.present(self._deps.releases, after), changed=True)

    def _check_certificates(self) -> None:
        """A domain needs a certificate of its own wherever stores are on TLS:
        refuse when nothing can issue one."""
        settings = self._deps.settings
        if settings.store_tls() == "wildcard" and not settings.tls_issuer:
            raise ConflictError(
                "this platform serves stores with a wildcard certificate only, which "
                "cannot cover a domain of your own; the platform operator must set "
                "URUMI_TLS_ISSUER (a cert-manager ClusterIssuer) first"
            )


async def announce(conn: Conn, d: DomainRecord, base_domain: str, removed: bool = False) -> None:
    """The domain's state on the bus, through the outbox (in the caller's
    transaction); a removal is news of now, later than the domain's last state."""
    event = DomainStatus(
        tenant=d.tenant,
        store=d.store,
        domain=d.domain,
        state=d.state,
        at=repo.now() if removed else d.updated_at,
        reason=d.reason,
        records=records_for(d.domain, host_for(d.store, base_domain), d.token),
        removed=removed,
    )
    subject = event_subject(d.tenant, d.store, EventKind.DOMAIN)
    await repo.add_outbox(conn, str(uuid_utils.uuid7()), subject, encode(event))


def _actor(tenant: TenantView) -> str:
    return f"tenant:{tenant.id}"


def _check_taken(existing: DomainRecord, store_id: str, tenant: TenantView) -> None:
    """Refuse a domain another store has; another tenant's stays unnamed."""
    if existing.store == store_id and existing.tenant == tenant.id:
        return
    if existing.tenant == tenant.id:
        raise ConflictError(
            f"domain '{existing.domain}' is a domain of your store '{existing.store}'; "
            "remove it there first"
        )
    raise ConflictError(
        f"domain '{existing.domain}' is in use on this platform; if it is yours, ask "
        "your platform admin"
    )
