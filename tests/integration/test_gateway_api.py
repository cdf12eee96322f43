"""The HTTP API as a tenant sees it, with the gateway as a process on real NATS."""

import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from nats.js import JetStreamContext

from services.contracts import streams
from services.contracts.commands import CreateStore
from services.contracts.events import Condition, StepState, StoreProgress, StoreStatus
from services.contracts.next_steps import next_step
from services.contracts.phases import Phase
from services.contracts.store import Plan
from services.contracts.subjects import EventKind, command_subject, event_subject
from services.contracts.wire import decode_command, encode
from services.devtools.natsserver import NatsServer
from services.devtools.procs import ServiceProcess
from tests.fixtures.processes import StartService
from tests.fixtures.waiting import eventually
from tests.integration.gateway_support import (
    ADMIN,
    auth,
    command_count,
    gateway_env,
    last_command,
    new_tenant,
    query,
)


@pytest.fixture
async def acme(gateway: ServiceProcess) -> AsyncIterator[httpx.AsyncClient]:
    token = await new_tenant(gateway.base_url, "acme", max_stores=3)
    async with httpx.AsyncClient(base_url=gateway.base_url, headers=auth(token)) as http:
        yield http


@pytest.fixture
async def globex(gateway: ServiceProcess) -> AsyncIterator[httpx.AsyncClient]:
    token = await new_tenant(gateway.base_url, "globex")
    async with httpx.AsyncClient(base_url=gateway.base_url, headers=auth(token)) as http:
        yield http


async def test_status_event_is_visible_through_get(
    acme: httpx.AsyncClient, js: JetStreamContext
) -> None:
    assert (await acme.post("/api/v1/stores", json={"id": "live-shop"})).status_code == 202
    now = datetime.now(UTC)
    status = StoreStatus(
        tenant="acme",
        store="live-shop",
        phase=Phase.READY,
        generation=1,
        observed_at=now,
        url="http://live-shop.example.test",
        conditions=[Condition(type="WebReady", status="True", last_transition_time=now)],
    )
    await js.publish(event_subject("acme", "live-shop", EventKind.STATUS), encode(status))

    async def ready() -> dict[str, Any] | None:
        body: dict[str, Any] = (await acme.get("/api/v1/stores/live-shop")).json()
        return body if body["phase"] == "ready" else None

    store = await eventually(ready)
    assert store["url"] == "http://live-shop.example.test"
    assert store["conditions"][0]["type"] == "WebReady"
    events = (await acme.get("/api/v1/stores/live-shop/events")).json()["items"]
    assert [e["type"] for e in events] == ["status"]


async def test_provisioner_failure_shows_reason_and_watcher_cannot_hide_it(
    acme: httpx.AsyncClient, js: JetStreamContext
) -> None:
    await acme.post("/api/v1/stores", json={"id": "bad-shop"})
    now = datetime.now(UTC)
    failed = StoreProgress(
        tenant="acme",
        store="bad-shop",
        generation=1,
        command_id="c1",
        step="apply",
        state=StepState.FAILED,
        at=now,
        phase=Phase.FAILED,
        message="Deployment.apps is invalid: spec.replicas: must be >= 0",
    )
    stale = StoreStatus(
        tenant="acme", store="bad-shop", phase=Phase.PROVISIONING, generation=1, observed_at=now
    )
    await js.publish(event_subject("acme", "bad-shop", EventKind.PROGRESS), encode(failed))
    await js.publish(event_subject("acme", "bad-shop", EventKind.STATUS), encode(stale))

    async def projected() -> dict[str, Any] | None:
        events = (await acme.get("/api/v1/stores/bad-shop/events")).json()["items"]
        body: dict[str, Any] = (await acme.get("/api/v1/stores/bad-shop")).json()
        return body if len(events) == 2 else None

    store = await eventually(projected)
    assert store["phase"] == "failed"
    assert "spec.replicas" in store["message"]


async def test_identical_recreate_is_200_and_different_spec_is_409(
    acme: httpx.AsyncClient, js: JetStreamContext
) -> None:
    body = {"id": "twice", "engine": "woocommerce", "plan": "medium", "display_name": "Twice"}
    assert (await acme.post("/api/v1/stores", json=body)).status_code == 202
    same = await acme.post("/api/v1/stores", json=body)
    assert same.status_code == 200 and same.json()["plan"] == "medium"
    other = await acme.post("/api/v1/stores", json={**body, "plan": "large"})
    assert other.status_code == 409
    assert "already exists" in other.json()["detail"]
    await eventually(lambda: _count_equals(js, 1))


async def _count_equals(js: JetStreamContext, n: int) -> bool:
    return await command_count(js) == n


