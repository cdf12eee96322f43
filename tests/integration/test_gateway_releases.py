"""Engine releases at the API: create at the default or a named release, upgrade
with PATCH, refuse what cannot be (a gateway process on real NATS)."""

from typing import Any

import httpx
from nats.js import JetStreamContext

from services.devtools.procs import ServiceProcess
from tests.integration.gateway_support import ADMIN, auth, command_count, last_command, query

OLD, NEW, MEDUSA = "woo-2026.05", "woo-2026.11", "medusa-2026.11"


def _release(view: dict[str, Any]) -> tuple[str, str, bool]:
    return view["release"], view["latest_release"], view["upgrade_available"]


async def test_the_catalog_lists_each_engines_releases_oldest_first(
    acme: httpx.AsyncClient,
) -> None:
    engines = {e["engine"]: e for e in (await acme.get("/api/v1/releases")).json()["engines"]}
    woo = engines["woocommerce"]
    assert (woo["default"], woo["latest"]) == (NEW, NEW)
    assert [r["name"] for r in woo["releases"]] == [OLD, NEW]
    assert woo["releases"][1]["versions"]["woocommerce"] == "9.9.5"
    assert "values" not in woo["releases"][1]  # the operator's registries stay private
    assert engines["medusa"]["default"] == MEDUSA
    # The OpenAPI document names them too: what a client may send, per engine.
    schemas = (await acme.get("/schema/openapi.json")).json()["components"]["schemas"]
    per_engine = {
        branch["properties"]["engine"]["enum"][0]: branch["properties"]["release"]["enum"]
        for branch in schemas["CreateStoreRequest"]["anyOf"]
    }
    assert per_engine == {"woocommerce": ["", OLD, NEW], "medusa": ["", MEDUSA]}
    assert schemas["UpdateStoreRequest"]["properties"]["release"]["enum"] == [
        OLD,
        NEW,
        MEDUSA,
        None,
    ]


async def test_the_admin_reads_the_catalog_too_and_nobody_without_a_token(
    gateway: ServiceProcess, acme: httpx.AsyncClient
) -> None:
    async with httpx.AsyncClient(base_url=gateway.base_url) as anonymous:
        assert (await anonymous.get("/api/v1/releases")).status_code == 401
        # The fleet upgrades page picks the target release from it.
        admin = await anonymous.get("/api/v1/releases", headers=auth(ADMIN))
    assert admin.status_code == 200
    assert admin.json() == (await acme.get("/api/v1/releases")).json()


async def test_a_store_is_created_at_its_engines_default_or_a_named_release(
    acme: httpx.AsyncClient, js: JetStreamContext
) -> None:
    default = await acme.post("/api/v1/stores", json={"id": "plain"})
    assert default.status_code == 202
    assert _release(default.json()) == (NEW, NEW, False)
    assert (await last_command(js, "plain", 1)).spec.release == NEW

    medusa = await acme.post("/api/v1/stores", json={"id": "headless", "engine": "medusa"})
    assert _release(medusa.json()) == (MEDUSA, MEDUSA, False)
    assert (await last_command(js, "headless", 2)).spec.release == MEDUSA

    older = await acme.post("/api/v1/stores", json={"id": "vintage", "release": OLD})
    assert older.status_code == 202
    assert _release(older.json()) == (OLD, NEW, True)
    assert (await last_command(js, "vintage", 3)).spec.release == OLD
    listed = {s["id"]: s for s in (await acme.get("/api/v1/stores")).json()["items"]}
    assert _release(listed["vintage"]) == (OLD, NEW, True)

    # A re-create is identical whether it names the release or leaves it out.
    for body in ({"id": "vintage"}, {"id": "vintage", "release": OLD}):
        assert (await acme.post("/api/v1/stores", json=body)).status_code == 200
    other = await acme.post("/api/v1/stores", json={"id": "vintage", "release": NEW})
    assert other.status_code == 409 and "PATCH /api/v1/stores/vintage" in other.json()["detail"]


