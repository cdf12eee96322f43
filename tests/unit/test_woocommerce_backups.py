"""The WooCommerce chart's backups per values: the daily CronJob (a
consistent MariaDB dump and wp-content, uploaded with rclone), who may reach
what, and a restore or a clone in the setup Job (the dump loaded and
wp-content unpacked before wp-cli runs; a clone's host rewritten by
`wp search-replace`, GUIDs kept)."""

from datetime import UTC, datetime
from typing import Any

import pytest

from services.contracts import labels
from services.contracts.backups import RestoreFrom
from services.contracts.store import Engine, Plan, StoreSpec
from services.provisioner.backup_values import BackupStorage, backup_values, schedule
from services.provisioner.engines import DEFAULT_CHARTS, SECRET_NAME
from services.provisioner.errors import PermanentError
from services.provisioner.ordering import Manifest
from services.provisioner.render import Renderer
from services.provisioner.values import StoreIngress, woocommerce_values
from tests.fixtures.charts import one, pod_spec, render_store

AT = datetime(2026, 12, 10, 10, 0, tzinfo=UTC)
SPEC = StoreSpec(id="shop", tenant="acme", engine=Engine.WOOCOMMERCE, plan=Plan.MEDIUM)
STORAGE = BackupStorage("https://s3.example.com", "backups", "urumi", "eu-1")
SOURCE = RestoreFrom(store="live", backup="backup-20261210-101010", host="live.shops.test")


async def _render(
    renderer: Renderer,
    storage: BackupStorage = STORAGE,
    restore: RestoreFrom | None = None,
    **extra: Any,
) -> list[Manifest]:
    values = woocommerce_values(SPEC, 3, AT, StoreIngress(base_domain="shops.test"))
    values = backup_values({**values, **extra}, storage, SPEC, restore)
    return await render_store(renderer, DEFAULT_CHARTS / "woocommerce", "shop", values)


def _env(container: dict[str, Any]) -> dict[str, Any]:
    return {e["name"]: e.get("value", e.get("valueFrom")) for e in container["env"]}


async def test_without_object_storage_a_store_has_no_backup_objects(renderer: Renderer) -> None:
    manifests = await _render(renderer, BackupStorage("", "", "", ""))
    assert not [m for m in manifests if m["kind"] == "CronJob"]
    assert "backup-to-object-storage" not in {m["metadata"]["name"] for m in manifests}


async def test_the_daily_backup_dumps_in_one_transaction_packs_wp_content_and_uploads_both(
    renderer: Renderer,
) -> None:
    manifests = await _render(renderer)
    cron = one(manifests, "CronJob", "backup-daily")
    assert cron["spec"]["schedule"] == schedule("shop") and cron["spec"]["suspend"] is False
    job = cron["spec"]["jobTemplate"]["spec"]
    assert job["ttlSecondsAfterFinished"] == 14 * 86400  # the medium plan keeps 14 days
    pod = job["template"]["spec"]
    assert pod["securityContext"]["runAsUser"] == 33  # www-data, who owns wp-content
    dump, pack = pod["initContainers"]
    assert dump["image"].startswith("mariadb:")
    assert "mariadb-dump" in dump["args"][0] and "--single-transaction" in dump["args"][0]
    # The database password by reference, never a value.
    assert _env(dump)["MYSQL_PWD"] == {
        "secretKeyRef": {"name": SECRET_NAME, "key": "mariadb-password"}
    }
    assert "cd /html/wp-content" in pack["args"][0] and "! -name urumi-backups" in pack["args"][0]
    assert {"name": "html", "mountPath": "/html", "readOnly": True} in pack["volumeMounts"]
    assert {"name": "html", "persistentVolumeClaim": {"claimName": "wordpress"}} in pod["volumes"]
    (upload,) = pod["containers"]
    assert upload["image"] == "rclone/rclone:1.60.1"
    script = upload["args"][0]
    assert "rclone delete --min-age 14d" in script and "/dev/termination-log" in script
    env = _env(upload)
    assert env["STORE_PATH"] == "store:backups/urumi/shop"
    assert env["RCLONE_CONFIG_STORE_SECRET_ACCESS_KEY"] == {
        "secretKeyRef": {"name": "backup-storage", "key": "secret-access-key"}
    }


async def test_a_sleeping_store_s_schedule_is_suspended(renderer: Renderer) -> None:
    cron = one(await _render(renderer, sleep={"asleep": True}), "CronJob", "backup-daily")
    assert cron["spec"]["suspend"] is True


async def test_backups_reach_the_database_dns_and_the_object_storage_only(
    renderer: Renderer,
) -> None:
    manifests = await _render(renderer)
    policies = {m["metadata"]["name"]: m["spec"] for m in manifests if m["kind"] == "NetworkPolicy"}
    allowed = policies["database-from-web"]["ingress"][0]["from"][0]["podSelector"]
    assert allowed["matchExpressions"][0]["values"] == ["web", "setup", "backup"]
    egress = policies["backup-egress"]
    assert egress["podSelector"]["matchExpressions"][0]["values"] == ["backup"]
    ports = [p["port"] for rule in egress["egress"] for p in rule["ports"]]
    assert ports == [3306, 53, 53]  # the database and DNS: no internet
    storage = policies["backup-to-object-storage"]
    assert storage["podSelector"]["matchExpressions"][0]["values"] == ["backup", "setup"]
    assert [p["port"] for p in storage["egress"][0]["ports"]] == [443]


