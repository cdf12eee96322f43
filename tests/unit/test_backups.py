"""Backups' pure parts: the Medusa chart's backup and restore objects per
values, the provisioner's values and Secret, the watcher's reports from Jobs,
and the gateway's fold, retention and refusals."""

from datetime import UTC, datetime, timedelta

import msgspec
import pytest

from services.contracts.backups import (
    BackupState,
    BackupStatus,
    BackupTrigger,
    RestoreFrom,
    manual_backup_id,
)
from services.contracts.phases import Phase
from services.contracts.store import Engine, Plan, StoreSpec
from services.gateway import backups
from services.gateway.domain_errors import ConflictError, NotFoundError
from services.gateway.models import StoreView
from services.provisioner.backup_values import (
    BackupStorage,
    backup_values,
    job_from_schedule,
    schedule,
    storage_secret,
)
from services.provisioner.engines import DEFAULT_CHARTS
from services.provisioner.medusa_values import medusa_values
from services.provisioner.ordering import Manifest
from services.provisioner.render import Renderer
from services.provisioner.settings import ProvisionerSettings
from services.provisioner.values import StoreIngress
from services.watcher.backups import backup_reports
from services.watcher.observed import JobObs, NamespaceObs, PodObs, StoreObjects
from tests.fixtures.charts import one, pod_spec, render_store

AT = datetime(2026, 12, 10, 10, 0, tzinfo=UTC)
SPEC = StoreSpec(id="shop", tenant="acme", engine=Engine.MEDUSA, plan=Plan.MEDIUM)
STORAGE = BackupStorage("https://s3.example.com", "backups", "urumi", "eu-1")
SOURCE = RestoreFrom(store="live", backup="backup-20261210-101010", host="live.shops.test")


async def _render(
    renderer: Renderer, storage: BackupStorage, restore: RestoreFrom | None = None
) -> list[Manifest]:
    values = medusa_values(SPEC, 3, AT, StoreIngress(base_domain="shops.test"))
    return await render_store(
        renderer, DEFAULT_CHARTS / "medusa", "shop", backup_values(values, storage, SPEC, restore)
    )


async def test_without_object_storage_a_store_has_no_backup_objects(renderer: Renderer) -> None:
    manifests = await _render(renderer, BackupStorage("", "", "", ""))
    assert not [m for m in manifests if m["kind"] == "CronJob"]
    assert "backup-to-object-storage" not in {m["metadata"]["name"] for m in manifests}


async def test_the_daily_backup_dumps_the_database_packs_the_uploads_and_uploads_both(
    renderer: Renderer,
) -> None:
    manifests = await _render(renderer, STORAGE)
    cron = one(manifests, "CronJob", "backup-daily")
    assert cron["spec"]["schedule"] == schedule("shop") and cron["spec"]["suspend"] is False
    job = cron["spec"]["jobTemplate"]["spec"]
    assert job["ttlSecondsAfterFinished"] == 14 * 86400  # the medium plan keeps 14 days
    pod = job["template"]["spec"]
    dump, pack = pod["initContainers"]
    assert "pg_dump" in dump["args"][0] and "--clean --if-exists" in dump["args"][0]
    assert {"name": "uploads", "mountPath": "/files", "readOnly": True} in pack["volumeMounts"]
    (upload,) = pod["containers"]
    script = upload["args"][0]
    assert "rclone delete --min-age 14d" in script and "/dev/termination-log" in script
    env = {e["name"]: e.get("value", e.get("valueFrom")) for e in upload["env"]}
    assert env["STORE_PATH"] == "store:backups/urumi/shop"
    assert env["RCLONE_CONFIG_STORE_ACCESS_KEY_ID"] == {
        "secretKeyRef": {"name": "backup-storage", "key": "access-key-id"}
    }
    policy = one(manifests, "NetworkPolicy", "backup-to-object-storage")["spec"]
    assert policy["podSelector"]["matchExpressions"][0]["values"] == ["backup", "setup"]
    assert [p["port"] for p in policy["egress"][0]["ports"]] == [443]


