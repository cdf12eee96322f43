"""The store page's software panel in Chromium: the release, the notice of a
newer one, and the upgrade (gateway and notifier as processes on real NATS)."""

from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from nats.js import JetStreamContext
from playwright.async_api import expect

from services.contracts import subjects, wire
from services.contracts.events import StoreStatus
from services.contracts.phases import Phase
from services.devtools.natsserver import NatsServer
from tests.e2e.dashboard_support import (
    DESKTOP,
    ApiRequests,
    Stack,
    chromium,
    service_env,
    shot,
    sign_in,
    start_web,
)
from tests.fixtures.processes import StartService

pytestmark = pytest.mark.e2e


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
        await expect(summary).to_have_text(
            "Release woo-2026.05: wordpress 6.7, woocommerce 9.8.5, storefront latest."
        )
        await expect(notice).to_have_text(
            "A newer release is available: woo-2026.11 "
            "(wordpress 6.8, woocommerce 9.9.5, storefront latest)."
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
