"""Engine releases in the dashboard, in Chromium: the launch form's release
picker, and the store page's software panel (the release, the notice of a newer
one, and the upgrade); gateway and notifier as processes on real NATS."""

from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from nats.js import JetStreamContext
from playwright.async_api import Route, expect

from services.contracts import subjects, wire
from services.contracts.events import StoreStatus
from services.contracts.phases import Phase
from services.devtools.natsserver import NatsServer
from tests.e2e.dashboard_support import (
    DESKTOP,
    ApiRequests,
    Stack,
    chromium,
    launch,
    service_env,
    shot,
    sign_in,
    start_web,
)
from tests.fixtures.processes import StartService

pytestmark = pytest.mark.e2e
# What the dashboard says each release of charts/releases.yaml pins.
WOO_2026_05 = "wordpress 6.7, woocommerce 9.8.5, storefront latest"
WOO_2026_11 = "wordpress 6.8, woocommerce 9.9.5, storefront latest"


@pytest.fixture
def stack(nats_server: NatsServer, tmp_path: Path, start_service: StartService) -> Stack:
    return start_web(start_service, service_env(nats_server, tmp_path))


async def test_dashboard_shows_a_newer_release_and_upgrades_to_it(
    stack: Stack, js: JetStreamContext
) -> None:
    headers = {"Authorization": f"Bearer {stack.token}"}
    async with httpx.AsyncClient(base_url=stack.api, headers=headers) as http:
        body = {"id": "vintage", "display_name": "Vintage", "release": "woo-2026.05"}
        assert (await http.post("/api/v1/stores", json=body)).status_code == 202
    ready = StoreStatus(stack.tenant, "vintage", Phase.READY, 1, datetime.now(UTC))
    subject = subjects.event_subject(stack.tenant, "vintage", subjects.EventKind.STATUS)
    await js.publish(subject, wire.encode(ready))

    async with chromium() as browser:
        page = await browser.new_page(viewport=DESKTOP)
        requests = ApiRequests(page)
        await sign_in(page, stack)
        await page.goto(f"{stack.api}/#/stores/vintage")
        summary, notice = page.locator("#release-summary"), page.locator("#release-notice")
        await expect(summary).to_have_text(f"Release woo-2026.05: {WOO_2026_05}.")
        await expect(notice).to_have_text(
            f"A newer release is available: woo-2026.11 ({WOO_2026_11})."
        )
        await expect(page.get_by_label("Upgrade to")).to_have_value("woo-2026.11")
        await shot(page, "12-store-upgrade-available")

        await page.get_by_role("button", name="Upgrade").click()
        await expect(page.locator(".head-status .badge")).to_have_text("Provisioning")
        await expect(summary).to_contain_text("Release woo-2026.11: wordpress 6.8")
        await expect(notice).to_be_empty()
        # Nothing newer is left to offer.
        await expect(page.get_by_role("button", name="Upgrade")).to_be_hidden()
        assert "PATCH v1/stores/vintage" in requests.seen
        assert requests.seen.count("GET v1/releases") == 1

    async with httpx.AsyncClient(base_url=stack.api, headers=headers) as http:
        view = (await http.get("/api/v1/stores/vintage")).json()
    assert (view["release"], view["generation"], view["upgrade_available"]) == (
        "woo-2026.11",
        2,
        False,
    )


async def stored_release(stack: Stack, store: str) -> str:
    headers = {"Authorization": f"Bearer {stack.token}"}
    async with httpx.AsyncClient(base_url=stack.api, headers=headers) as http:
        return str((await http.get(f"/api/v1/stores/{store}")).json()["release"])


async def test_dashboard_launches_a_store_at_the_release_picked(stack: Stack) -> None:
    async with chromium() as browser:
        page = await browser.new_page(viewport=DESKTOP)
        requests = ApiRequests(page)
        await sign_in(page, stack)
        release, hint = page.get_by_label("Release", exact=True), page.locator("#release-hint")
        default = release.locator("option:checked")
        await expect(default).to_have_text("woo-2026.11 (default, latest)")
        await expect(hint).to_have_text(f"{WOO_2026_11}.")
        # Each engine lists its own releases.
        await page.get_by_label("Engine").select_option("Medusa")
        await expect(release.locator("option")).to_have_text(["medusa-2026.11 (default, latest)"])
        await expect(hint).to_have_text("medusa 2.21.2.")
        await page.get_by_label("Engine").select_option("WooCommerce")
        await expect(release.locator("option")).to_have_text(
            ["woo-2026.05", "woo-2026.11 (default, latest)"]
        )

        await release.select_option("woo-2026.05")
        await expect(hint).to_have_text(f"{WOO_2026_05}.")
        await launch(page, "Vintage Shop", "vintage-shop")
        await expect(page.locator("#release-summary")).to_have_text(
            f"Release woo-2026.05: {WOO_2026_05}."
        )
        await expect(page.locator("#release-notice")).to_have_text(
            f"A newer release is available: woo-2026.11 ({WOO_2026_11})."
        )
        # The form and the store page share one load of the catalog.
        assert requests.seen.count("GET v1/releases") == 1
    assert await stored_release(stack, "vintage-shop") == "woo-2026.05"


async def test_dashboard_launches_at_the_default_release_without_a_pick_or_a_catalog(
    stack: Stack,
) -> None:
    async with chromium() as browser:
        page = await browser.new_page(viewport=DESKTOP)
        await sign_in(page, stack)
        await expect(page.get_by_label("Release", exact=True)).to_be_enabled()
        await launch(page, "Plain Shop", "plain-shop")
        await expect(page.locator("#release-summary")).to_have_text(
            f"Release woo-2026.11: {WOO_2026_11}."
        )

        # The releases cannot be fetched: the form says so and still launches.
        offline = await browser.new_page(viewport=DESKTOP)

        async def refuse(route: Route) -> None:
            await route.abort("connectionrefused")

        await offline.route("**/api/v1/releases", refuse)
        await sign_in(offline, stack)
        await expect(offline.locator("#release-hint")).to_have_text(
            "Releases could not be loaded; the store gets its engine's default."
        )
        await expect(offline.get_by_label("Release", exact=True)).to_be_disabled()
        await launch(offline, "Fallback Shop", "fallback-shop")
        await expect(offline.locator("#release-summary")).to_have_text("Release woo-2026.11.")
    assert await stored_release(stack, "plain-shop") == "woo-2026.11"
    assert await stored_release(stack, "fallback-shop") == "woo-2026.11"
