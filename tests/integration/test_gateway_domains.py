"""A store on its own domain at the API: a gateway process on real NATS, on each
database backend, looking the domain's records up in a real DNS server on
loopback whose records the tests set, as a tenant would at their DNS provider."""

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from nats.js import JetStreamContext

from services.contracts.domains import DomainStatus, certificate_condition_type
from services.contracts.events import Condition, StoreStatus
from services.contracts.phases import Phase
from services.contracts.subjects import EventKind, event_subject
from services.contracts.wire import decode_bus_event, encode
from services.devtools.natsserver import NatsServer
from services.devtools.procs import ServiceProcess
from tests.fixtures.dns import LoopbackDns
from tests.fixtures.processes import StartService
from tests.fixtures.waiting import eventually
from tests.integration.gateway_support import (
    auth,
    command_count,
    gateway_env,
    last_command,
    new_tenant,
    query,
)

BASE = "127.0.0.1.nip.io"  # the gateway's default URUMI_BASE_DOMAIN
DOMAIN = "shop.example.com"
CHALLENGE = f"_urumi-challenge.{DOMAIN}"
FAST = {"URUMI_DOMAIN_CHECK_S": "0.2", "URUMI_DOMAIN_RECHECK_S": "0.3"}


@pytest.fixture
def gateway(
    nats_server: NatsServer,
    start_service: StartService,
    gateway_database: str,
    dns_server: LoopbackDns,
    request: pytest.FixtureRequest,
) -> ServiceProcess:
    """A gateway looking domains up in `dns_server`; a test parametrizing it
    (indirectly) adds the variables it names."""
    extra: dict[str, str] = getattr(request, "param", {})
    env = gateway_env(
        nats_server.url,
        gateway_database,
        URUMI_DNS_NAMESERVER=dns_server.nameserver,
        **FAST,
        **extra,
    )
    return start_service("gateway", env)


@pytest.fixture
async def globex(gateway: ServiceProcess) -> AsyncIterator[httpx.AsyncClient]:
    token = await new_tenant(gateway.base_url, "globex")
    async with httpx.AsyncClient(base_url=gateway.base_url, headers=auth(token)) as http:
        yield http


async def _domain(http: httpx.AsyncClient, store: str, domain: str = DOMAIN) -> dict[str, Any]:
    found = (await http.get(f"/api/v1/stores/{store}/domains")).json()["items"]
    return next(d for d in found if d["domain"] == domain)


async def _in_state(
    http: httpx.AsyncClient, state: str, says: str = "", store: str = "shop"
) -> dict[str, Any] | None:
    d = await _domain(http, store)
    return d if d["state"] == state and says in d["reason"] else None


async def _serving(js: JetStreamContext, store: str, generation: int, *ready: str) -> None:
    """The watcher's report that the store is ready at `generation`, with the
    certificates of `ready` domains issued."""
    status = StoreStatus(
        tenant="acme",
        store=store,
        phase=Phase.READY,
        generation=generation,
        observed_at=datetime.now(UTC),
        conditions=[Condition(certificate_condition_type(d), "True") for d in ready],
    )
    await js.publish(event_subject("acme", store, EventKind.STATUS), encode(status))


async def _published(js: JetStreamContext, store: str) -> list[str]:
    """The states the bus carried for the store's domain, in order."""
    sub = await js.subscribe(event_subject("acme", store, EventKind.DOMAIN), ordered_consumer=True)
    seen: list[str] = []
    try:
        while True:
            msg = await sub.next_msg(timeout=0.5)
            event = decode_bus_event(msg.data)
            assert isinstance(event, DomainStatus)
            seen.append("removed" if event.removed else event.state.value)
    except TimeoutError:
        return seen
    finally:
        await sub.unsubscribe()