async def test_other_tenants_stores_are_invisible(
    acme: httpx.AsyncClient, globex: httpx.AsyncClient
) -> None:
    await acme.post("/api/v1/stores", json={"id": "secret-shop"})
    assert (await globex.get("/api/v1/stores")).json()["items"] == []
    missing = await globex.get("/api/v1/stores/no-such-shop")
    for method, path in [
        ("GET", "/api/v1/stores/secret-shop"),
        ("GET", "/api/v1/stores/secret-shop/events"),
        ("GET", "/api/v1/stores/secret-shop/credentials"),
        ("DELETE", "/api/v1/stores/secret-shop"),
    ]:
        r = await globex.request(method, path)
        assert r.status_code == 404, (method, path)
        assert r.json()["detail"] == missing.json()["detail"].replace("no-such-shop", "secret-shop")
    assert (await acme.get("/api/v1/stores/secret-shop")).json()["phase"] == "pending"


async def test_quota_answers_with_a_clear_message(acme: httpx.AsyncClient) -> None:
    for n in range(3):
        assert (await acme.post("/api/v1/stores", json={"id": f"quota-{n}"})).status_code == 202
    over = await acme.post("/api/v1/stores", json={"id": "quota-3"})
    assert over.status_code == 403
    assert "quota reached: 3 of 3" in over.json()["detail"]
    await acme.delete("/api/v1/stores/quota-0")
    # A store being deleted still holds its namespace, so it still counts.
    assert (await acme.post("/api/v1/stores", json={"id": "quota-3"})).status_code == 403


async def test_rate_limit_is_429_with_retry_after(
    nats_server: NatsServer, start_service: StartService, gateway_database: str
) -> None:
    env = gateway_env(nats_server.url, gateway_database, URUMI_RATE_LIMIT_PER_MINUTE="12")
    gw = start_service("gateway", env)
    token = await new_tenant(gw.base_url, "acme")
    async with httpx.AsyncClient(base_url=gw.base_url, headers=auth(token)) as http:
        codes = [(await http.get("/api/v1/stores")).status_code for _ in range(4)]
        limited = await http.get("/api/v1/stores")
    assert codes[:2] == [200, 200]
    assert limited.status_code == 429
    assert int(limited.headers["Retry-After"]) >= 1
    assert "rate limit" in limited.json()["detail"]


async def test_every_mutation_has_an_audit_row(
    acme: httpx.AsyncClient, gateway_database: str
) -> None:
    await acme.post("/api/v1/stores", json={"id": "audited"})
    await acme.post("/api/v1/stores", json={"id": "audited"})  # identical: 200
    await acme.post("/api/v1/stores", json={"id": "Bad"})
    await acme.delete("/api/v1/stores/audited")
    rows = await query(
        gateway_database,
        "SELECT actor, action, target, source, status_code, result FROM audit "
        "WHERE actor = 'tenant:acme' ORDER BY id",
    )
    assert rows == [
        ("tenant:acme", "POST /api/v1/stores", "audited", "127.0.0.1", 202, "ok"),
        ("tenant:acme", "POST /api/v1/stores", "audited", "127.0.0.1", 200, "ok"),
        ("tenant:acme", "POST /api/v1/stores", "", "127.0.0.1", 422, "rejected"),
        ("tenant:acme", "DELETE /api/v1/stores/audited", "audited", "127.0.0.1", 202, "ok"),
    ]
    assert await query(
        gateway_database, "SELECT actor, status_code FROM audit WHERE actor = 'admin'"
    ) == [("admin", 201)]


async def test_a_token_removed_from_the_database_stops_working_within_the_cache_time(
    nats_server: NatsServer, start_service: StartService, gateway_database: str
) -> None:
    gw = start_service(
        "gateway", gateway_env(nats_server.url, gateway_database, URUMI_TOKEN_CACHE_S="1")
    )
    token = await new_tenant(gw.base_url, "revoked")
    async with httpx.AsyncClient(base_url=gw.base_url, headers=auth(token)) as http:
        assert (await http.get("/api/v1/stores")).status_code == 200  # now remembered
        await query(gateway_database, "DELETE FROM tokens WHERE tenant_id = 'revoked'")
        removed = time.monotonic()

        async def refused() -> float | None:
            r = await http.get("/api/v1/stores")
            return time.monotonic() - removed if r.status_code == 401 else None

        took = await eventually(refused, within=5, interval=0.05, what="token refused")
    assert took < 1.5  # the cache time (1 s), and a poll


async def test_oversized_body_is_413(acme: httpx.AsyncClient, gateway_database: str) -> None:
    r = await acme.post("/api/v1/stores", json={"id": "big", "display_name": "x" * 100_000})
    assert r.status_code == 413
    assert await query(gateway_database, "SELECT COUNT(*) FROM stores") == [(0,)]


