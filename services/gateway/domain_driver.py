"""The stores' own domains, driven level-triggered from the database alone.

Every gateway replica runs it. A pass looks up the records of the domains due
(outside any transaction: a lookup may take seconds), then settles each domain
whose row would change in a transaction of its own: its state from its last
lookup and its store (`domains.advance`), routing it (the store's next
generation, queued in the outbox) once its records prove it the tenant's, and
its news on the bus. A restart resumes from the rows.
"""

import asyncio
import logging

import msgspec

from services.contracts.ids import host_for
from services.gateway import domain_repository as dom
from services.gateway import domains, spec_changes
from services.gateway import repository as repo
from services.gateway.deps import GatewayDeps
from services.gateway.domain_dns import DomainResolver
from services.gateway.domain_service import announce
from services.gateway.domains import DnsCheck, DomainRecord
from services.gateway.passes import run_passes

log = logging.getLogger(__name__)

# Lookups in flight at once.
CONCURRENT_LOOKUPS = 16


def timing(deps: GatewayDeps) -> domains.Timing:
    s = deps.settings
    return domains.Timing(s.domain_check_s, s.domain_recheck_s, s.domain_pending_limit_s)


async def run_domains(deps: GatewayDeps, stop: asyncio.Event) -> None:
    resolver = DomainResolver(deps.settings.dns_nameserver, deps.settings.dns_timeout_s)
    await run_passes(
        "domain", lambda: drive(deps, resolver), deps.domain_wake, deps.outbox.wake, stop
    )


async def drive(deps: GatewayDeps, resolver: DomainResolver) -> bool:
    """One pass over every domain; whether it changed anything."""
    now = repo.now()
    rows = await dom.all_domains(deps.db.reader)
    deps.routed_domains = {d.domain: d.store for d in rows if d.routed_generation}
    due = [d for d in rows if domains.due(d, now, timing(deps))]
    checks = dict(zip((d.domain for d in due), await _lookups(deps, resolver, due), strict=True))
    changed = False
    for d in rows:
        if await _would_change(deps, d, checks.get(d.domain)):
            changed |= await settle(deps, d.domain, checks.get(d.domain))
    return changed


async def _lookups(
    deps: GatewayDeps, resolver: DomainResolver, due: list[DomainRecord]
) -> list[DnsCheck]:
    limit = asyncio.Semaphore(CONCURRENT_LOOKUPS)
    base = deps.settings.base_domain

    async def one(d: DomainRecord) -> DnsCheck:
        async with limit:
            return await resolver.check(d.domain, host_for(d.store, base), d.token)

    return list(await asyncio.gather(*(one(d) for d in due)))


async def _would_change(deps: GatewayDeps, d: DomainRecord, check: DnsCheck | None) -> bool:
    """Whether settling the domain would write anything (read without a transaction,
    so a quiet pass takes no lock)."""
    if check is not None:
        return True
    store = await repo.get_store(deps.db.reader, d.store)
    if domains.ended(store):
        return True
    assert store is not None  # not ended
    after, route = domains.advance(d, store, None, _tls(deps), repo.now(), timing(deps))
    return route or after != d


async def settle(deps: GatewayDeps, domain: str, check: DnsCheck | None) -> bool:
    """Bring the domain's row (and, to route it, its store) up to date; whether
    anything changed."""
    base = deps.settings.base_domain
    async with deps.db.transaction() as conn:
        d = await dom.get_domain(conn, domain)
        if d is None:
            return False  # removed meanwhile
        store = await repo.get_store(conn, d.store)
        if store is None or domains.ended(store):
            await dom.remove_domain(conn, d.domain)
            await announce(conn, d, base, removed=True)
            return True
        now = repo.now()
        after, route = domains.advance(d, store, check, _tls(deps), now, timing(deps))
        if route:
            generation = store.generation
            if d.domain not in store.domains:
                moved = domains.routed(store, d.domain, now)
                action = f"route domain {d.domain}: store at generation {moved.generation}"
                await spec_changes.regenerated(conn, moved, domains.SYSTEM_ACTOR, action)
                generation = moved.generation
            after = msgspec.structs.replace(after, routed_generation=generation)
        if after == d:
            return False
        await dom.put_domain(conn, after)
        if (after.state, after.reason) != (d.state, d.reason):
            await announce(conn, after, base)
    if after.state != d.state:
        log.info("domain %s", after.state, extra={"domain": domain, "why": after.reason})
    return True


def _tls(deps: GatewayDeps) -> bool:
    return deps.settings.store_tls() != "none"