async def test_a_domain_is_routed_once_its_records_prove_it_and_removing_it_restores_the_host(
    acme: httpx.AsyncClient, js: JetStreamContext, dns_server: LoopbackDns, gateway_database: str
) -> None:
    assert (await acme.post("/api/v1/stores", json={"id": "shop"})).status_code == 202
    added = await acme.post("/api/v1/stores/shop/domains", json={"domain": "Shop.Example.COM."})
    assert added.status_code == 201, added.text
    body = added.json()
    assert (body["domain"], body["state"]) == (DOMAIN, "pending-dns")
    cname, txt = body["records"]
    assert cname == {"type": "CNAME", "name": DOMAIN, "value": f"shop.{BASE}"}
    assert (txt["type"], txt["name"]) == ("TXT", CHALLENGE)
    token = txt["value"]
    assert len(token) >= 32

    missing = await eventually(lambda: _in_state(acme, "pending-dns", "does not exist"))
    assert f"set CNAME {DOMAIN} → shop.{BASE}" in missing["reason"]

    # A TXT record with another value proves nothing: the domain stays pending.
    dns_server.zone.set(DOMAIN, "CNAME", f"shop.{BASE}")
    dns_server.zone.set(CHALLENGE, "TXT", "not-the-token")
    wrong = await eventually(lambda: _in_state(acme, "pending-dns", "not the token"))
    assert "'not-the-token'" in wrong["reason"]
    assert (await acme.get("/api/v1/stores/shop")).json()["domains"] == []

    dns_server.zone.set(CHALLENGE, "TXT", token)
    await eventually(lambda: _in_state(acme, "verifying"), what="verifying")
    store = (await acme.get("/api/v1/stores/shop")).json()
    assert (store["generation"], store["domains"], store["phase"]) == (2, [DOMAIN], "provisioning")
    command = await last_command(js, "shop", 2)
    assert command.spec.domains == [DOMAIN]
    assert command.actor == "system:domains"

    await _serving(js, "shop", 2)
    await eventually(lambda: _in_state(acme, "active"), what="active")

    # The record removed later: reported, and the store keeps answering for it.
    dns_server.zone.drop(DOMAIN, "CNAME")
    gone = await eventually(lambda: _in_state(acme, "failed", "still answers"))
    assert f"{DOMAIN} does not exist in DNS yet" in gone["reason"]
    assert (await acme.get("/api/v1/stores/shop")).json()["domains"] == [DOMAIN]
    dns_server.zone.set(DOMAIN, "CNAME", f"shop.{BASE}")
    await eventually(lambda: _in_state(acme, "active"), what="active again")

    removed = await acme.delete(f"/api/v1/stores/shop/domains/{DOMAIN}")
    assert removed.status_code == 202, removed.text
    assert (removed.json()["generation"], removed.json()["domains"]) == (3, [])
    command = await last_command(js, "shop", 3)
    assert (command.spec.domains, command.actor) == ([], "tenant:acme")
    assert (await acme.get("/api/v1/stores/shop/domains")).json()["items"] == []
    again = await acme.delete(f"/api/v1/stores/shop/domains/{DOMAIN}")
    assert again.status_code == 404
    assert again.json()["detail"] == f"store 'shop' has no domain '{DOMAIN}'"

    states = await _published(js, "shop")
    assert states[0] == "pending-dns" and states[-1] == "removed"
    # A state may be announced again with a new reason (verifying: proven, then
    # routed at generation 2) when a pass runs between the two: the changes of state.
    changes = [s for i, s in enumerate(states) if i == 0 or s != states[i - 1]]
    assert [s for s in changes if s in ("verifying", "active", "failed")] == [
        "verifying",
        "active",
        "failed",
        "active",
    ]
    audit = await query(
        gateway_database,
        "SELECT actor, action FROM audit WHERE target = 'shop' AND action LIKE '%domain%' "
        "ORDER BY id",
    )
    assert audit == [
        ("tenant:acme", f"add domain {DOMAIN}"),
        ("tenant:acme", "POST /api/v1/stores/shop/domains"),
        ("system:domains", f"route domain {DOMAIN}: store at generation 2"),
        ("tenant:acme", f"remove domain {DOMAIN}: store at generation 3"),
        ("tenant:acme", f"DELETE /api/v1/stores/shop/domains/{DOMAIN}"),
        ("tenant:acme", f"DELETE /api/v1/stores/shop/domains/{DOMAIN}"),
    ]


async def _visit(gateway: ServiceProcess, host: str) -> httpx.Response:
    """A shopper's request as the ingress controller forwards it: the store's Host."""
    async with httpx.AsyncClient(base_url=gateway.base_url) as shopper:
        return await shopper.get("/", headers={"Host": host})


async def test_a_sleeping_store_s_own_domain_shows_the_asleep_page(
    gateway: ServiceProcess, acme: httpx.AsyncClient, dns_server: LoopbackDns
) -> None:
    """A sleeping store's Ingress sends its own domains to the platform too: a
    proven domain gets the store's asleep page, one not proven is no store's."""
    assert (await acme.post("/api/v1/stores", json={"id": "shop"})).status_code == 202
    token = (await _domain_added(acme, "shop", DOMAIN))["records"][1]["value"]
    await _domain_added(acme, "shop", "unproven.example.com")
    dns_server.zone.set(DOMAIN, "CNAME", f"shop.{BASE}")
    dns_server.zone.set(CHALLENGE, "TXT", token)
    await eventually(lambda: _in_state(acme, "verifying"), what="verifying")
    slept = await acme.post("/api/v1/stores/shop/sleep")
    assert slept.status_code == 202, slept.text

    async def page() -> httpx.Response | None:
        answer = await _visit(gateway, f"{DOMAIN.upper()}:443")
        return answer if answer.status_code == 503 else None

    asleep = await eventually(page, what="the asleep page on the store's own domain")
    assert "shop is asleep" in asleep.text
    assert asleep.headers["retry-after"] == "3600"
    assert (await _visit(gateway, f"shop.{BASE}")).status_code == 503
    unproven = await _visit(gateway, "unproven.example.com")  # the gateway's own pages
    assert unproven.status_code == 200 and "is asleep" not in unproven.text


async def _domain_added(http: httpx.AsyncClient, store: str, domain: str) -> dict[str, Any]:
    added = await http.post(f"/api/v1/stores/{store}/domains", json={"domain": domain})
    assert added.status_code == 201, added.text
    body: dict[str, Any] = added.json()
    return body


