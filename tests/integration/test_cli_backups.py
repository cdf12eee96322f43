"""`urumi stores backup ID --wait` (and `restore --wait`) as a person runs it, on the
devcluster: every service a process but the provisioner (in this process), so the
backup Job is made from the store's CronJob, completed by kwok and the real Job
controller, and its states reach the terminal through the watcher and the
notifier's websocket. A failure is the Job controller's Failed condition on a
backup whose pod a scheduling gate holds (kwok would complete it)."""

import asyncio
import subprocess
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from kubernetes_asyncio.client import ApiClient, BatchV1Api

from services.devtools.devcluster import DevCluster
from services.devtools.natsserver import NatsServer
from tests.fixtures.jobs import fail_job
from tests.fixtures.processes import StartService
from tests.fixtures.s3 import ObjectStorage
from tests.fixtures.waiting import eventually
from tests.integration import provisioner_support as ps
from tests.integration.gateway_support import auth, gateway_env, new_tenant, store_at
from tests.integration.watcher_support import watcher_env

HOLD = {"name": "urumi.dev/hold"}


@dataclass
class Shop:
    api: str
    token: str
    store: str
    batch: BatchV1Api

    def cli(self, *args: str) -> list[str]:
        base = [sys.executable, "-m", "services.cli.main", "stores", "--api", self.api]
        return [*base, "--token", self.token, *args]

    async def run(self, *args: str) -> subprocess.CompletedProcess[str]:
        return await asyncio.to_thread(
            subprocess.run, self.cli(*args), capture_output=True, text=True, timeout=180
        )


@pytest.fixture
async def shop(
    nats_server: NatsServer,
    devcluster: DevCluster,
    start_service: StartService,
    kube: ApiClient,
    stores: list[str],
    object_storage: ObjectStorage,
    tmp_path: Path,
) -> AsyncIterator[Shop]:
    """A ready WooCommerce store of tenant acme, backups configured."""
    notifier = start_service("notifier", gateway_env(nats_server.url, str(tmp_path / "n.db")))
    env = gateway_env(
        nats_server.url,
        str(tmp_path / "g.db"),
        URUMI_BASE_DOMAIN=ps.BASE_DOMAIN,
        URUMI_BACKUP_BUCKET=object_storage.bucket,
        URUMI_NOTIFIER_URL=f"ws://127.0.0.1:{notifier.http_port}/ws",
    )
    gateway = start_service("gateway", env)
    start_service("watcher", watcher_env(nats_server, devcluster))
    token = await new_tenant(gateway.base_url, "acme")
    store = ps.store_id("bak")
    stores.append(store)
    settings = ps.backup_settings(nats_server.url, devcluster.kubeconfig, object_storage)
    async with (
        ps.running(settings),
        httpx.AsyncClient(base_url=gateway.base_url, headers=auth(token), timeout=15) as http,
    ):
        created = await http.post("/api/v1/stores", json={"id": store})
        assert created.status_code == 202, created.text
        await eventually(lambda: store_at(http, store, 1, "ready"), within=120, what="ready")
        yield Shop(gateway.base_url, token, store, BatchV1Api(kube))


def states(out: str, backup: str) -> list[str]:
    """The backup's states in the order the command printed them: its row as the
    API answered, then a line a change."""
    said = []
    for line in out.splitlines():
        words = line.split()
        if words[:1] == [backup]:
            said.append(words[2])
        elif words[2:4] == ["backup", backup]:
            said.append(words[4])
    return said


async def test_backup_wait_prints_each_state_and_ends_succeeded_or_failed(shop: Shop) -> None:
    done = await shop.run("backup", shop.store, "--wait", "--timeout", "120")
    assert done.returncode == 0, done.stdout + done.stderr
    lines = done.stdout.splitlines()
    backup = lines[0].split()[0]
    assert lines[0].split()[1:5] == ["manual", "pending", "0", "B"], lines  # the API's answer
    # Running may pass unseen (kwok completes the pod about as soon as it exists).
    assert states(done.stdout, backup) in (
        ["pending", "running", "succeeded"],
        ["pending", "succeeded"],
    ), done.stdout
    assert f"⛁ backup       {backup} succeeded (0 B)" in done.stdout  # kwok uploads nothing
    assert lines[-1] == (
        f"✓ {backup} of {shop.store} succeeded: 0 B in object storage; "
        f"`urumi stores restore {shop.store} --backup {backup}` returns the store to it"
    )

    restored = await shop.run("restore", shop.store, "--backup", backup, "--wait")
    assert restored.returncode == 0, restored.stdout + restored.stderr
    url = f"http://{shop.store}.{ps.BASE_DOMAIN}"
    assert restored.stdout.rstrip().endswith(f"{shop.store} is ready: {url}"), restored.stdout

    # From here the store's backup pods are held: none runs, so none completes.
    ns = f"store-{shop.store}"
    hold = {"spec": {"jobTemplate": {"spec": {"template": {"spec": {"schedulingGates": [HOLD]}}}}}}
    await shop.batch.patch_namespaced_cron_job("backup-daily", ns, hold)
    waiting = await asyncio.create_subprocess_exec(
        *shop.cli("backup", shop.store, "--wait"),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    assert waiting.stdout is not None
    first = (await asyncio.wait_for(waiting.stdout.readline(), 60)).decode()
    held = first.split()[0]
    assert held != backup and first.split()[2] == "pending", first
    # Printed as it happens: the Job's pod exists (held), the backup is running.
    running = (await asyncio.wait_for(waiting.stdout.readline(), 60)).decode()
    assert f"⛁ backup       {held} running" in running, running
    await fail_job(shop.batch, held, ns)
    rest, err = await asyncio.wait_for(waiting.communicate(), 60)
    assert waiting.returncode == 1, rest.decode() + err.decode()
    failed = rest.decode().splitlines()
    assert f"✗ backup       {held} failed backup job failed (BackoffLimitExceeded)" in failed[0]
    assert failed[-2].startswith(f"✗ {held} of {shop.store} failed: backup job failed"), failed
    assert failed[-1] == (
        f"  What to do: back it up again (`urumi stores backup {shop.store} --wait`); if it "
        f"fails again, contact support with the store id and the backup id {held}."
    )

    await asyncio.sleep(1)  # an on-demand backup's id is its second: the next one is refused
    late = await shop.run("backup", shop.store, "--wait", "--timeout", "3")
    assert late.returncode == 124, late.stdout + late.stderr
    assert late.stderr.strip() == (
        f"urumi: stopped waiting after 3 s; the backup goes on: "
        f"`urumi stores backups {shop.store}` shows its state"
    )