async def test_no_shopper_is_served_while_a_restore_loads(renderer: Renderer) -> None:
    """The restore's generation gives the server and worker a new pod (the old
    one goes first: Recreate) that waits for the mark the load step writes once
    the backup is in, for this generation only."""
    mark = "live/backup-20261210-101010@3"
    manifests = await _render(renderer, STORAGE, SOURCE)
    for name in ("medusa-server", "medusa-worker"):
        (wait,) = pod_spec(one(manifests, "Deployment", name))["initContainers"]
        script = wait["args"][0]
        assert f"WHERE mark = $1' '{mark}'" in script
        assert script.index("urumi_restores") < script.index('FROM "user"')
    assert one(manifests, "Deployment", "medusa-server")["spec"]["strategy"] == {"type": "Recreate"}
    load = pod_spec(one(manifests, "Job"))["initContainers"][1]["args"][0]
    assert load.index("tar -xzf") < load.index("INSERT INTO urumi_restores")
    assert f"--set mark='{mark}'" in load
    plain = await _render(renderer, STORAGE)
    server = pod_spec(one(plain, "Deployment", "medusa-server"))["initContainers"][0]
    assert "urumi_restores" not in server["args"][0]


async def test_a_restore_loads_the_backup_before_the_setup_migrates(renderer: Renderer) -> None:
    plain = pod_spec(one(await _render(renderer, STORAGE), "Job"))
    assert "initContainers" not in plain
    manifests = await _render(renderer, STORAGE, SOURCE)
    setup = one(manifests, "Job")
    pod = pod_spec(setup)
    fetch, load = pod["initContainers"]
    assert (fetch["name"], load["name"]) == ("fetch-backup", "restore-data")
    fetch_env = {e["name"]: e.get("value") for e in fetch["env"]}
    assert fetch_env["SOURCE_PATH"] == "store:backups/urumi/live/backup-20261210-101010"
    load_env = {e["name"]: e.get("value") for e in load["env"]}
    assert (load_env["OLD_URL"], load_env["NEW_URL"]) == (
        "http://live.shops.test",
        "http://shop.shops.test",
    )
    assert "ON_ERROR_STOP=1" in load["args"][0]
    # A different pod: a new setup Job, which runs once.
    assert (
        setup["metadata"]["name"]
        != one(await _render(renderer, STORAGE), "Job")["metadata"]["name"]
    )


async def test_after_a_restore_or_a_clone_the_store_s_own_admin_password_signs_in(
    renderer: Renderer,
) -> None:
    """The data brings the admin of the backup's time (a clone's: the source
    store's, same email, another password): the setup's admin script sets
    the password from the store's own Secret."""
    for restore, reset in ((None, "false"), (SOURCE, "true")):
        (setup,) = pod_spec(one(await _render(renderer, STORAGE, restore), "Job"))["containers"]
        env = {e["name"]: e for e in setup["env"]}
        assert env["RESTORED"]["value"] == reset
        assert env["ADMIN_PASSWORD"]["valueFrom"]["secretKeyRef"]["key"] == "medusa-admin-password"
        assert 'npx --no medusa exec "$ADMIN_SCRIPT"' in setup["args"][0]


def test_the_storage_secret_holds_the_keys_and_settings_never_show_them() -> None:
    settings = ProvisionerSettings(
        backup_bucket="b", backup_access_key_id="AKIA1", backup_secret_access_key="s3cr3t"
    )
    secret = storage_secret(SPEC, settings)
    assert secret["metadata"] == {
        "name": "backup-storage",
        "namespace": "store-shop",
        "labels": secret["metadata"]["labels"],
    }
    assert secret["stringData"] == {"access-key-id": "AKIA1", "secret-access-key": "s3cr3t"}
    assert "s3cr3t" not in repr(settings)


def test_an_on_demand_job_is_the_schedule_s_pod() -> None:
    template = {"metadata": {"labels": {"a": "b"}}, "spec": {"backoffLimit": 2}}
    cron = {"metadata": {"namespace": "store-shop"}, "spec": {"jobTemplate": template}}
    job = job_from_schedule(cron, "backup-20261210-101010")
    assert job["metadata"] == {
        "name": "backup-20261210-101010",
        "namespace": "store-shop",
        "labels": {"a": "b"},
    }
    assert job["spec"] == {"backoffLimit": 2}


def test_schedules_spread_stores_over_the_hour() -> None:
    minutes = {schedule(f"store-{n}").split()[0] for n in range(50)}
    assert len(minutes) > 20
    assert all(s.endswith(" 3 * * *") for s in (schedule("a"), schedule("b")))


def _objs(*jobs: JobObs, pods: tuple[PodObs, ...] = ()) -> StoreObjects:
    return StoreObjects(namespace=NamespaceObs("store-shop", "acme", "shop"), jobs=jobs, pods=pods)