async def test_a_domain_belongs_to_one_store_of_the_whole_platform(
    acme: httpx.AsyncClient, globex: httpx.AsyncClient
) -> None:
    for store, http in (("shop", acme), ("other", acme), ("rival", globex)):
        assert (await http.post("/api/v1/stores", json={"id": store})).status_code == 202
    assert (
        await acme.post("/api/v1/stores/shop/domains", json={"domain": DOMAIN})
    ).status_code == 201

    same = await acme.post("/api/v1/stores/shop/domains", json={"domain": DOMAIN})
    assert (same.status_code, same.json()["domain"]) == (200, DOMAIN)
    mine = await acme.post("/api/v1/stores/other/domains", json={"domain": DOMAIN})
    assert mine.status_code == 409
    assert mine.json()["detail"] == (
        f"domain '{DOMAIN}' is a domain of your store 'shop'; remove it there first"
    )
    theirs = await globex.post("/api/v1/stores/rival/domains", json={"domain": "SHOP.example.com"})
    assert theirs.status_code == 409
    assert "acme" not in theirs.text and "'shop'" not in theirs.text
    assert theirs.json()["detail"] == (
        f"domain '{DOMAIN}' is in use on this platform; if it is yours, ask your platform admin"
    )
    # Another tenant's store is no store at all, for domains too.
    assert (await globex.get("/api/v1/stores/shop/domains")).status_code == 404

    assert (await acme.delete(f"/api/v1/stores/shop/domains/{DOMAIN}")).status_code == 200
    freed = await globex.post("/api/v1/stores/rival/domains", json={"domain": DOMAIN})
    assert freed.status_code == 201


@pytest.mark.parametrize(
    ("domain", "says"),
    [
        (f"www.{BASE}", f"is the platform's own domain ({BASE})"),
        (BASE, "is the platform's own domain"),
        ("a_b.example.com", "is not a valid domain name"),
        ("localhost", "must have at least two labels"),
        ("10.0.0.1", "is an IP address"),
        ("", "must be a domain name"),
    ],
)
async def test_a_domain_that_cannot_be_a_stores_is_refused_naming_the_field(
    acme: httpx.AsyncClient, domain: str, says: str
) -> None:
    await acme.post("/api/v1/stores", json={"id": "shop"})
    r = await acme.post("/api/v1/stores/shop/domains", json={"domain": domain})
    assert r.status_code == 422, r.text
    (error,) = r.json()["errors"]
    assert error["field"] == "domain" and says in error["message"], error


@pytest.mark.parametrize("gateway", [{"URUMI_DOMAINS_PER_STORE": "2"}], indirect=True)
async def test_a_store_takes_as_many_domains_as_the_platform_allows(
    acme: httpx.AsyncClient,
) -> None:
    await acme.post("/api/v1/stores", json={"id": "shop"})
    for name in ("a.example.com", "b.example.com"):
        assert (await acme.post("/api/v1/stores/shop/domains", json={"domain": name})).is_success
    third = await acme.post("/api/v1/stores/shop/domains", json={"domain": "c.example.com"})
    assert third.status_code == 403
    assert third.json()["detail"] == (
        "store 'shop' has 2 domains, the most a store may have; remove one first"
    )


@pytest.mark.parametrize(
    "gateway", [{"URUMI_TLS_MODE": "http01", "URUMI_TLS_ISSUER": "letsencrypt"}], indirect=True
)
async def test_with_store_tls_a_domain_waits_for_its_certificate(
    acme: httpx.AsyncClient, js: JetStreamContext, dns_server: LoopbackDns
) -> None:
    await acme.post("/api/v1/stores", json={"id": "shop"})
    added = (await acme.post("/api/v1/stores/shop/domains", json={"domain": DOMAIN})).json()
    dns_server.zone.set(DOMAIN, "CNAME", f"shop.{BASE}")
    dns_server.zone.set(CHALLENGE, "TXT", added["records"][1]["value"])
    await eventually(lambda: _in_state(acme, "verifying"), what="verifying")
    before = await command_count(js)

    await _serving(js, "shop", 2)
    waiting = await eventually(lambda: _in_state(acme, "issuing-certificate"))
    assert "waiting for cert-manager to issue the certificate" in waiting["reason"]
    await _serving(js, "shop", 2, DOMAIN)
    await eventually(lambda: _in_state(acme, "active"), what="active")
    assert await command_count(js) == before  # issuing a certificate is no new generation


async def test_a_deleted_store_frees_its_domains(
    acme: httpx.AsyncClient, globex: httpx.AsyncClient
) -> None:
    await acme.post("/api/v1/stores", json={"id": "shop"})
    await globex.post("/api/v1/stores", json={"id": "rival"})
    await acme.post("/api/v1/stores/shop/domains", json={"domain": DOMAIN})
    assert (await acme.delete("/api/v1/stores/shop")).status_code == 202

    async def taken() -> bool:
        r = await globex.post("/api/v1/stores/rival/domains", json={"domain": DOMAIN})
        return r.status_code == 201

    await eventually(taken, what="the domain freed")
