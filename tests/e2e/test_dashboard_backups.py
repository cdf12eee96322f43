"""Backups in Chromium: the store page's Backups panel backs a Medusa store up
and follows the backup live to succeeded, restores the store from it
(confirmed) and clones it into a new store (its id checked as the launch form
checks it); for a sleeping store it shows the API's refusal. All four
services run as processes on real NATS and the devcluster, the provisioner
configured with a real S3 server on loopback: the backup is a real Job, which
the devcluster's Job controller completes once kwok has run its pod, and the
real watcher reports it."""

from datetime import UTC, datetime

import pytest
from kubernetes_asyncio.client import ApiClient, BatchV1Api, CoreV1Api
from playwright.async_api import expect

from tests.e2e.dashboard_support import (
    DESKTOP,
    Stack,
    StartStack,
    chromium,
    launch,
    record_phases,
    record_texts,
    recorded_texts,
    shot,
    sign_in,
    tenant_http,
)
from tests.fixtures.s3 import ObjectStorage
from tests.fixtures.waiting import eventually
from tests.integration.gateway_support import store_at

pytestmark = pytest.mark.e2e
STORE, COPY, WOO = "tea-shop", "tea-staging", "corner-woo"
SIZE = 3 * 1024 * 1024 // 2  # what the upload container says it wrote: 1.5 MB


@pytest.fixture
def stack(devcluster_stack: StartStack, object_storage: ObjectStorage) -> Stack:
    storage = {
        "URUMI_BASE_DOMAIN": "shops.test",
        "URUMI_BACKUP_ENDPOINT": object_storage.endpoint,
        "URUMI_BACKUP_BUCKET": object_storage.bucket,
        "URUMI_BACKUP_PREFIX": "urumi/stores",
        "URUMI_BACKUP_ACCESS_KEY_ID": object_storage.access_key_id,
        "URUMI_BACKUP_SECRET_ACCESS_KEY": object_storage.secret_access_key,
    }
    return devcluster_stack([STORE, COPY, WOO], storage)


async def report_size(kube: ApiClient, backup: str) -> None:
    """The backup pod's upload container ends with the size it wrote as its
    termination message, as the kubelet reports it (kwok's pods write none)."""
    core, namespace = CoreV1Api(kube), f"store-{STORE}"
    pods = await core.list_namespaced_pod(
        namespace, label_selector=f"batch.kubernetes.io/job-name={backup}"
    )
    (pod,) = [p for p in pods.items if p.status.phase == "Succeeded"]
    stamp = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    done = {"exitCode": 0, "reason": "Completed", "startedAt": stamp, "finishedAt": stamp}
    upload = {"terminated": {**done, "message": f'{{"size_bytes": {SIZE}}}'}}
    status = {"containerStatuses": [{"name": "upload", "state": upload}]}
    await core.patch_namespaced_pod_status(pod.metadata.name, namespace, {"status": status})


async def test_the_backups_panel_backs_up_restores_and_clones_a_store_live(
    stack: Stack, kube: ApiClient
) -> None:
    async with chromium() as browser, tenant_http(stack) as http:
        woo = await http.post("/api/v1/stores", json={"id": WOO})
        assert woo.status_code == 202, woo.text
        await eventually(lambda: store_at(http, WOO, 1, "ready"), within=120, what="ready")
        slept = await http.post(f"/api/v1/stores/{WOO}/sleep")
        assert slept.status_code == 202, slept.text
        page = await browser.new_page(viewport=DESKTOP)
        loads: list[int] = []
        page.on("load", lambda _page: loads.append(1))
        await sign_in(page, stack)

        # A sleeping store: the API's sentence says why not.
        await page.get_by_role("link", name=WOO).click()
        panel = page.get_by_role("region", name="Backups")
        await expect(panel).to_contain_text("No backups yet.")
        await panel.get_by_role("button", name="Back up now").click()
        await expect(panel.get_by_role("alert")).to_have_text(
            f"store '{WOO}' is asleep: nothing changes while it sleeps; wake it to back it up"
        )

        await page.get_by_role("link", name="All stores", exact=True).click()
        await page.get_by_label("Engine").select_option("Medusa")
        await launch(page, "Tea Shop", STORE)
        badge = page.locator(".head-status .badge")
        await expect(badge).to_have_text("Ready", timeout=120_000)
        loaded = len(loads)
        await expect(panel).to_contain_text("No backups yet.")
        await record_texts(page, ".backups tbody tr:first-child .badge")
        await panel.get_by_role("button", name="Back up now").click()
        row = panel.locator("tbody tr").first
        await expect(row.locator("td").first).to_have_text("On demand")
        await expect(row.locator(".badge")).to_have_text("Succeeded", timeout=120_000)
        backup = await row.get_attribute("data-backup")
        assert backup and backup.startswith("backup-")
        seen = await recorded_texts(page)
        assert seen[0] == "Pending" and seen[-1] == "Succeeded", seen
        job = await BatchV1Api(kube).read_namespaced_job(backup, f"store-{STORE}")
        assert job.status.succeeded == 1
        await expect(panel.get_by_role("status")).to_have_text(f"Backing up: {backup}.")
        await report_size(kube, backup)
        await expect(row).to_contain_text("1.5 MB", timeout=60_000)
        await shot(page, "17-store-backups")

        # Restore, confirmed: the store's next generation starts from the backup.
        await record_phases(page, STORE)
        await row.get_by_role("button", name=f"Restore {backup}").click()
        dialog = page.get_by_role("dialog", name=f"Restore {backup}?")
        await expect(dialog).to_contain_text(
            "The store's data (its database and its files) is replaced"
        )
        await expect(dialog.get_by_role("button", name="Cancel")).to_be_focused()
        await dialog.get_by_role("button", name="Restore").click()
        await expect(dialog).to_have_count(0)
        await expect(panel.get_by_role("status")).to_have_text(
            f"Restoring {backup}: the store is provisioning, then ready."
        )
        await expect(badge).to_have_text("Ready", timeout=120_000)
        assert (await recorded_texts(page))[-2:] == ["Provisioning", "Ready"]
        restored = (await http.get(f"/api/v1/stores/{STORE}")).json()
        assert (restored["generation"], restored["phase"]) == (2, "ready")

        # Clone, the new id checked as the launch form checks it, from the keyboard.
        await row.get_by_role("button", name=f"Clone {backup}").focus()
        await page.keyboard.press("Enter")
        dialog = page.get_by_role("dialog", name=f"Clone {backup}")
        field = dialog.get_by_label("New store id")
        await expect(field).to_be_focused()
        await page.keyboard.type("Tea_Staging")
        await expect(dialog.locator("#clone-id-error")).to_have_text("Use lowercase letters only.")
        await field.fill(STORE)
        await page.keyboard.press("Enter")
        await expect(dialog.locator("#clone-id-error")).to_contain_text(f"'{STORE}'")
        await expect(field).to_have_attribute("aria-invalid", "true")
        await field.fill(COPY)
        await page.keyboard.press("Enter")
        await expect(dialog).to_have_count(0)
        await expect(panel.get_by_role("status")).to_contain_text(f"Cloning into {COPY}")
        assert len(loads) == loaded, "the store's page must not reload"
        await panel.get_by_role("link", name=COPY).click()
        await page.get_by_role("heading", name="Tea Shop").wait_for()
        await expect(badge).to_have_text("Ready", timeout=120_000)
        await expect(page.locator(".store-meta")).to_contain_text(f"{COPY} · Medusa")
        await expect(panel).to_contain_text("No backups yet.")
