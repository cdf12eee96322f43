"""A store on its own domain in Chromium: the store page's Domains panel adds a
domain (a refusal at the field, or as the API's sentence), shows the DNS
records to set, copyable, and follows the domain live from pending-dns to
active once the records are published, then removes it, confirmed. All four
services run as processes on real NATS and the devcluster; the gateway looks
the records up in a real DNS server on loopback, as it would at the tenant's
DNS provider. Store TLS is off, so no certificate is waited for."""

import pytest
from playwright.async_api import expect

from tests.e2e.dashboard_support import (
    DESKTOP,
    ApiRequests,
    Stack,
    StartStack,
    chromium,
    launch,
    record_texts,
    recorded_texts,
    shot,
    sign_in,
    tenant_http,
)
from tests.fixtures.dns import LoopbackDns

pytestmark = pytest.mark.e2e
BASE_DOMAIN = "shops.test"
STORE, OTHER = "tea-house", "tea-annex"
DOMAIN = "shop.example.com"
CHALLENGE = f"_urumi-challenge.{DOMAIN}"


@pytest.fixture
def stack(devcluster_stack: StartStack, dns_server: LoopbackDns) -> Stack:
    settings = {
        "URUMI_BASE_DOMAIN": BASE_DOMAIN,
        "URUMI_DNS_NAMESERVER": dns_server.nameserver,
        "URUMI_DOMAIN_CHECK_S": "0.5",
        "URUMI_DOMAIN_RECHECK_S": "1",
    }
    return devcluster_stack([STORE, OTHER], settings)


async def test_the_domains_panel_adds_a_domain_and_follows_it_to_active_live(
    stack: Stack, dns_server: LoopbackDns
) -> None:
    async with chromium() as browser, tenant_http(stack) as http:
        # Another store of the tenant already has the domain the page tries second.
        other = await http.post("/api/v1/stores", json={"id": OTHER})
        assert other.status_code == 202, other.text
        taken = await http.post(f"/api/v1/stores/{OTHER}/domains", json={"domain": "taken.example"})
        assert taken.status_code == 201, taken.text

        context = await browser.new_context(viewport=DESKTOP)
        await context.grant_permissions(["clipboard-read", "clipboard-write"])
        page = await context.new_page()
        loads: list[int] = []
        page.on("load", lambda _page: loads.append(1))
        requests = ApiRequests(page)
        await sign_in(page, stack)
        await launch(page, "Tea House", STORE)
        await expect(page.locator(".head-status .badge")).to_have_text("Ready", timeout=120_000)
        loaded = len(loads)

        panel = page.get_by_role("region", name="Domains")
        field = panel.get_by_label("Domain", exact=True)
        add = panel.get_by_role("button", name="Add domain")
        await expect(panel).to_contain_text("No domains of your own yet")

        # Refused at the field (422), or as the API's sentence (409).
        await field.fill("localhost")
        await add.click()
        await expect(panel.locator("#new-domain-error")).to_contain_text(
            "must have at least two labels"
        )
        await expect(field).to_have_attribute("aria-invalid", "true")
        await expect(field).to_be_focused()
        await field.fill("taken.example")
        await field.press("Enter")
        await expect(panel.get_by_role("alert")).to_have_text(
            f"domain 'taken.example' is a domain of your store '{OTHER}'; remove it there first"
        )
        await expect(field).not_to_have_attribute("aria-invalid", "true")

        await field.fill("Shop.Example.COM")
        await add.click()
        row = panel.locator(f"[data-domain='{DOMAIN}']")
        await expect(row.locator(".badge")).to_have_text("Waiting for DNS")
        await expect(field).to_have_value("")
        await expect(panel.get_by_role("alert")).to_be_hidden()
        await record_texts(page, f"[data-domain='{DOMAIN}'] .badge")
        # The records exactly as the API gives them.
        (listed,) = (await http.get(f"/api/v1/stores/{STORE}/domains")).json()["items"]
        cname, txt = listed["records"]
        assert cname == {"type": "CNAME", "name": DOMAIN, "value": f"{STORE}.{BASE_DOMAIN}"}
        assert (txt["type"], txt["name"]) == ("TXT", CHALLENGE)
        records = row.get_by_role("table", name=f"DNS records to set for {DOMAIN}")
        shown = [f"{r['type']}{r['name']}Copy{r['value']}Copy" for r in (cname, txt)]
        await expect(records.get_by_role("row")).to_have_text(["TypeNameValue", *shown])
        await row.get_by_role("button", name=f"Copy TXT record value for {DOMAIN}").click()
        assert await page.evaluate("navigator.clipboard.readText()") == txt["value"]
        # The first lookup finds nothing: the panel says so, live.
        await expect(row).to_contain_text(f"{DOMAIN} does not exist in DNS yet", timeout=30_000)
        await shot(page, "16-domain-pending-dns")

        # The tenant sets the records at their DNS provider.
        dns_server.zone.set(DOMAIN, "CNAME", cname["value"])
        dns_server.zone.set(CHALLENGE, "TXT", txt["value"])
        await expect(row.locator(".badge")).to_have_text("Active", timeout=120_000)
        await expect(row).to_contain_text(f"the store answers on {DOMAIN}")
        assert await recorded_texts(page) == ["Waiting for DNS", "Verifying", "Active"]
        await expect(page.locator(".head-status .badge")).to_have_text("Ready", timeout=120_000)
        await expect(page.locator("#timeline")).to_contain_text(f"Domain {DOMAIN} · Active")
        assert len(loads) == loaded, "the store's page must not reload"
        assert requests.seen.count(f"GET v1/stores/{STORE}/domains") == 1, requests.seen

        # Remove it, from the keyboard: Escape keeps it, the confirmation removes it.
        remove = row.get_by_role("button", name=f"Remove {DOMAIN}")
        await remove.focus()
        await page.keyboard.press("Enter")
        dialog = page.get_by_role("dialog", name=f"Remove {DOMAIN}?")
        await expect(dialog).to_contain_text("The store stops answering on")
        await expect(dialog.get_by_role("button", name="Cancel")).to_be_focused()
        await page.keyboard.press("Escape")
        await expect(dialog).to_have_count(0)
        await expect(remove).to_be_focused()
        await page.keyboard.press("Enter")
        await page.keyboard.press("Shift+Tab")
        await expect(dialog.get_by_role("button", name="Remove domain")).to_be_focused()
        await page.keyboard.press("Enter")
        await expect(row).to_have_count(0)
        await expect(panel).to_contain_text("No domains of your own yet")
        await expect(page.locator("#timeline")).to_contain_text(f"Domain {DOMAIN} · removed")
        store = (await http.get(f"/api/v1/stores/{STORE}")).json()
        assert (store["generation"], store["domains"]) == (3, [])
        await expect(page.locator(".head-status .badge")).to_have_text("Ready", timeout=120_000)
        assert len(loads) == loaded