async def test_tokens_are_required_and_stored_hashed(
    gateway: ServiceProcess, gateway_database: str
) -> None:
    token = await new_tenant(gateway.base_url, "hashed")
    async with httpx.AsyncClient(base_url=gateway.base_url) as http:
        assert (await http.get("/api/v1/stores")).status_code == 401
        bad = await http.get("/api/v1/stores", headers=auth("nope"))
        assert bad.status_code == 401
        admin = await http.get("/api/v1/stores", headers=auth(ADMIN))
        assert admin.status_code == 403
    stored = [row[0] for row in await query(gateway_database, "SELECT hash FROM tokens")]
    assert token not in stored and len(stored[0]) == 64


async def test_delete_is_idempotent_and_recreate_after_deleted_gets_new_generation(
    acme: httpx.AsyncClient, js: JetStreamContext
) -> None:
    await acme.post("/api/v1/stores", json={"id": "cycle"})
    first = await acme.delete("/api/v1/stores/cycle")
    again = await acme.delete("/api/v1/stores/cycle")
    assert (first.status_code, again.status_code) == (202, 202)
    assert first.json()["phase"] == "deleting" and first.json()["generation"] == 2
    busy = await acme.post("/api/v1/stores", json={"id": "cycle"})
    assert busy.status_code == 409 and "being deleted" in busy.json()["detail"]
    gone = StoreStatus(
        tenant="acme",
        store="cycle",
        phase=Phase.DELETED,
        generation=2,
        observed_at=datetime.now(UTC),
    )
    await js.publish(event_subject("acme", "cycle", EventKind.STATUS), encode(gone))

    async def deleted() -> bool:
        return bool((await acme.get("/api/v1/stores/cycle")).json()["phase"] == "deleted")

    await eventually(deleted)
    assert (await acme.get("/api/v1/stores")).json()["items"] == []
    reborn = await acme.post("/api/v1/stores", json={"id": "cycle"})
    assert reborn.status_code == 202 and reborn.json()["generation"] == 3
    await eventually(lambda: _count_equals(js, 3))


async def test_openapi_schema_is_served(gateway: ServiceProcess) -> None:
    async with httpx.AsyncClient(base_url=gateway.base_url) as http:
        doc = (await http.get("/schema/openapi.json")).json()
    assert "/api/v1/stores" in doc["paths"]


async def test_next_steps_are_served_to_anyone(gateway: ServiceProcess) -> None:
    """The dashboard loads the table before anyone signs in."""
    async with httpx.AsyncClient(base_url=gateway.base_url) as http:
        response = await http.get("/api/v1/next-steps")
    assert response.status_code == 200
    table = response.json()
    assert table["reasons"]["ErrImagePull"] == next_step("ErrImagePull")
    assert table["reasons"]["provision"] == next_step("provision")
    assert table["default"] == next_step("a reason no one has seen")


async def _last_command(js: JetStreamContext, store: str) -> CreateStore:
    msg = await js.get_last_msg(streams.COMMANDS.name, command_subject("acme", store))
    command = decode_command(msg.data or b"")
    assert isinstance(command, CreateStore)
    assert msg.headers is not None and msg.headers["Nats-Msg-Id"] == command.command_id
    return command


async def test_plan_change_is_the_next_generation_of_the_same_store(
    acme: httpx.AsyncClient, js: JetStreamContext
) -> None:
    created = await acme.post("/api/v1/stores", json={"id": "grow", "plan": "medium"})
    assert created.json()["storage_plan"] == "medium"
    changed = await acme.patch("/api/v1/stores/grow", json={"plan": "large"})
    assert changed.status_code == 202
    view = changed.json()
    assert (view["plan"], view["storage_plan"], view["generation"]) == ("large", "medium", 2)
    assert (view["phase"], view["reason"]) == ("provisioning", "Updating")
    assert view["message"] == "applying plan medium → large"
    await eventually(lambda: _count_equals(js, 2))
    command = await _last_command(js, "grow")
    assert command.generation == 2
    assert (command.spec.plan, command.spec.storage_plan) == (Plan.LARGE, Plan.MEDIUM)

    # What the watcher says of generation 1 no longer counts; generation 2 does.
    for generation in (1, 2):
        status = StoreStatus("acme", "grow", Phase.READY, generation, datetime.now(UTC))
        await js.publish(event_subject("acme", "grow", EventKind.STATUS), encode(status))

    async def ready() -> dict[str, Any] | None:
        body: dict[str, Any] = (await acme.get("/api/v1/stores/grow")).json()
        return body if body["phase"] == "ready" else None

    assert (await eventually(ready))["generation"] == 2
    # The store as it is now is what an identical create means.
    same = await acme.post("/api/v1/stores", json={"id": "grow", "plan": "large"})
    assert same.status_code == 200
    old = await acme.post("/api/v1/stores", json={"id": "grow", "plan": "medium"})
    assert old.status_code == 409 and "PATCH /api/v1/stores/grow" in old.json()["detail"]


