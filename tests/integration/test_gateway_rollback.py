"""Rollback at the API: a store returns to its previous generation's spec, by
request or by itself when an upgrade fails, with audit rows (a gateway process
on real NATS, on each database backend)."""

from datetime import UTC, datetime
from typing import Any

import httpx
from nats.js import JetStreamContext

from services.contracts.events import StepState, StoreProgress
from services.contracts.phases import Phase
from services.contracts.subjects import EventKind, event_subject
from services.contracts.wire import encode
from tests.fixtures.waiting import eventually
from tests.integration.gateway_support import command_count, last_command, query

OLD, NEW = "woo-2026.05", "woo-2026.11"


async def _fail(js: JetStreamContext, store: str, generation: int, why: str) -> None:
    """The provisioner's report that `generation` failed."""
    failed = StoreProgress(
        tenant="acme",
        store=store,
        generation=generation,
        command_id="c",
        step="render",
        state=StepState.FAILED,
        at=datetime.now(UTC),
        phase=Phase.FAILED,
        message=why,
    )
    await js.publish(event_subject("acme", store, EventKind.PROGRESS), encode(failed))


async def _audit(database: str, store: str) -> list[tuple[Any, ...]]:
    sql = f"SELECT actor, action FROM audit WHERE target = '{store}' ORDER BY id"  # noqa: S608
    return await query(database, sql)


async def test_rollback_returns_the_previous_spec_at_a_new_generation(
    acme: httpx.AsyncClient, js: JetStreamContext, gateway_database: str
) -> None:
    await acme.post("/api/v1/stores", json={"id": "shop", "release": OLD, "display_name": "Old"})
    changed = {"release": NEW, "plan": "medium", "display_name": "New"}
    assert (await acme.patch("/api/v1/stores/shop", json=changed)).status_code == 202
    preview = await acme.get("/api/v1/stores/shop/rollback")
    assert preview.json() == {
        "generation": 1,
        "release": OLD,
        "plan": "small",
        "display_name": "Old",
    }

    back = await acme.post("/api/v1/stores/shop/rollback")
    assert back.status_code == 202
    view = back.json()
    assert (view["generation"], view["phase"], view["release"]) == (3, "provisioning", OLD)
    assert (view["plan"], view["display_name"]) == ("small", "Old")
    assert view["message"] == (
        f"rolling back to generation 1's spec: release {NEW} → {OLD}, plan medium → small, "
        "the previous name"
    )
    command = await last_command(js, "shop", 3)
    assert (command.generation, command.spec.release, command.spec.plan) == (3, OLD, "small")
    assert command.spec.display_name == "Old" and command.release_changed
    assert command.actor == "tenant:acme"

    steps = (await acme.get("/api/v1/stores/shop/events")).json()["items"]
    assert [(e["event"]["step"], e["generation"]) for e in steps] == [("rollback", 3)]
    assert await _audit(gateway_database, "shop") == [
        ("tenant:acme", "POST /api/v1/stores"),
        ("tenant:acme", f"upgrade store to generation 2: release {OLD} → {NEW}"),
        ("tenant:acme", "PATCH /api/v1/stores/shop"),
        ("tenant:acme", f"rollback store to generation 3: release {NEW} → {OLD}"),
        ("tenant:acme", "POST /api/v1/stores/shop/rollback"),
    ]


async def test_nothing_to_roll_back_to_unknown_and_deleted_stores_are_refused(
    acme: httpx.AsyncClient, js: JetStreamContext
) -> None:
    await acme.post("/api/v1/stores", json={"id": "fresh"})
    first = await acme.post("/api/v1/stores/fresh/rollback")
    assert first.status_code == 409
    assert "has nothing to roll back to: generation 1 is its first spec" in first.json()["detail"]
    assert (await acme.get("/api/v1/stores/fresh/rollback")).status_code == 409

    unknown = await acme.post("/api/v1/stores/nowhere/rollback")
    assert (unknown.status_code, unknown.json()["detail"]) == (404, "no store 'nowhere'")

    await acme.patch("/api/v1/stores/fresh", json={"plan": "large"})
    await acme.delete("/api/v1/stores/fresh")
    deleting = await acme.post("/api/v1/stores/fresh/rollback")
    assert deleting.status_code == 409
    assert deleting.json()["detail"] == "store 'fresh' is deleting; it can no longer roll back"

    async def relayed() -> int | None:
        n = await command_count(js)
        return n if n >= 3 else None

    # The relay publishes after the answer: create, change, delete; no rollback.
    assert await eventually(relayed, what="3 commands published") == 3


async def test_a_failed_upgrade_rolls_itself_back_once(
    acme: httpx.AsyncClient, js: JetStreamContext, gateway_database: str
) -> None:
    await acme.post("/api/v1/stores", json={"id": "shop", "release": OLD})
    await acme.patch("/api/v1/stores/shop", json={"release": NEW})
    await _fail(js, "shop", 2, "ImagePullBackOff")

    rolled = await last_command(js, "shop", 3)
    assert (rolled.generation, rolled.spec.release, rolled.actor) == (
        3,
        OLD,
        "system:auto-rollback",
    )
    view = (await acme.get("/api/v1/stores/shop")).json()
    assert (view["generation"], view["release"], view["phase"]) == (3, OLD, "provisioning")
    said = f"upgrade to {NEW} failed (ImagePullBackOff); rolled back to {OLD}"
    assert view["message"] == said
    steps = [e["event"] for e in (await acme.get("/api/v1/stores/shop/events")).json()["items"]]
    assert {"step": "rollback", "state": "started", "message": said}.items() <= steps[-1].items()
    assert (await _audit(gateway_database, "shop"))[-1] == (
        "system:auto-rollback",
        f"auto-rollback store to generation 3: release {NEW} → {OLD}",
    )

    # The rollback fails too: the store stays failed, saying so, and nothing loops.
    await _fail(js, "shop", 3, "render failed")

    async def failed() -> dict[str, Any] | None:
        body: dict[str, Any] = (await acme.get("/api/v1/stores/shop")).json()
        return body if body["phase"] == "failed" else None

    stuck = await eventually(failed)
    assert stuck["generation"] == 3
    assert stuck["message"].startswith(f"automatic rollback to {OLD} failed (render failed)")
    assert await command_count(js) == 3
