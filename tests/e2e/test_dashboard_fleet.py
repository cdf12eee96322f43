"""Fleet upgrades in the dashboard's admin area, in Chromium: sign in with the
admin token, start a fleet upgrade from the form (its refusals shown where they
belong), and follow it live as its stores move and as the API (not the page)
pauses it. All four services run as processes on real NATS and the devcluster:
the stores really are upgraded by the provisioner and seen ready by the watcher."""

import httpx
import pytest
from playwright.async_api import Locator, Page, expect

from tests.e2e.dashboard_support import (
    ADMIN,
    DESKTOP,
    ApiRequests,
    Stack,
    StartStack,
    chromium,
    shot,
)
from tests.fixtures.waiting import eventually

pytestmark = pytest.mark.e2e
OLD, NEW = "woo-2026.05", "woo-2026.11"
FLEETS = "/api/v1/fleet-upgrades"
STORES = ("fleet-a", "fleet-b", "fleet-c")


@pytest.fixture
def stack(devcluster_stack: StartStack) -> Stack:
    return devcluster_stack(list(STORES), {})


async def all_ready(http: httpx.AsyncClient) -> bool:
    stores = (await http.get("/api/v1/stores")).json()["items"]
    return len(stores) == len(STORES) and all(s["phase"] == "ready" for s in stores)


def member(page: Page, store: str) -> Locator:
    """The store's state in its wave's table."""
    return page.locator(f"tr[data-store='{store}'] .badge")


async def test_admin_starts_a_fleet_upgrade_and_follows_it_live(stack: Stack) -> None:
    tenant = {"Authorization": f"Bearer {stack.token}"}
    async with httpx.AsyncClient(base_url=stack.api, headers=tenant) as http:
        for store in STORES:
            created = await http.post("/api/v1/stores", json={"id": store, "release": OLD})
            assert created.status_code == 202, created.text
        await eventually(lambda: all_ready(http), within=120, what="the stores ready")

    async with chromium() as browser:
        page = await browser.new_page(viewport=DESKTOP)
        requests = ApiRequests(page)
        await page.goto(f"{stack.api}/")
        await page.get_by_role("link", name="Platform admin? Sign in with the admin token").click()
        token = page.get_by_label("Admin token")
        # A tenant's token is not the admin's.
        await token.fill(stack.token)
        await page.get_by_role("button", name="Sign in").click()
        await expect(page.locator("#token-error")).to_have_text(
            "That token was not accepted. Check it and try again."
        )
        await token.fill(ADMIN)
        await page.get_by_role("button", name="Sign in").click()
        await page.get_by_role("heading", name="Fleet upgrades").wait_for()
        await page.locator("#live[data-state='live']").wait_for()
        await expect(page.locator("#tenant")).to_have_text("Platform admin")
        await expect(page.locator("#fleet-list")).to_contain_text("No fleet upgrade yet")

        # The target release comes from the catalog, the latest preselected.
        target = page.get_by_label("Upgrade to")
        await expect(target.locator("option")).to_have_text([OLD, f"{NEW} (latest)"])
        await expect(target).to_have_value(NEW)
        start = page.get_by_role("button", name="Start upgrade")

        # The API's 422 names the field; the form says it there.
        await page.get_by_label("Wave size").fill("0")
        await start.click()
        await expect(page.locator("#fleet-wave-error")).to_contain_text("regex")
        await expect(page.get_by_label("Wave size")).to_have_attribute("aria-invalid", "true")
        await page.get_by_label("Wave size").fill("1")
        await page.get_by_label("Failures tolerated").fill("-1")
        await start.click()
        await expect(page.locator("#fleet-max-failures-error")).to_contain_text(">= 0")
        await expect(page.locator("#fleet-wave-error")).to_be_empty()
        await page.get_by_label("Failures tolerated").fill("0")

        # A 409 is a sentence saying why.
        await page.get_by_label("Engine").select_option("Medusa")
        await expect(target.locator("option")).to_have_text(["medusa-2026.11 (latest)"])
        await start.click()
        await expect(page.locator(".create .form-error")).to_have_text(
            "every live medusa store already runs medusa-2026.11 or newer: nothing to upgrade"
        )

        await page.get_by_label("Engine").select_option("WooCommerce")
        await expect(target).to_have_value(NEW)
        await start.click()
        await page.get_by_role("heading", name=f"WooCommerce → {NEW}").wait_for()
        fleet_id = page.url.rsplit("/", 1)[1]

        # Paused through the API, not the page, while wave 1 is in flight: the page
        # says so by itself, wave 1 still ends (its store really upgraded), and
        # wave 2 does not start.
        admin = {"Authorization": f"Bearer {ADMIN}"}
        async with httpx.AsyncClient(base_url=stack.api, headers=admin) as http:
            paused = await http.post(f"{FLEETS}/{fleet_id}/pause")
            assert paused.json()["state"] == "paused", paused.text
        await expect(page.locator(".head-status .badge")).to_have_text("Paused")
        await expect(page.locator("#fleet-message")).to_have_text(
            "paused in wave 1: no new wave starts until resumed"
        )
        await expect(page.locator("#status-heading")).to_have_text("Wave 1 of 3")
        await expect(member(page, "fleet-a")).to_have_text("Upgraded", timeout=60_000)
        await expect(member(page, "fleet-b")).to_have_text("Waiting")
        await expect(page.locator(".fleet-counts")).to_have_text("2 waiting, 1 upgraded (3 stores)")
        await expect(page.get_by_role("button", name="Pause")).to_be_disabled()
        await shot(page, "13-fleet-upgrade-paused")

        # Resumed from the page, then cancelled while wave 2 is in flight: it ends
        # there, and fleet-c is never touched.
        await page.get_by_role("button", name="Resume").click()
        await expect(page.locator("#status-heading")).to_have_text("Wave 2 of 3")
        await page.get_by_role("button", name="Cancel").click()
        await expect(page.get_by_role("button", name="Cancel")).to_be_disabled()
        await expect(page.locator(".head-status .badge")).to_have_text("Cancelled", timeout=60_000)
        await expect(member(page, "fleet-b")).to_have_text("Upgraded")
        await expect(member(page, "fleet-c")).to_have_text("Waiting")
        await expect(page.locator("#fleet-message")).to_have_text(
            "cancelled after wave 2 of 3: 2 upgraded, 1 not started"
        )

        await page.get_by_role("link", name="All fleet upgrades").click()
        row = page.locator(f"[data-fleet='{fleet_id}']")
        await expect(row.locator(".badge")).to_have_text("Cancelled")
        await expect(row.locator(".fleet-counts")).to_have_text("1 waiting, 2 upgraded (3 stores)")
        # Live, never polled: the fleet was read once, when its page opened.
        assert requests.seen.count(f"GET v1/fleet-upgrades/{fleet_id}") == 1

        # The tenant's pages are where they were.
        await page.get_by_role("button", name="Sign out").click()
        await page.get_by_role("link", name="Sign in as a tenant instead").click()
        await page.get_by_label("Access token").fill(stack.token)
        await page.get_by_role("button", name="Sign in").click()
        await page.get_by_role("heading", name="Your stores").wait_for()
        await expect(page.locator("[data-store='fleet-a']")).to_be_visible()