async def test_a_change_that_changes_nothing_is_200_and_sends_nothing(
    acme: httpx.AsyncClient, js: JetStreamContext
) -> None:
    await acme.post("/api/v1/stores", json={"id": "still", "display_name": "Still"})
    for nothing in ({"plan": "small", "display_name": "Still"}, {}, {"plan": None}):
        same = await acme.patch("/api/v1/stores/still", json=nothing)
        assert (same.status_code, same.json()["generation"]) == (200, 1), nothing
    renamed = await acme.patch("/api/v1/stores/still", json={"display_name": "Quiet"})
    assert renamed.status_code == 202
    assert (renamed.json()["display_name"], renamed.json()["plan"]) == ("Quiet", "small")
    await eventually(lambda: _count_equals(js, 2))
    assert (await _last_command(js, "still")).spec.display_name == "Quiet"


async def test_bad_changes_are_refused_and_name_the_field(
    acme: httpx.AsyncClient, globex: httpx.AsyncClient
) -> None:
    await acme.post("/api/v1/stores", json={"id": "fixed"})
    cases = [
        ({"plan": "huge"}, "`plan`"),
        ({"engine": "medusa"}, "`engine`"),
        ({"display_name": "x" * 81}, "`display_name`"),
    ]
    for body, named in cases:
        refused = await acme.patch("/api/v1/stores/fixed", json=body)
        assert refused.status_code == 422, body
        assert named in refused.json()["detail"], refused.json()
    assert (await globex.patch("/api/v1/stores/fixed", json={"plan": "large"})).status_code == 404
    await acme.delete("/api/v1/stores/fixed")
    late = await acme.patch("/api/v1/stores/fixed", json={"plan": "large"})
    assert late.status_code == 409 and "deleting" in late.json()["detail"]
    store = (await acme.get("/api/v1/stores/fixed")).json()
    assert (store["plan"], store["phase"]) == ("small", "deleting")


async def test_sleep_and_wake_are_202_then_200_and_refused_once_deleting(
    acme: httpx.AsyncClient,
    globex: httpx.AsyncClient,
    js: JetStreamContext,
    gateway_database: str,
) -> None:
    await acme.post("/api/v1/stores", json={"id": "nap"})
    slept = await acme.post("/api/v1/stores/nap/sleep")
    assert slept.status_code == 202, slept.text
    view = slept.json()
    assert (view["asleep"], view["generation"], view["phase"]) == (True, 2, "provisioning")
    assert view["reason"] == "FallingAsleep"
    command = await last_command(js, "nap", 2)
    assert (command.generation, command.spec.asleep, command.release_changed) == (2, True, False)
    again = await acme.post("/api/v1/stores/nap/sleep")
    assert (again.status_code, again.json()["generation"]) == (200, 2)
    assert (await globex.post("/api/v1/stores/nap/sleep")).status_code == 404

    status = StoreStatus("acme", "nap", Phase.ASLEEP, 2, datetime.now(UTC))
    await js.publish(event_subject("acme", "nap", EventKind.STATUS), encode(status))

    async def asleep() -> dict[str, Any] | None:
        body: dict[str, Any] = (await acme.get("/api/v1/stores/nap")).json()
        return body if body["phase"] == "asleep" else None

    assert (await eventually(asleep))["asleep"] is True
    woken = await acme.post("/api/v1/stores/nap/wake")
    assert (woken.status_code, woken.json()["generation"], woken.json()["asleep"]) == (
        202,
        3,
        False,
    )
    assert (await last_command(js, "nap", 3)).spec.asleep is False
    assert (await acme.post("/api/v1/stores/nap/wake")).status_code == 200

    await acme.delete("/api/v1/stores/nap")
    for verb in ("sleep", "wake"):
        late = await acme.post(f"/api/v1/stores/nap/{verb}")
        assert late.status_code == 409, late.text
        assert late.json()["detail"] == f"store 'nap' is deleting; it can no longer {verb}"
    rows = await query(
        gateway_database,
        "SELECT action, status_code FROM audit WHERE target = 'nap' AND action NOT LIKE '%/stores' "
        "ORDER BY id",
    )
    assert rows == [
        ("sleep store at generation 2", 202),  # in the change's own transaction
        ("POST /api/v1/stores/nap/sleep", 202),
        ("POST /api/v1/stores/nap/sleep", 200),
        ("POST /api/v1/stores/nap/sleep", 404),  # globex's
        ("wake store at generation 3", 202),
        ("POST /api/v1/stores/nap/wake", 202),
        ("POST /api/v1/stores/nap/wake", 200),
        ("DELETE /api/v1/stores/nap", 202),
        ("POST /api/v1/stores/nap/sleep", 409),
        ("POST /api/v1/stores/nap/wake", 409),
    ]
