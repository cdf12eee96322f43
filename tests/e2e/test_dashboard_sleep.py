"""Sleeping stores in Chromium: the store page's Sleep panel puts a store to
sleep and wakes it, live, and a shopper's first visit to the sleeping store's
address wakes it when its plan allows. All four services run as processes on
real NATS and the devcluster: the store's pods really stop and start again.

Chromium resolves every store host to the gateway, as the ingress controller
routes a sleeping store's host there (through its ExternalName Service)."""

from urllib.parse import urlsplit

import pytest
from kubernetes_asyncio.client import ApiClient, CoreV1Api
from playwright.async_api import Request, expect

from tests.e2e.dashboard_support import (
    DESKTOP,
    Stack,
    StartStack,
    chromium,
    launch,
    record_phases,
    recorded_texts,
    shot,
    sign_in,
)
from tests.fixtures.waiting import eventually

pytestmark = pytest.mark.e2e
BASE_DOMAIN = "shops.test"
STORE = "corner-shop"


@pytest.fixture
def stack(devcluster_stack: StartStack) -> Stack:
    return devcluster_stack([STORE], {"URUMI_BASE_DOMAIN": BASE_DOMAIN})


async def running_pods(kube: ApiClient) -> int:
    pods = (await CoreV1Api(kube).list_namespaced_pod(f"store-{STORE}")).items
    return sum(p.status.phase not in ("Succeeded", "Failed") for p in pods)


async def test_the_sleep_panel_and_a_shoppers_visit_wake_a_store_live(
    stack: Stack, kube: ApiClient
) -> None:
    gateway = urlsplit(stack.api).netloc
    async with chromium(f"--host-resolver-rules=MAP *.{BASE_DOMAIN} {gateway}") as browser:
        page = await browser.new_page(viewport=DESKTOP)
        loads: list[int] = []
        page.on("load", lambda _page: loads.append(1))
        await sign_in(page, stack)
        await page.get_by_label("Plan").select_option("Medium")
        await launch(page, "Corner Shop", STORE)
        badge = page.locator(".head-status .badge")
        await expect(badge).to_have_text("Ready", timeout=120_000)
        await record_phases(page, STORE)
        loaded = len(loads)

        sleep = page.get_by_role("form", name="Sleep")
        await expect(sleep).to_contain_text("on the medium plan a shopper's first visit wakes it")
        await sleep.get_by_role("button", name="Put this store to sleep").click()
        await expect(badge).to_have_text("Asleep", timeout=120_000)
        assert await running_pods(kube) == 0
        await expect(sleep.get_by_role("button", name="Wake this store")).to_be_enabled()
        await expect(sleep).to_contain_text("A shopper's first visit wakes it")
        await expect(page.get_by_role("link", name="Visit store")).to_have_count(0)
        progress = page.locator("#store-progress")
        await expect(progress).to_contain_text("Asleep: no pod runs, its data is kept")
        await expect(progress).to_contain_text("Waking it starts its database and web server")
        await expect(progress).not_to_contain_text("running")
        await shot(page, "14-store-asleep")

        await sleep.get_by_role("button", name="Wake this store").click()
        await expect(badge).to_have_text("Ready", timeout=120_000)
        assert await running_pods(kube) > 0
        await expect(sleep.get_by_role("button", name="Put this store to sleep")).to_be_enabled()
        await expect(progress).to_contain_text("Web server running")
        assert await recorded_texts(page) == [
            "Ready",
            "Provisioning",
            "Asleep",
            "Provisioning",
            "Ready",
        ]

        # Asleep again; a shopper opens the store's address in another tab.
        await sleep.get_by_role("button", name="Put this store to sleep").click()
        await expect(badge).to_have_text("Asleep", timeout=120_000)
        shopper = await browser.new_page(viewport=DESKTOP)
        asked: list[str] = []

        def on_request(request: Request) -> None:
            if request.url.startswith(f"http://{STORE}.{BASE_DOMAIN}/"):
                asked.append(request.resource_type)

        shopper.on("request", on_request)
        answer = await shopper.goto(f"http://{STORE}.{BASE_DOMAIN}/product/tea/")
        assert answer is not None and answer.status == 503
        await expect(shopper.get_by_role("heading")).to_have_text("Corner Shop is waking up")
        await shot(shopper, "15-store-waking-up")
        await expect(badge).to_have_text("Ready", timeout=120_000)
        assert await running_pods(kube) > 0
        # The waking page keeps asking for itself in the background meanwhile
        # (here the gateway answers the store's host even once it is awake).
        await eventually(lambda: asked.count("fetch") >= 2, within=20, what="asked again")
        await expect(page.locator("#timeline")).to_contain_text("asleep")
        assert len(loads) == loaded, "the store's page must not reload"
