"""The dashboard in real Chromium against real services, live without reloading.

`test_dashboard_live_from_the_bus` runs the gateway and notifier as processes on
real NATS and publishes what the provisioner and watcher would: it pins down the
page's behaviour to the event. `test_dashboard_on_devcluster` runs all four
services against the devcluster and a store really provisioned.
"""

import asyncio
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from kubernetes_asyncio.client import ApiClient, BatchV1Api
from nats.js import JetStreamContext
from playwright.async_api import Locator, Page, expect

from services.contracts import subjects, wire
from services.contracts.events import (
    Condition,
    Event,
    KubeEvent,
    StepState,
    StoreProgress,
    StoreStatus,
)
from services.contracts.labels import COMPONENT
from services.contracts.next_steps import next_step
from services.contracts.phases import Phase
from services.devtools.devcluster import DevCluster
from services.devtools.natsserver import NatsServer
from tests.e2e.dashboard_support import (
    DESKTOP,
    PHONE,
    ApiRequests,
    Stack,
    chromium,
    launch,
    record_phases,
    recorded_texts,
    service_env,
    shot,
    sign_in,
    start_on_devcluster,
    start_web,
)
from tests.fixtures.jobs import fail_job
from tests.fixtures.processes import StartService
from tests.integration.gateway_support import create_stores

pytestmark = pytest.mark.e2e
CONDITIONS = ("NamespaceReady", "DatabaseReady", "WebReady", "StoreConfigured", "Routable")


def now() -> datetime:
    return datetime.now(UTC)


async def publish(js: JetStreamContext, event: Event) -> None:
    kind = {
        StoreStatus: subjects.EventKind.STATUS,
        StoreProgress: subjects.EventKind.PROGRESS,
        KubeEvent: subjects.EventKind.KUBE,
    }[type(event)]
    await js.publish(subjects.event_subject(event.tenant, event.store, kind), wire.encode(event))


def conditions(done: int) -> list[Condition]:
    return [Condition(t, "True" if i < done else "False") for i, t in enumerate(CONDITIONS)]


@pytest.fixture
def stack(nats_server: NatsServer, tmp_path: Path, start_service: StartService) -> Stack:
    return start_web(start_service, service_env(nats_server, tmp_path))


async def generation(stack: Stack, store: str) -> int:
    headers = {"Authorization": f"Bearer {stack.token}"}
    async with httpx.AsyncClient(base_url=stack.api, headers=headers) as http:
        view = (await http.get(f"/api/v1/stores/{store}")).json()
    return int(view["generation"])


def badge(page: Page) -> Locator:
    return page.locator(".head-status .badge")


