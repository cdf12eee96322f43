"""The dump a release change takes before the new release touches the database:
rendered into the setup Job only when the store's release changes (the
simulated node runs no Job: these are the manifests)."""

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from services.contracts.store import Engine, StoreSpec
from services.provisioner.engines import DEFAULT_CHARTS
from services.provisioner.medusa_values import medusa_values
from services.provisioner.ordering import Manifest
from services.provisioner.release_values import dumped_first, labelled, store_release
from services.provisioner.render import Renderer
from services.provisioner.values import StoreIngress, woocommerce_values
from services.runtime.releases import Catalog, load_catalog
from tests.fixtures.charts import one, pod_spec

AT = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
INGRESS = StoreIngress(base_domain="shops.example.com")


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return load_catalog()


async def _render(
    renderer: Renderer,
    catalog: Catalog,
    spec: StoreSpec,
    changed: bool,
    operator: tuple[Path, ...] = (),
) -> list[Manifest]:
    release = store_release(catalog, spec)
    make = woocommerce_values if spec.engine is Engine.WOOCOMMERCE else medusa_values
    values = dumped_first(labelled(make(spec, 4, AT, INGRESS), release), release, changed)
    chart = DEFAULT_CHARTS / spec.engine.value
    return await renderer.render(chart, "shop", "store-shop", values, operator, release.values)


def _setup(manifests: list[Manifest]) -> dict[str, Any]:
    return pod_spec(one(manifests, "Job"))


WOO = StoreSpec(id="shop", tenant="acme", release="woo-2026.11")
MEDUSA = StoreSpec(id="shop", tenant="acme", engine=Engine.MEDUSA, release="medusa-2026.11")


async def test_woocommerce_dumps_before_any_update_when_the_release_changes(
    renderer: Renderer, catalog: Catalog
) -> None:
    script: str = _setup(await _render(renderer, catalog, WOO, changed=True))["containers"][0][
        "args"
    ][0]
    name = "wp-content/urumi-backups/'pre-woo-2026.11-gen4.sql.gz'"
    steps = [
        "until [ -f wp-config.php ]",
        "printf 'Require all denied\\n' > wp-content/urumi-backups/.htaccess",
        f"if [ ! -f {name} ]",
        "wp db export /tmp/dump.part.sql",
        f"mv /tmp/dump.part.sql.gz {name}",
        "ls -1t wp-content/urumi-backups/pre-*.sql.gz | tail -n +4",
        "wp core install",
        "wp core update --version='6.8'",
        "wp core update-db",
        "wp wc update",
    ]
    positions = [script.index(step) for step in steps]
    assert positions == sorted(positions)


async def test_no_dump_unless_the_release_changes(renderer: Renderer, catalog: Catalog) -> None:
    """A plan change, a re-apply: the setup Job as it always was."""
    for spec in (WOO, MEDUSA):
        same = _setup(await _render(renderer, catalog, spec, changed=False))
        assert "db export" not in str(same) and "pg_dump" not in str(same)
        assert "initContainers" not in same
        dumping = await _render(renderer, catalog, spec, changed=True)
        assert (
            one(dumping, "Job")["metadata"]["name"]
            != one(await _render(renderer, catalog, spec, changed=False), "Job")["metadata"]["name"]
        )  # a new Job: its pod is immutable


async def test_medusa_dumps_into_the_database_volume_before_migrating(
    renderer: Renderer, catalog: Catalog
) -> None:
    pod = _setup(await _render(renderer, catalog, MEDUSA, changed=True))
    (dump,) = pod["initContainers"]
    assert dump["name"] == "pre-upgrade-dump"
    assert dump["image"].startswith("postgres:")  # the database's image: its pg_dump
    script: str = dump["args"][0]
    assert "pg_dump --host=postgres --username='medusa' --dbname='medusa'" in script
    assert "mv dump.part.gz 'pre-medusa-2026.11-gen4.sql.gz'" in script
    assert "tail -n +4 | xargs -r rm -f --" in script
    assert dump["env"][0]["name"] == "PGPASSWORD"
    assert "secretKeyRef" in dump["env"][0]["valueFrom"]
    assert (dump["securityContext"]["runAsUser"], pod["securityContext"]["fsGroup"]) == (999, 999)
    volumes = {v["name"]: v for v in pod["volumes"]}
    assert volumes["database"]["persistentVolumeClaim"]["claimName"] == "data-postgres-0"
    assert {"name": "database", "mountPath": "/volume"} in dump["volumeMounts"]
    # ReadWriteOnce: on the database's node.
    term = pod["affinity"]["podAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"][0]
    assert term["labelSelector"]["matchLabels"]["app.kubernetes.io/component"] == "database"
    assert "npx --no medusa db:migrate" in pod["containers"][0]["args"][0]


async def test_an_operator_sets_how_many_dumps_are_kept(
    renderer: Renderer, catalog: Catalog, tmp_path: Path
) -> None:
    operator = tmp_path / "all.yaml"
    operator.write_text("backup: {keep: 7}\n")
    script = str(_setup(await _render(renderer, catalog, WOO, changed=True, operator=(operator,))))
    assert "tail -n +8" in script
