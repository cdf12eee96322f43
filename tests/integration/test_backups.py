"""Backups, restore and clone of a store of each engine on the devcluster: the gateway
and the watcher as processes, the provisioner in process, object storage a real
S3 server on loopback. Kwok runs no container, so this proves what a backup,
restore or clone makes in the cluster and how their states flow to the API;
tests/integration/test_object_storage.py proves the server keeps what rclone
sends."""

import asyncio
import base64
import subprocess
import sys
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any

import httpx
import pytest
from kubernetes_asyncio.client import ApiClient, BatchV1Api, CoreV1Api, V1Job, V1PodSpec

from services.devtools.devcluster import DevCluster
from services.devtools.natsserver import NatsServer
from tests.fixtures.processes import StartService
from tests.fixtures.s3 import ObjectStorage
from tests.fixtures.waiting import eventually
from tests.integration import provisioner_support as ps
from tests.integration.gateway_support import auth, gateway_env, new_tenant, query, store_at
from tests.integration.watcher_support import watcher_env

PREFIX = "urumi/stores"


def _env(container: Any) -> dict[str, Any]:
    return {e.name: e.value if e.value is not None else e.value_from for e in container.env or ()}


async def _urumi(api: str, token: str, *args: str) -> str:
    """`urumi stores …` as a person runs it; its output."""
    cli = [sys.executable, "-m", "services.cli.main", "stores", "--api", api, "--token", token]
    done = await asyncio.to_thread(
        subprocess.run, [*cli, *args], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


async def _setup_job(batch: BatchV1Api, namespace: str) -> V1Job:
    """The store's one setup Job (a new generation's replaces the old one)."""
    jobs = (await batch.list_namespaced_job(namespace)).items
    setups = [j for j in jobs if j.metadata.labels["app.kubernetes.io/component"] == "setup"]
    assert len(setups) == 1, [j.metadata.name for j in setups]
    return setups[0]


def _medusa_rewrite(setup: V1PodSpec, source: str, clone: str) -> None:
    """Medusa's uploaded files' URLs, rewritten by the load step."""
    load = _env(setup.init_containers[1])
    assert (load["OLD_URL"], load["NEW_URL"]) == (f"http://{source}", f"http://{clone}")


def _woocommerce_rewrite(setup: V1PodSpec, source: str, clone: str) -> None:
    """WordPress's addresses: wp-cli's `search-replace` from the source's host."""
    (wp_cli,) = setup.containers
    assert _env(wp_cli)["RESTORED_HOST"] == source
    assert f"wp search-replace \"$RESTORED_HOST\" '{clone}' --skip-columns=guid" in wp_cli.args[0]


REWRITES: dict[str, Callable[[V1PodSpec, str, str], None]] = {
    "medusa": _medusa_rewrite,
    "woocommerce": _woocommerce_rewrite,
}


@pytest.mark.parametrize("engine", sorted(REWRITES))
async def test_a_backup_is_a_job_whose_state_reaches_the_api_and_restore_and_clone_start_from_it(
    engine: str,
    nats_server: NatsServer,
    devcluster: DevCluster,
    start_service: StartService,
    kube: ApiClient,
    stores: list[str],
    object_storage: ObjectStorage,
    tmp_path: Path,
) -> None:
    database = str(tmp_path / "g.db")
    gateway = start_service(
        "gateway",
        gateway_env(
            nats_server.url,
            database,
            URUMI_BASE_DOMAIN=ps.BASE_DOMAIN,
            URUMI_BACKUP_BUCKET=object_storage.bucket,
        ),
    )
    start_service("watcher", watcher_env(nats_server, devcluster))
    token = await new_tenant(gateway.base_url, "acme")
    store, copy = ps.store_id("bak"), ps.store_id("stg")
    stores.extend([store, copy])
    namespace = f"store-{store}"
    core, batch = CoreV1Api(kube), BatchV1Api(kube)
    settings = ps.backup_settings(
        nats_server.url, devcluster.kubeconfig, object_storage, backup_prefix=f"/{PREFIX}/"
    )
    async with (
        ps.running(settings),
        httpx.AsyncClient(base_url=gateway.base_url, headers=auth(token), timeout=15) as http,
    ):

        def at(name: str, generation: int, phase: str) -> Coroutine[Any, Any, Any]:
            return store_at(http, name, generation, phase)

        created = await http.post(
            "/api/v1/stores", json={"id": store, "engine": engine, "display_name": "Live"}
        )
        assert created.status_code == 202, created.text
        await eventually(lambda: at(store, 1, "ready"), within=120, what="ready")

        # The schedule: daily at 03:MM UTC, where the keys come from the store's Secret.
        cron = await batch.read_namespaced_cron_job("backup-daily", namespace)
        minute, hour, *rest = cron.spec.schedule.split()
        assert (hour, rest, cron.spec.time_zone, cron.spec.suspend) == (
            "3",
            ["*", "*", "*"],
            "Etc/UTC",
            False,
        )
        assert 0 <= int(minute) < 60
        pod = cron.spec.job_template.spec.template.spec
        assert [c.name for c in pod.init_containers] == ["dump-database", "pack-files"]
        (upload,) = pod.containers
        env = _env(upload)
        assert env["STORE_PATH"] == f"store:{object_storage.bucket}/{PREFIX}/{store}"
        assert env["RCLONE_CONFIG_STORE_ENDPOINT"] == object_storage.endpoint
        key_ref = env["RCLONE_CONFIG_STORE_SECRET_ACCESS_KEY"].secret_key_ref
        assert (key_ref.name, key_ref.key) == ("backup-storage", "secret-access-key")
        secret = await core.read_namespaced_secret("backup-storage", namespace)
        keys = {k: base64.b64decode(v).decode() for k, v in secret.data.items()}
        assert keys == {
            "access-key-id": object_storage.access_key_id,
            "secret-access-key": object_storage.secret_access_key,
        }
        assert object_storage.secret_access_key not in str(cron.to_dict())

        started = await http.post(f"/api/v1/stores/{store}/backups")
        assert started.status_code == 202, started.text
        backup = started.json()
        assert (backup["state"], backup["trigger"]) == ("pending", "manual")
        backup_id = backup["id"]

        async def backed_up() -> dict[str, Any] | None:
            listed = (await http.get(f"/api/v1/stores/{store}/backups")).json()["items"]
            return listed[0] if listed and listed[0]["state"] == "succeeded" else None

        done = await eventually(backed_up, within=90, what="the backup succeeded")
        assert done["id"] == backup_id and done["completed_at"] and done["expires_at"]
        listed = await _urumi(gateway.base_url, token, "backups", store)
        (line,) = [row for row in listed.splitlines() if row.startswith(backup_id)]
        assert line.split()[1:3] == ["manual", "succeeded"], listed
        job = await batch.read_namespaced_job(backup_id, namespace)
        assert job.spec.template.spec.containers[0].args == upload.args
        timeline = (await http.get(f"/api/v1/stores/{store}/events")).json()["items"]
        states = [e["event"]["state"] for e in timeline if e["type"] == "backup"]
        assert "succeeded" in states, states
        rows = await query(database, "SELECT action FROM audit")
        assert (f"back up store: {backup_id}",) in rows

        missing = await http.post(f"/api/v1/stores/{store}/restore", json={"backup": "backup-x"})
        assert missing.status_code == 404 and "backup-x" in missing.text

        restored = await http.post(f"/api/v1/stores/{store}/restore", json={"backup": backup_id})
        assert restored.status_code == 202, restored.text
        assert (restored.json()["generation"], restored.json()["phase"]) == (2, "provisioning")
        await eventually(lambda: at(store, 2, "ready"), within=120, what="ready after restore")
        setup = (await _setup_job(batch, namespace)).spec.template.spec
        assert [c.name for c in setup.init_containers] == ["fetch-backup", "restore-data"]
        fetch = _env(setup.init_containers[0])
        assert fetch["SOURCE_PATH"] == f"store:{object_storage.bucket}/{PREFIX}/{store}/{backup_id}"

        taken = await http.post(
            f"/api/v1/stores/{store}/clone", json={"id": store, "backup": backup_id}
        )
        assert taken.status_code == 409, taken.text
        said = await _urumi(
            gateway.base_url, token, "clone", store, "--backup", backup_id, "--to", copy
        )
        assert said.split()[:2] == [copy, engine], said
        clone = await eventually(lambda: at(copy, 1, "ready"), within=120, what="the clone ready")
        assert clone["display_name"] == "Live"
        clone_setup = (await _setup_job(batch, f"store-{copy}")).spec.template.spec
        fetch = _env(clone_setup.init_containers[0])
        assert fetch["SOURCE_PATH"] == f"store:{object_storage.bucket}/{PREFIX}/{store}/{backup_id}"
        REWRITES[engine](clone_setup, f"{store}.{ps.BASE_DOMAIN}", f"{copy}.{ps.BASE_DOMAIN}")
        rows = await query(database, "SELECT action FROM audit")
        assert (f"clone store from {store} backup {backup_id}",) in rows