async def test_dashboard_live_from_the_bus(stack: Stack, js: JetStreamContext) -> None:
    async with chromium() as browser:
        page = await browser.new_page(viewport=DESKTOP)
        requests = ApiRequests(page)
        await page.goto(f"{stack.api}/")
        await page.get_by_label("Access token").wait_for()
        await shot(page, "00-sign-in")
        await sign_in(page, stack)
        await shot(page, "01-empty")

        # Inline validation mirrors the API's id rules.
        id_field = page.get_by_label("Store id")
        await id_field.fill("Admin")
        await expect(page.locator("#store_id-error")).to_contain_text("lowercase")
        await id_field.fill("admin")
        await expect(page.locator("#store_id-error")).to_contain_text("reserved")
        await id_field.fill("")

        await launch(page, "Corner Shop", "corner-shop")
        await expect(badge(page)).to_have_text("Pending")
        gen = await generation(stack, "corner-shop")
        t, s = stack.tenant, "corner-shop"

        await publish(js, StoreProgress(t, s, gen, "c1", "provision", StepState.STARTED, now(),
                                        "applying generation 1", Phase.PROVISIONING))  # fmt: skip
        await expect(badge(page)).to_have_text("Provisioning")
        await publish(js, StoreProgress(t, s, gen, "c1", "render", StepState.SUCCEEDED, now(),
                                        "14 objects"))  # fmt: skip
        pulled = "Container image mariadb:11.4 pulled"
        await publish(js, KubeEvent(t, s, f"store-{s}", "Pod", "mariadb-0", "Normal", "Pulled",
                                    pulled, now()))  # fmt: skip
        await publish(js, StoreStatus(t, s, Phase.PROVISIONING, gen, now(), conditions(2),
                                      reason="WebReady", message="web is starting"))  # fmt: skip
        timeline = page.locator("#timeline")
        await expect(timeline).to_contain_text("Prepare resources")
        await expect(timeline).to_contain_text("mariadb:11.4 pulled")
        await expect(page.locator(".checklist .ok")).to_have_count(2)
        await shot(page, "03-store-provisioning")

        url = f"http://{s}.127.0.0.1.nip.io"
        await publish(js, StoreStatus(t, s, Phase.READY, gen, now(), conditions(5), url=url))
        await expect(badge(page)).to_have_text("Ready")
        await expect(page.get_by_role("link", name="Visit store")).to_have_attribute("href", url)
        await shot(page, "04-store-ready")

        await page.get_by_role("link", name="All stores", exact=True).click()
        row = page.locator("[data-store='corner-shop']")
        await expect(row.locator(".badge")).to_have_text("Ready")
        await expect(row).to_contain_text(f"{s}.127.0.0.1.nip.io")

        # An injected failure: its reason and what to do next.
        await launch(page, "Broken Shop", "broken-shop")
        gen_b = await generation(stack, "broken-shop")
        await publish(js, StoreStatus(t, "broken-shop", Phase.FAILED, gen_b, now(), conditions(1),
                                      reason="ImagePullBackOff",
                                      message="web cannot pull wordpress:6.9-php8.3"))  # fmt: skip
        alert = page.get_by_role("alert")
        await expect(alert).to_contain_text("ImagePullBackOff")
        await expect(alert).to_contain_text(f"What to do: {next_step('ImagePullBackOff')}")
        await shot(page, "05-store-failed")

        # Delete with typed confirmation; it leaves the list once deleted.
        delete = page.get_by_role("button", name="Delete this store")
        await expect(delete).to_be_disabled()
        await page.get_by_label("Store id").fill("broken-shop")
        await delete.click()
        await expect(badge(page)).to_have_text("Deleting")
        gen_d = await generation(stack, "broken-shop")
        await publish(js, StoreStatus(t, "broken-shop", Phase.DELETED, gen_d, now()))
        await expect(page.locator("#store-alert")).to_contain_text("was deleted")
        await page.get_by_role("link", name="All stores", exact=True).click()
        await expect(page.locator("[data-store='broken-shop']")).to_have_count(0)
        await expect(page.locator("[data-store='corner-shop']")).to_have_count(1)
        await shot(page, "02-stores")

        # Live means no polling: nothing asks the API while the page sits idle.
        before = list(requests.seen)
        await publish(js, KubeEvent(t, s, f"store-{s}", "Pod", "web-1", "Warning", "BackOff",
                                    "restarting", now()))  # fmt: skip
        await asyncio.sleep(3)
        assert requests.seen == before, requests.seen[len(before) :]

        phone = await browser.new_page(viewport=PHONE, is_mobile=True, has_touch=True)
        await sign_in(phone, stack)
        await shot(phone, "06-phone-stores")
        await phone.locator("[data-store='corner-shop'] .store-name").click()
        await expect(badge(phone)).to_have_text("Ready")
        await shot(phone, "07-phone-store")


async def test_what_to_do_about_a_failed_step_is_the_same_after_a_reload(
    stack: Stack, js: JetStreamContext
) -> None:
    async with chromium() as browser:
        page = await browser.new_page(viewport=DESKTOP)
        await sign_in(page, stack)
        await launch(page, "Step Shop", "step-shop")
        gen = await generation(stack, "step-shop")
        await publish(js, StoreProgress(stack.tenant, "step-shop", gen, "c1", "provision",
                                        StepState.FAILED, now(), "chart values refused",
                                        Phase.FAILED))  # fmt: skip
        alert = page.get_by_role("alert")
        told = f"What to do: {next_step('provision')}"
        await expect(alert).to_contain_text("provision — chart values refused")
        await expect(alert).to_contain_text(told)
        await page.reload()
        await expect(badge(page)).to_have_text("Failed")
        await expect(alert).to_contain_text("provision — chart values refused")
        await expect(alert).to_contain_text(told)


async def test_dashboard_changes_a_stores_plan(stack: Stack, js: JetStreamContext) -> None:
    async with chromium() as browser:
        page = await browser.new_page(viewport=DESKTOP)
        await sign_in(page, stack)
        await launch(page, "Growing Shop", "growing-shop")
        t, s = stack.tenant, "growing-shop"
        await publish(js, StoreStatus(t, s, Phase.READY, 1, now(), conditions(5)))
        await expect(badge(page)).to_have_text("Ready")

        change = page.get_by_role("button", name="Change plan")
        await expect(change).to_be_disabled()
        await expect(page.locator("#plan-hint")).to_contain_text("Small plan it was created with")
        await page.get_by_label("Choose a plan").select_option("large")
        await change.click()
        await expect(badge(page)).to_have_text("Provisioning")
        await expect(page.locator(".store-meta")).to_contain_text("large plan")
        assert await generation(stack, s) == 2
        # What the cluster said of the old generation does not end the change.
        await publish(js, StoreStatus(t, s, Phase.READY, 1, now(), conditions(5)))
        await publish(js, StoreStatus(t, s, Phase.PROVISIONING, 2, now(), conditions(4),
                                      reason="WebReady", message="rolling out"))  # fmt: skip
        await expect(page.locator("#timeline")).to_contain_text("rolling out")
        await expect(badge(page)).to_have_text("Provisioning")
        await publish(js, StoreStatus(t, s, Phase.READY, 2, now(), conditions(5)))
        await expect(badge(page)).to_have_text("Ready")
        await expect(change).to_be_disabled()
        await shot(page, "08-store-plan-changed")


