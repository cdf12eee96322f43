"""Gateway + notifier as processes and the dashboard in Debian's Chromium."""

import contextlib
import os
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path

import httpx
from playwright.async_api import Browser, Page, Request, ViewportSize, async_playwright, expect

from services.devtools.devcluster import DevCluster
from services.devtools.natsserver import NatsServer
from services.devtools.procs import ServiceProcess
from services.devtools.renderer import render_binary
from tests.fixtures.processes import StartService

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ADMIN = "e2e-admin-token"
TICKET_SECRET = "e2e-ticket-secret"
SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
PHONE = ViewportSize(width=390, height=844)
DESKTOP = ViewportSize(width=1280, height=860)


@dataclass
class Stack:
    api: str
    token: str
    tenant: str
    notifier: ServiceProcess


def service_env(nats: NatsServer, tmp: Path, extra: dict[str, str] | None = None) -> dict[str, str]:
    return {
        "URUMI_NATS_URL": nats.url,
        "URUMI_DATABASE": str(tmp / "urumi.db"),
        "URUMI_ADMIN_TOKEN": ADMIN,
        "URUMI_TICKET_SECRET": TICKET_SECRET,
        "URUMI_LOG_LEVEL": "INFO",
        **(extra or {}),
    }


def start_web(
    start_service: StartService, env: dict[str, str], tenant: str = "acme", max_stores: int = 10
) -> Stack:
    """Notifier first, so the gateway can hand out its URL in tickets."""
    notifier = start_service("notifier", env)
    ws = f"ws://127.0.0.1:{notifier.http_port}/ws"
    gateway = start_service("gateway", {**env, "URUMI_NOTIFIER_URL": ws})
    created = httpx.post(
        f"{gateway.base_url}/api/v1/tenants",
        json={"id": tenant, "display_name": "Acme Goods", "max_stores": max_stores},
        headers={"Authorization": f"Bearer {ADMIN}"},
    )
    created.raise_for_status()
    return Stack(gateway.base_url, created.json()["token"], tenant, notifier)


# tests/e2e/conftest.py's `devcluster_stack`: (stores to delete after, settings).
StartStack = Callable[[list[str], dict[str, str]], Stack]


def start_on_devcluster(
    start_service: StartService,
    nats: NatsServer,
    tmp: Path,
    devcluster: DevCluster,
    extra: dict[str, str] | None = None,
) -> Stack:
    """All four services as processes on real NATS and the devcluster: stores
    really provisioned and watched."""
    kube = {
        "URUMI_KUBECONFIG": str(devcluster.kubeconfig),
        "URUMI_RENDER_BINARY": str(render_binary()),
    }
    env = service_env(nats, tmp, {**kube, **(extra or {})})
    start_service("provisioner", env)
    start_service("watcher", env)
    return start_web(start_service, env)


def tenant_http(stack: Stack) -> httpx.AsyncClient:
    """The API as the stack's tenant: what a test sets up or checks beside the page."""
    return httpx.AsyncClient(base_url=stack.api, headers={"Authorization": f"Bearer {stack.token}"})


def _require_chromium() -> None:
    if not Path(CHROMIUM).exists():
        raise RuntimeError(f"{CHROMIUM} is missing: apt-get install -y chromium")


@contextlib.asynccontextmanager
async def chromium(*args: str) -> AsyncIterator[Browser]:
    """Chromium with CHROMIUM_ARGS and `args`."""
    _require_chromium()
    async with async_playwright() as pw:
        launched = [*CHROMIUM_ARGS, *args]
        browser = await pw.chromium.launch(executable_path=CHROMIUM, args=launched)
        try:
            yield browser
        finally:
            await browser.close()


class ApiRequests:
    """Every request the page makes to the API, to prove it never polls."""

    def __init__(self, page: Page) -> None:
        self.seen: list[str] = []
        page.on("request", self._on)

    def _on(self, request: Request) -> None:
        if "/api/" in request.url:
            self.seen.append(f"{request.method} {request.url.split('/api/', 1)[1]}")


async def sign_in(page: Page, stack: Stack) -> None:
    await page.goto(f"{stack.api}/")
    await page.get_by_label("Access token").fill(stack.token)
    await page.get_by_role("button", name="Sign in").click()
    await page.get_by_role("heading", name="Your stores").wait_for()
    await page.locator("#live[data-state='live']").wait_for()


async def launch(page: Page, name: str, store_id: str) -> None:
    """Launch a store from the form, its id the one suggested by its name."""
    await page.get_by_label("Store name").fill(name)
    await expect(page.get_by_label("Store id")).to_have_value(store_id)
    await page.get_by_role("button", name="Launch store").click()
    await page.get_by_role("heading", name=name).wait_for()


async def shot(page: Page, name: str) -> None:
    """docs/screenshots/<name>.png, only when URUMI_SCREENSHOTS=1 (keeps test runs clean)."""
    if os.environ.get("URUMI_SCREENSHOTS") != "1":
        return
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


async def record_texts(page: Page, selector: str) -> None:
    """From now on, the text of the first element `selector` finds each time it
    changes, without a reload: see `recorded_texts`. Replaces what was recorded."""
    await page.evaluate(
        """(selector) => {
  window.__recorder?.disconnect();
  window.__texts = [];
  const record = () => {
    const el = document.querySelector(selector);
    const text = el && el.textContent.trim();
    if (text && window.__texts[window.__texts.length - 1] !== text) window.__texts.push(text);
  };
  window.__recorder = new MutationObserver(record);
  window.__recorder.observe(document.body, {subtree: true, childList: true, characterData: true});
  record();
}""",
        selector,
    )


async def recorded_texts(page: Page) -> list[str]:
    seen: list[str] = await page.evaluate("window.__texts")
    return seen


async def record_phases(page: Page, store: str) -> None:
    """From now on, the store's badge (on its page, or its row in the list)
    each time its text changes: see `recorded_texts`."""
    await record_texts(page, f".head-status .badge, [data-store='{store}'] .badge")
