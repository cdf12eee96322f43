"""A store's own domains: the name rules and the pure state machine
(`services.gateway.domains`), row and store in, state out."""

from datetime import UTC, datetime, timedelta

import msgspec
import pytest

from services.contracts.domains import (
    DomainState,
    certificate_condition_type,
    normalized_domain,
    platform_problem,
)
from services.contracts.events import Condition
from services.contracts.phases import Phase
from services.contracts.store import Engine, Plan
from services.gateway import domains
from services.gateway.domain_errors import InvalidFieldError
from services.gateway.domains import DnsCheck, DomainRecord, Timing, Verdict
from services.gateway.models import StoreView

T0 = datetime(2026, 3, 1, tzinfo=UTC)
TIMING = Timing(check_s=30, recheck_s=600, pending_limit_s=86400)
D = "shop.example.com"
OK = DnsCheck(Verdict.OK)
NO_CNAME = DnsCheck(Verdict.WRONG, f"{D} does not exist in DNS yet: set CNAME …")
TIMEOUT = DnsCheck(Verdict.UNKNOWN, "the TXT lookup failed (timeout); retrying")


def store(phase: Phase = Phase.READY, generation: int = 1, **kw: object) -> StoreView:
    view = StoreView(
        id="shop", tenant="acme", engine=Engine.WOOCOMMERCE, plan=Plan.SMALL, display_name="",
        storage_plan=Plan.SMALL, phase=phase, generation=generation, url="", reason="",
        message="", conditions=[], created_at=T0, updated_at=T0,
    )  # fmt: skip
    return msgspec.structs.replace(view, **kw)


def added() -> DomainRecord:
    return DomainRecord(
        domain=D,
        store="shop",
        tenant="acme",
        token="t",
        state=DomainState.PENDING_DNS,
        created_at=T0,
        updated_at=T0,
    )


def step(
    d: DomainRecord,
    s: StoreView,
    check: DnsCheck | None,
    after: timedelta = timedelta(seconds=1),
    tls: bool = False,
) -> tuple[DomainRecord, bool]:
    return domains.advance(d, s, check, tls, T0 + after, TIMING)


@pytest.mark.parametrize(
    ("raw", "kept"),
    [
        ("Shop.Example.COM.", "shop.example.com"),
        (" bücher.example ", "xn--bcher-kva.example"),
        ("xn--bcher-kva.example", "xn--bcher-kva.example"),
    ],
)
def test_a_domain_is_kept_lowercase_ascii_without_the_final_dot(raw: str, kept: str) -> None:
    assert normalized_domain(raw) == kept


@pytest.mark.parametrize(
    ("raw", "says"),
    [
        ("", "must be a domain name such as shop.example.com"),
        ("shop", "must have at least two labels"),
        ("a_b.example.com", "is not a valid domain name"),
        ("-a.example.com", "is not a valid domain name"),
        ("192.168.1.1", "is an IP address"),
        ("a." * 127 + "com", "is not a valid domain name: Domain too long"),
    ],
)
def test_a_name_that_is_no_domain_is_refused_saying_why(raw: str, says: str) -> None:
    with pytest.raises(ValueError, match=says):
        normalized_domain(raw)


def test_the_platforms_own_domain_and_those_under_it_are_refused_naming_the_field() -> None:
    assert platform_problem("shop.example.com", "shops.test") is None
    assert platform_problem("evil-shops.test", "shops.test") is None
    for taken in ("shops.test", "a.shops.test", "b.a.shops.test"):
        with pytest.raises(InvalidFieldError) as refused:
            domains.checked_domain(taken.upper(), "Shops.Test.")
        assert refused.value.field == "domain"
        assert "is the platform's own domain (shops.test)" in refused.value.message


def test_records_not_there_keep_the_domain_pending_saying_what_is_missing() -> None:
    d, route = step(added(), store(), NO_CNAME)
    assert (d.state, d.reason, route) == (DomainState.PENDING_DNS, NO_CNAME.problem, False)
    assert (d.dns_ok, d.checked_at) == (False, T0 + timedelta(seconds=1))


def test_proven_records_route_the_domain() -> None:
    d, route = step(added(), store(), OK)
    assert (d.state, route) == (DomainState.VERIFYING, True)
    assert "the DNS records prove shop.example.com yours" in d.reason


def test_unproven_for_too_long_is_failed_and_still_looked_up() -> None:
    d, _ = step(added(), store(), NO_CNAME, after=timedelta(days=2))
    assert d.state is DomainState.FAILED
    assert d.reason.startswith("not proven within 1 days: ")
    assert domains.due(d, T0 + timedelta(days=2, minutes=11), TIMING)
    later, route = step(d, store(), OK, after=timedelta(days=3))
    assert (later.state, route) == (DomainState.VERIFYING, True)