def test_the_watcher_reports_each_backup_job_with_its_size() -> None:
    done = JobObs("backup-20261210-101010", "backup", complete=True, started=AT, completed=AT)
    running = JobObs("backup-daily-29012345", "backup", active=1, started=AT)
    failed = JobObs("backup-20261209-000000", "backup", failed=True, reason="BackoffLimitExceeded")
    setup = JobObs("setup-abc", "setup", complete=True)
    pod = PodObs("p", "backup", job=done.name, results=('{"size_bytes": 4096}',))
    reports = {
        r.backup: r for r in backup_reports(_objs(done, running, failed, setup, pods=(pod,)), AT)
    }
    assert set(reports) == {done.name, running.name, failed.name}
    assert (reports[done.name].state, reports[done.name].size_bytes) == (
        BackupState.SUCCEEDED,
        4096,
    )
    assert reports[running.name].trigger is BackupTrigger.SCHEDULED
    assert reports[running.name].state is BackupState.RUNNING
    assert reports[failed.name].state is BackupState.FAILED
    assert "BackoffLimitExceeded" in reports[failed.name].message


def _report(state: BackupState, at: datetime, **kw: object) -> BackupStatus:
    return BackupStatus(
        tenant="acme", store="shop", backup="backup-20261210-101010", state=state,
        observed_at=at, **kw,  # type: ignore[arg-type]
    )  # fmt: skip


def test_the_gateway_folds_reports_in_order_and_a_finished_backup_stays_finished() -> None:
    row = backups.folded(None, _report(BackupState.RUNNING, AT, started_at=AT), "shop.shops.test")
    assert row is not None and row.state is BackupState.RUNNING and row.host == "shop.shops.test"
    later = AT + timedelta(minutes=2)
    done = backups.folded(
        row, _report(BackupState.SUCCEEDED, later, completed_at=later, size_bytes=9), ""
    )
    assert done is not None and (done.state, done.size_bytes) == (BackupState.SUCCEEDED, 9)
    assert (
        backups.folded(done, _report(BackupState.RUNNING, later + timedelta(seconds=1)), "") is None
    )
    assert backups.folded(done, _report(BackupState.FAILED, AT), "") is None  # older
    assert backups.folded(done, msgspec.structs.replace(
        _report(BackupState.SUCCEEDED, later, completed_at=later, size_bytes=9),
        observed_at=later + timedelta(seconds=5)), "") is None  # fmt: skip


def test_a_succeeded_backup_expires_with_its_plan_s_retention() -> None:
    row = backups.folded(
        None, _report(BackupState.SUCCEEDED, AT, started_at=AT, completed_at=AT), "h"
    )
    assert row is not None
    assert backups.view(row, Plan.SMALL, AT + timedelta(days=6)).state is BackupState.SUCCEEDED
    shown = backups.view(row, Plan.SMALL, AT + timedelta(days=7))
    assert (shown.state, shown.expires_at) == (BackupState.EXPIRED, AT + timedelta(days=7))
    assert backups.view(row, Plan.LARGE, AT + timedelta(days=7)).state is BackupState.SUCCEEDED
    with pytest.raises(ConflictError, match="expired"):
        backups.restorable(row, row.id, "shop", Plan.SMALL, AT + timedelta(days=8))
    assert backups.restorable(row, row.id, "shop", Plan.SMALL, AT).host == "h"
    with pytest.raises(NotFoundError, match="no backup 'backup-y'"):
        backups.restorable(None, "backup-y", "shop", Plan.SMALL, AT)


def _store(**kw: object) -> StoreView:
    base = StoreView(
        id="shop", tenant="acme", engine=Engine.MEDUSA, plan=Plan.SMALL, display_name="",
        storage_plan=Plan.SMALL, phase=Phase.READY, generation=4, url="http://shop.shops.test",
        reason="", message="", conditions=[], created_at=AT, updated_at=AT,
    )  # fmt: skip
    return msgspec.structs.replace(base, **kw)


def test_backups_are_refused_saying_why_and_what_to_do() -> None:
    with pytest.raises(ConflictError, match="URUMI_BACKUP_BUCKET"):
        backups.check_can_back_up(_store(), "")
    with pytest.raises(ConflictError, match="wake it"):
        backups.check_can_back_up(_store(asleep=True), "b")
    with pytest.raises(ConflictError, match="provisioning"):
        backups.check_can_back_up(_store(phase=Phase.PROVISIONING), "b")
    backups.check_can_back_up(_store(), "b")


def test_a_restore_is_the_store_s_next_generation() -> None:
    after = backups.restoring(_store(), SOURCE, AT)
    assert (after.generation, after.phase, after.reason) == (5, Phase.PROVISIONING, "Restoring")
    with pytest.raises(ConflictError, match="deleting"):
        backups.restoring(_store(phase=Phase.DELETING), SOURCE, AT)


def test_manual_backup_ids_are_job_names_of_their_time() -> None:
    assert manual_backup_id(AT) == "backup-20261210-100000"