async def test_dashboard_resumes_after_notifier_restart(stack: Stack, js: JetStreamContext) -> None:
    async with chromium() as browser:
        page = await browser.new_page(viewport=DESKTOP)
        await sign_in(page, stack)
        await launch(page, "Night Owl", "night-owl")
        gen = await generation(stack, "night-owl")
        # The notifier goes away; what is published meanwhile must still arrive.
        stack.notifier.stop()
        await expect(page.locator("#live")).to_have_attribute("data-state", "offline")
        await publish(js, StoreStatus(stack.tenant, "night-owl", Phase.PROVISIONING, gen, now()))
        scheduled = "assigned to node kwok-0"
        await publish(js, KubeEvent(stack.tenant, "night-owl", "store-night-owl", "Pod", "web-0",
                                    "Normal", "Scheduled", scheduled, now()))  # fmt: skip
        stack.notifier.start()
        stack.notifier.wait_ready()
        await expect(page.locator("#live")).to_have_attribute("data-state", "live", timeout=30_000)
        await expect(badge(page)).to_have_text("Provisioning")
        await expect(page.locator("#timeline")).to_contain_text("assigned to node kwok-0")


async def test_dashboard_lists_stores_beyond_one_page(
    nats_server: NatsServer, tmp_path: Path, start_service: StartService
) -> None:
    env = service_env(nats_server, tmp_path, {"URUMI_RATE_LIMIT_PER_MINUTE": "100000"})
    stack = start_web(start_service, env, max_stores=600)
    many = 501  # the API answers 500 stores a page
    await create_stores(stack.api, stack.token, [f"shop-{i:03d}" for i in range(many)])
    async with chromium() as browser:
        page = await browser.new_page(viewport=DESKTOP)
        await sign_in(page, stack)
        await expect(page.locator("#store-count")).to_have_text("501 of 600 stores in use")
        await expect(page.locator(".store-row")).to_have_count(many)
        for oldest_and_newest in ("shop-000", "shop-500"):
            await expect(page.locator(f"[data-store='{oldest_and_newest}']")).to_be_visible()


async def fail_setup_job(kube: ApiClient, store: str) -> None:
    """What the Job controller writes once the setup Job's retries are spent."""
    batch, ns = BatchV1Api(kube), f"store-{store}"

    async def job() -> str | None:
        jobs = await batch.list_namespaced_job(ns, label_selector=f"{COMPONENT}=setup")
        return jobs.items[0].metadata.name if jobs.items else None

    name = None
    for _ in range(2400):  # often: kwok completes the Job's pod about a second after
        name = await job()
        if name:
            break
        await asyncio.sleep(0.05)
    assert name, f"no setup job in {ns}"
    await fail_job(batch, name, ns)


async def test_dashboard_on_devcluster(
    nats_server: NatsServer,
    tmp_path: Path,
    start_service: StartService,
    devcluster: DevCluster,
    kube: ApiClient,
) -> None:
    stack = start_on_devcluster(start_service, nats_server, tmp_path, devcluster)
    async with chromium() as browser:
        page = await browser.new_page(viewport=DESKTOP)
        loads: list[int] = []
        page.on("load", lambda _page: loads.append(1))
        await sign_in(page, stack)
        await record_phases(page, "real-shop")
        loaded = len(loads)
        await page.get_by_label("Store name").fill("Real Shop")
        await page.get_by_role("button", name="Launch store").click()
        await page.get_by_role("heading", name="Real Shop").wait_for()
        await expect(badge(page)).to_have_text("Ready", timeout=240_000)
        phases = await recorded_texts(page)
        assert phases == ["Pending", "Provisioning", "Ready"], phases
        assert len(loads) == loaded, "the page must not reload"
        await expect(page.get_by_role("link", name="Visit store")).to_be_visible()
        await expect(page.locator("#timeline")).to_contain_text("Create resource")
        await shot(page, "10-devcluster-ready")

        await page.get_by_role("link", name="All stores", exact=True).click()
        await page.get_by_label("Store name").fill("Faulty Shop")
        await page.get_by_role("button", name="Launch store").click()
        await page.get_by_role("heading", name="Faulty Shop").wait_for()
        await fail_setup_job(kube, "faulty-shop")
        await expect(badge(page)).to_have_text("Failed", timeout=120_000)
        await expect(page.get_by_role("alert")).to_contain_text("JobFailed")
        await expect(page.get_by_role("alert")).to_contain_text("What to do")
        await shot(page, "11-devcluster-failed")

        await page.goto(f"{stack.api}/#/stores/real-shop")
        await page.get_by_label("Store id").fill("real-shop")
        await page.get_by_role("button", name="Delete this store").click()
        await expect(badge(page)).to_have_text("Deleting")
        await expect(page.locator("#store-alert")).to_contain_text("was deleted", timeout=180_000)
        await page.get_by_role("link", name="All stores", exact=True).click()
        await expect(page.locator("[data-store='real-shop']")).to_have_count(0)
