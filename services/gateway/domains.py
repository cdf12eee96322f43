"""A store on its own domains: the rules. Pure: a domain's row, its last DNS
check and its store in, its state (and whether to route it) out;
`domain_driver` does the lookups and the writing.

A domain's life: added (`pending-dns`, with the records to set) → its CNAME and
TXT records are seen as asked → routed: the store's next generation carries it
(`verifying` until the store is serving at that generation) → with store TLS,
`issuing-certificate` until the watcher reports cert-manager's certificate for
it ready → `active`. Records that stop resolving later make it `failed`, with
the reason, while the store keeps answering for it: a DNS mistake is reported,
never acted on by dropping the domain. Every state is derived again on each
pass from the row and the store, so a restart resumes where the rows are.
"""

import secrets
from datetime import datetime, timedelta
from enum import StrEnum
from typing import NamedTuple

import msgspec

from services.contracts.domains import (
    DomainState,
    certificate_condition_type,
    normalized_domain,
    platform_problem,
    records_for,
)
from services.contracts.events import Condition
from services.contracts.ids import host_for
from services.contracts.phases import Phase
from services.gateway.domain_errors import ConflictError, InvalidFieldError, QuotaReachedError
from services.gateway.models import DomainView, StoreView

SYSTEM_ACTOR = "system:domains"
_ENDED = (Phase.DELETING, Phase.DELETED)
# The store serves its spec at a generation: what routing a domain waits for.
_SERVING = (Phase.READY, Phase.DEGRADED, Phase.ASLEEP)


class Verdict(StrEnum):
    OK = "ok"  # both records are as asked
    WRONG = "wrong"  # a record is missing or says something else
    UNKNOWN = "unknown"  # the resolver could not tell (timeout, SERVFAIL)


class DnsCheck(NamedTuple):
    verdict: Verdict
    problem: str = ""  # what is wrong, and what to set


class Timing(NamedTuple):
    check_s: float  # how often a domain not yet proven is looked up
    recheck_s: float  # how often a proven one is looked up again
    pending_limit_s: float  # unproven this long: failed (still looked up, less often)


class DomainRecord(msgspec.Struct, frozen=True):
    """One domain, as the store_domains table keeps it."""

    domain: str
    store: str
    tenant: str
    token: str
    state: DomainState
    created_at: datetime
    updated_at: datetime
    reason: str = ""
    dns_ok: bool = False
    dns_problem: str = ""
    checked_at: datetime | None = None
    # The store generation that first carried the domain (0: not routed yet),
    # and whether the store has served at it since.
    routed_generation: int = 0
    applied: bool = False


class Derived(NamedTuple):
    state: DomainState
    reason: str
    route: bool = False  # put the domain in the store's spec (its next generation)
    applied: bool = False


def new_token() -> str:
    return secrets.token_urlsafe(24)


def checked_domain(value: str, base_domain: str) -> str:
    """`value` normalized, or InvalidFieldError naming `domain`."""
    try:
        domain = normalized_domain(value)
    except ValueError as exc:
        raise InvalidFieldError("domain", str(exc)) from None
    problem = platform_problem(domain, base_domain)
    if problem:
        raise InvalidFieldError("domain", problem)
    return domain


def check_addable(store: StoreView, count: int, limit: int) -> None:
    """Refuse a domain for a store being deleted or at its limit."""
    if store.phase in _ENDED:
        raise ConflictError(f"store '{store.id}' is {store.phase}; it can take no domain")
    if count >= limit:
        raise QuotaReachedError(
            f"store '{store.id}' has {count} domains, the most a store may have; remove one first"
        )


def view_of(d: DomainRecord, base_domain: str) -> DomainView:
    return DomainView(
        domain=d.domain,
        store=d.store,
        state=d.state,
        reason=d.reason,
        records=records_for(d.domain, host_for(d.store, base_domain), d.token),
        created_at=d.created_at,
        updated_at=d.updated_at,
        checked_at=d.checked_at,
    )


def due(d: DomainRecord, now: datetime, timing: Timing) -> bool:
    """Whether the domain's records should be looked up now."""
    if d.checked_at is None:
        return True
    slow = (d.routed_generation and d.dns_ok) or d.state is DomainState.FAILED
    every = timing.recheck_s if slow else timing.check_s
    return now - d.checked_at >= timedelta(seconds=every)