async def test_a_restore_loads_the_backup_before_wp_cli_runs(renderer: Renderer) -> None:
    plain = one(await _render(renderer), "Job")
    assert "initContainers" not in pod_spec(plain)
    setup = one(await _render(renderer, restore=SOURCE), "Job")
    pod = pod_spec(setup)
    fetch, load = pod["initContainers"]
    assert (fetch["name"], load["name"]) == ("fetch-backup", "restore-data")
    assert _env(fetch)["SOURCE_PATH"] == "store:backups/urumi/live/backup-20261210-101010"
    script = load["args"][0]
    assert script.index("mariadb --host=mariadb") < script.index("tar -xzf")
    assert "until [ -f /html/wp-config.php ]" in script
    assert {"name": "restore", "emptyDir": {}} in pod["volumes"]
    # A different pod: a new setup Job, which runs once.
    assert setup["metadata"]["name"] != plain["metadata"]["name"]


async def test_a_clone_rewrites_the_source_host_skipping_guids(renderer: Renderer) -> None:
    (wp_cli,) = pod_spec(one(await _render(renderer, restore=SOURCE), "Job"))["containers"]
    assert _env(wp_cli)["RESTORED_HOST"] == "live.shops.test"
    script = wp_cli["args"][0]
    assert "wp search-replace \"$RESTORED_HOST\" 'shop.shops.test' --skip-columns=guid" in script
    # Before WordPress's address is set, which search-replace would otherwise rewrite.
    assert script.index("wp search-replace") < script.index("wp option update home")
    # A restore into the store itself: the same host, nothing to rewrite.
    assert "[ \"$RESTORED_HOST\" != 'shop.shops.test' ]" in script


async def test_after_a_restore_or_a_clone_the_store_s_own_admin_password_signs_in(
    renderer: Renderer,
) -> None:
    """The data brings the admin of the backup's time (a clone's: the source
    store's "admin", another password): wp-cli sets the store's own."""
    plain = pod_spec(one(await _render(renderer), "Job"))["containers"][0]["args"][0]
    assert "wp user update" not in plain  # an owner's own password change stays
    (wp_cli,) = pod_spec(one(await _render(renderer, restore=SOURCE), "Job"))["containers"]
    script = wp_cli["args"][0]
    update = 'wp user update "$WP_ADMIN_USER" --user_pass="$WP_ADMIN_PASSWORD" --skip-email'
    create = 'wp user create "$WP_ADMIN_USER" "$ADMIN_EMAIL" --role=administrator'
    assert update in script and create in script
    # After the clone's host rewrite (its admin's email names the source's host).
    assert script.index("wp search-replace") < script.index(update)
    env = _env(wp_cli)
    assert env["WP_ADMIN_PASSWORD"] == {
        "secretKeyRef": {"name": SECRET_NAME, "key": "wordpress-admin-password"}
    }


async def test_without_the_setup_job_a_restore_is_its_load_steps_and_a_report(
    renderer: Renderer,
) -> None:
    """setup.enabled false (no wp-cli): the restore still runs, as a Job of the
    fetch and load steps whose container only reports; the store waits for it."""
    here = RestoreFrom(store="shop", backup=SOURCE.backup, host="shop.shops.test")
    manifests = await _render(renderer, restore=here, setup={"enabled": False})
    job = one(manifests, "Job")
    assert job["metadata"]["labels"][labels.COMPONENT] == "setup"
    pod = pod_spec(job)
    assert [c["name"] for c in pod["initContainers"]] == ["fetch-backup", "restore-data"]
    (report,) = pod["containers"]
    assert report["name"] == "restored" and report["image"].startswith("mariadb:")
    assert "wp " not in str(report) and "WP_ADMIN_PASSWORD" not in str(report)
    # The watcher waits for that Job before calling the store configured.
    namespace = one(manifests, "Namespace")
    assert labels.SETUP not in namespace["metadata"]["annotations"]
    # Without a restore, no Job and the watcher is told none is coming.
    plain = await _render(renderer, setup={"enabled": False})
    assert not [m for m in plain if m["kind"] == "Job"]
    assert one(plain, "Namespace")["metadata"]["annotations"][labels.SETUP] == labels.SETUP_DISABLED
    # Without a restore, a store without setup still backs up.
    assert one(plain, "CronJob", "backup-daily")


async def test_a_restore_loads_in_wordpress_maintenance_mode(renderer: Renderer) -> None:
    """While the dump loads and wp-content is replaced, WordPress answers
    503 "Briefly unavailable" instead of serving half-loaded data."""
    for setup in (True, False):
        here = RestoreFrom(store="shop", backup=SOURCE.backup, host="shop.shops.test")
        job = one(await _render(renderer, restore=here, setup={"enabled": setup}), "Job")
        load = pod_spec(job)["initContainers"][1]["args"][0]
        steps = [
            "until [ -f /html/wp-config.php ]",
            "> /html/.maintenance",
            "mariadb --host=mariadb",
            "tar -xzf /restore/files.tar.gz",
            "rm -f /html/.maintenance",
        ]
        positions = [load.index(step) for step in steps]
        assert positions == sorted(positions), setup


async def test_a_clone_without_the_setup_job_is_refused_saying_why(renderer: Renderer) -> None:
    """A clone's data names the source's host: only wp-cli rewrites it."""
    with pytest.raises(PermanentError, match=r"live\.shops\.test.*setup\.enabled is false"):
        await _render(renderer, restore=SOURCE, setup={"enabled": False})