async def test_an_unknown_release_is_refused_naming_the_field_and_the_valid_ones(
    acme: httpx.AsyncClient, js: JetStreamContext
) -> None:
    cases = [
        ({"id": "shop", "release": "woo-1999.01"}, f"woocommerce (releases: {OLD}, {NEW})"),
        ({"id": "shop", "release": MEDUSA}, "a release of medusa, and this store's engine is"),
        ({"id": "shop", "engine": "medusa", "release": NEW}, f"(its releases: {MEDUSA})"),
        ({"id": "shop", "release": "Woo 2026"}, "Expected `str` matching regex"),
    ]
    for body, message in cases:
        refused = await acme.post("/api/v1/stores", json=body)
        assert refused.status_code == 422, body
        error = refused.json()
        assert [e["field"] for e in error["errors"]] == ["release"], error
        assert message in error["detail"], error
    assert (await acme.get("/api/v1/stores")).json()["items"] == []
    assert await command_count(js) == 0


async def test_patch_release_upgrades_at_the_next_generation(
    acme: httpx.AsyncClient, js: JetStreamContext
) -> None:
    await acme.post("/api/v1/stores", json={"id": "shop", "release": OLD, "plan": "medium"})
    upgraded = await acme.patch("/api/v1/stores/shop", json={"release": NEW})
    assert upgraded.status_code == 202
    view = upgraded.json()
    assert (view["generation"], view["phase"], view["plan"]) == (2, "provisioning", "medium")
    assert view["message"] == f"applying release {OLD} → {NEW}"
    assert _release(view) == (NEW, NEW, False)
    command = await last_command(js, "shop", 2)
    assert (command.generation, command.spec.release, command.spec.plan) == (2, NEW, "medium")

    same = await acme.patch("/api/v1/stores/shop", json={"release": NEW})
    assert (same.status_code, same.json()["generation"]) == (200, 2)
    wrong = await acme.patch("/api/v1/stores/shop", json={"release": MEDUSA})
    assert wrong.status_code == 409 and "`release`: " in wrong.json()["detail"]
    assert "this store's engine is woocommerce" in wrong.json()["detail"]
    unknown = await acme.patch("/api/v1/stores/shop", json={"release": "woo-1999.01"})
    assert unknown.status_code == 422 and unknown.json()["errors"][0]["field"] == "release"
    assert f"(releases: {OLD}, {NEW})" in unknown.json()["detail"]
    assert (await acme.get("/api/v1/stores/shop")).json()["generation"] == 2


async def test_a_downgrade_is_refused_unless_asked_for(
    acme: httpx.AsyncClient, js: JetStreamContext
) -> None:
    await acme.post("/api/v1/stores", json={"id": "shop"})
    refused = await acme.patch("/api/v1/stores/shop", json={"release": OLD})
    assert refused.status_code == 409
    detail = refused.json()["detail"]
    assert f"`release` {OLD} is older than the store's {NEW}" in detail
    assert "migrations are one-way" in detail and "allow_downgrade: true" in detail
    assert (await acme.get("/api/v1/stores/shop")).json()["release"] == NEW

    forced = await acme.patch("/api/v1/stores/shop", json={"release": OLD, "allow_downgrade": True})
    assert forced.status_code == 202
    assert _release(forced.json()) == (OLD, NEW, True)
    assert (await last_command(js, "shop", 2)).spec.release == OLD


async def test_a_store_from_before_releases_runs_the_legacy_release(
    acme: httpx.AsyncClient, js: JetStreamContext, gateway_database: str
) -> None:
    """A row without a release (made before migration 5) shows the legacy release,
    and changing its plan keeps its spec without one, as the provisioner knows it."""
    await acme.post("/api/v1/stores", json={"id": "elder"})
    await query(gateway_database, "UPDATE stores SET release = '' WHERE id = 'elder'")
    assert _release((await acme.get("/api/v1/stores/elder")).json()) == (NEW, NEW, False)
    resized = await acme.patch("/api/v1/stores/elder", json={"plan": "large"})
    assert resized.status_code == 202 and resized.json()["release"] == NEW
    assert (await last_command(js, "elder", 2)).spec.release == ""
    same = await acme.patch("/api/v1/stores/elder", json={"release": NEW})
    assert (same.status_code, same.json()["generation"]) == (200, 2)