def checked(d: DomainRecord, check: DnsCheck, now: datetime) -> DomainRecord:
    """The row after a lookup; one that could not tell keeps what was known."""
    dns_ok = d.dns_ok if check.verdict is Verdict.UNKNOWN else check.verdict is Verdict.OK
    return msgspec.structs.replace(d, dns_ok=dns_ok, dns_problem=check.problem, checked_at=now)


def derive(d: DomainRecord, store: StoreView, tls: bool, now: datetime, timing: Timing) -> Derived:
    """The domain's state from its row and its (live) store."""
    if not d.routed_generation:
        if d.dns_ok:
            return Derived(
                DomainState.VERIFYING,
                f"the DNS records prove {d.domain} yours; the store is being set up to "
                "answer on it (its next generation)",
                route=True,
            )
        if d.checked_at is None:
            return Derived(d.state, d.reason)
        if now - d.created_at > timedelta(seconds=timing.pending_limit_s):
            return Derived(
                DomainState.FAILED,
                f"not proven within {_duration(timing.pending_limit_s)}: {d.dns_problem}; "
                "it is still looked up now and then",
            )
        return Derived(DomainState.PENDING_DNS, d.dns_problem)
    applied = d.applied or (store.generation >= d.routed_generation and store.phase in _SERVING)
    if not d.dns_ok:
        return Derived(
            DomainState.FAILED,
            f"{d.dns_problem}; the store still answers for {d.domain}: fix the record, "
            "or remove the domain",
            applied=applied,
        )
    if not applied:
        if store.phase is Phase.FAILED and store.generation >= d.routed_generation:
            return Derived(
                DomainState.FAILED,
                f"the store failed at generation {store.generation}, which adds {d.domain}: "
                f"{store.message or store.reason}",
            )
        return Derived(
            DomainState.VERIFYING,
            f"the store is being set up to answer on {d.domain} (generation {d.routed_generation})",
        )
    if tls and not certificate_ready(store.conditions, d.domain):
        return Derived(
            DomainState.ISSUING_CERTIFICATE,
            _certificate_wait(store.conditions, d.domain),
            applied=True,
        )
    return Derived(DomainState.ACTIVE, f"the store answers on {d.domain}", applied=True)


def advance(
    d: DomainRecord,
    store: StoreView,
    check: DnsCheck | None,
    tls: bool,
    now: datetime,
    timing: Timing,
) -> tuple[DomainRecord, bool]:
    """The row after `check` (None: no lookup this time) and what its store
    shows, and whether to route the domain now (the caller puts it in the
    store's spec and records the generation that does)."""
    looked = checked(d, check, now) if check is not None else d
    result = derive(looked, store, tls, now, timing)
    moved = (result.state, result.reason) != (d.state, d.reason)
    after = msgspec.structs.replace(
        looked,
        state=result.state,
        reason=result.reason,
        applied=looked.applied or result.applied,
        updated_at=now if moved else d.updated_at,
    )
    return after, result.route


def certificate_ready(conditions: list[Condition], domain: str) -> bool:
    kind = certificate_condition_type(domain)
    return any(c.type == kind and c.status == "True" for c in conditions)


def _certificate_wait(conditions: list[Condition], domain: str) -> str:
    kind = certificate_condition_type(domain)
    said = next((c.message for c in conditions if c.type == kind and c.message), "")
    return said or (
        f"waiting for cert-manager to issue the certificate for {domain} (HTTP-01 through "
        "the CNAME just verified)"
    )


def routed(store: StoreView, domain: str, now: datetime) -> StoreView:
    """The store at its next generation, answering on `domain` too."""
    return _respecced(store, [*store.domains, domain], f"adding the domain {domain}", now)


def unrouted(store: StoreView, domain: str, now: datetime) -> StoreView:
    """The store at its next generation without `domain` (its address back to
    the next own domain, or its platform host)."""
    left = [d for d in store.domains if d != domain]
    return _respecced(store, left, f"removing the domain {domain}", now)


def _respecced(store: StoreView, domains: list[str], message: str, now: datetime) -> StoreView:
    return msgspec.structs.replace(
        store,
        domains=domains,
        phase=Phase.PROVISIONING,
        generation=store.generation + 1,
        reason="Updating",
        message=message,
        updated_at=now,
    )


def ended(store: StoreView | None) -> bool:
    return store is None or store.phase in _ENDED


def _duration(seconds: float) -> str:
    if seconds >= 86400 and seconds % 86400 == 0:
        return f"{int(seconds // 86400)} days"
    if seconds >= 3600:
        return f"{seconds / 3600:g} hours"
    return f"{seconds:g} s"