def routed_at(generation: int) -> DomainRecord:
    d, _ = step(added(), store(), OK)
    return msgspec.structs.replace(d, routed_generation=generation)


def test_a_routed_domain_verifies_until_the_store_serves_at_its_generation() -> None:
    d = routed_at(2)
    waiting, _ = step(d, store(Phase.PROVISIONING, 2, domains=[D]), None)
    assert waiting.state is DomainState.VERIFYING
    assert "(generation 2)" in waiting.reason
    stale, _ = step(d, store(Phase.READY, 1), None)
    assert stale.state is DomainState.VERIFYING
    live, _ = step(d, store(Phase.READY, 2, domains=[D]), None)
    assert (live.state, live.applied) == (DomainState.ACTIVE, True)
    asleep, _ = step(d, store(Phase.ASLEEP, 3, domains=[D]), None)
    assert asleep.state is DomainState.ACTIVE


def test_a_store_failing_at_the_domains_generation_fails_it_with_the_stores_reason() -> None:
    failed, _ = step(routed_at(2), store(Phase.FAILED, 2, message="setup Job failed"), None)
    assert failed.state is DomainState.FAILED
    assert failed.reason == (
        "the store failed at generation 2, which adds shop.example.com: setup Job failed"
    )
    fixed, _ = step(failed, store(Phase.READY, 3), None)
    assert fixed.state is DomainState.ACTIVE


def test_once_applied_a_later_generation_of_the_store_leaves_the_domain_active() -> None:
    live, _ = step(routed_at(2), store(Phase.READY, 2), None)
    again, _ = step(live, store(Phase.PROVISIONING, 3), None)
    assert (again.state, again == live) == (DomainState.ACTIVE, True)


def test_records_that_stop_resolving_are_reported_and_the_domain_stays_routed() -> None:
    live, _ = step(routed_at(2), store(Phase.READY, 2), OK)
    gone, route = step(live, store(Phase.READY, 2), NO_CNAME, after=timedelta(minutes=11))
    assert (gone.state, route, gone.routed_generation) == (DomainState.FAILED, False, 2)
    assert gone.reason == (
        f"{NO_CNAME.problem}; the store still answers for {D}: fix the record, or remove the domain"
    )
    back, _ = step(gone, store(Phase.READY, 2), OK, after=timedelta(minutes=22))
    assert back.state is DomainState.ACTIVE


def test_a_lookup_that_cannot_tell_changes_nothing_known() -> None:
    live, _ = step(routed_at(2), store(Phase.READY, 2), OK)
    unsure, _ = step(live, store(Phase.READY, 2), TIMEOUT)
    assert (unsure.state, unsure.dns_ok) == (DomainState.ACTIVE, True)


def test_with_tls_an_active_domain_waits_for_the_watchers_word_on_its_certificate() -> None:
    d = routed_at(2)
    kind = certificate_condition_type(D)
    pending = Condition(kind, "False", "CertificatePending", f"certificate x for {D} is not ready")
    issuing, _ = step(d, store(Phase.READY, 2, conditions=[pending]), None, tls=True)
    assert (issuing.state, issuing.reason) == (DomainState.ISSUING_CERTIFICATE, pending.message)
    unsaid, _ = step(d, store(Phase.READY, 2), None, tls=True)
    assert "waiting for cert-manager to issue the certificate" in unsaid.reason
    ready = Condition(kind, "True", "CertificateReady")
    live, _ = step(d, store(Phase.READY, 2, conditions=[ready]), None, tls=True)
    assert live.state is DomainState.ACTIVE


def test_lookups_are_often_until_proven_then_rare() -> None:
    d, _ = step(added(), store(), NO_CNAME)
    seen = d.checked_at
    assert seen is not None
    assert not domains.due(d, seen + timedelta(seconds=29), TIMING)
    assert domains.due(d, seen + timedelta(seconds=30), TIMING)
    live, _ = step(routed_at(2), store(Phase.READY, 2), OK)
    assert live.checked_at is not None
    assert not domains.due(live, live.checked_at + timedelta(seconds=599), TIMING)
    assert domains.due(live, live.checked_at + timedelta(seconds=600), TIMING)


def test_routing_and_removing_are_the_stores_next_generations() -> None:
    s = store(Phase.READY, 4, domains=["a.example.com"])
    with_d = domains.routed(s, D, T0)
    assert (with_d.domains, with_d.generation, with_d.phase) == (
        ["a.example.com", D],
        5,
        Phase.PROVISIONING,
    )
    without = domains.unrouted(with_d, "a.example.com", T0)
    assert (without.domains, without.generation) == ([D], 6)
    assert without.message == "removing the domain a.example.com"
