"""A release's values between the chart's defaults and the operator's, under the store's."""

from datetime import UTC, datetime
from pathlib import Path

import pytest

from services.contracts import labels
from services.contracts.store import Engine, StoreSpec
from services.provisioner.engines import DEFAULT_CHARTS
from services.provisioner.errors import PermanentError
from services.provisioner.ordering import Manifest
from services.provisioner.release_values import labelled, store_release
from services.provisioner.render import Renderer
from services.provisioner.values import StoreIngress, woocommerce_values
from services.runtime.releases import Catalog, load_catalog

AT = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
INGRESS = StoreIngress(base_domain="shops.example.com")


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return load_catalog()


def _image(manifests: list[Manifest], kind: str, container: str) -> str:
    for m in manifests:
        if m["kind"] == kind:
            for c in m["spec"]["template"]["spec"]["containers"]:
                if c["name"] == container:
                    image: str = c["image"]
                    return image
    raise AssertionError(f"no {kind} container {container}")


def test_the_store_names_its_release_and_an_empty_one_is_the_legacy_release(
    catalog: Catalog,
) -> None:
    old = StoreSpec(id="shop", tenant="acme", release="woo-2026.05")
    assert store_release(catalog, old).name == "woo-2026.05"
    before = StoreSpec(id="shop", tenant="acme", engine=Engine.MEDUSA)
    assert store_release(catalog, before).name == "medusa-2026.11"
    values = labelled({"store": {"id": "shop"}, "plan": "small"}, store_release(catalog, old))
    assert values == {"store": {"id": "shop", "release": "woo-2026.05"}, "plan": "small"}


def test_a_release_the_catalog_lacks_fails_the_store_naming_it(catalog: Catalog) -> None:
    spec = StoreSpec(id="shop", tenant="acme", release="woo-1999.01")
    with pytest.raises(PermanentError, match=r"release: 'woo-1999.01' is not a release of woo"):
        store_release(catalog, spec)


async def test_helm_layers_chart_release_operator_and_store_values(
    renderer: Renderer, catalog: Catalog, tmp_path: Path
) -> None:
    """The release sets the software; an operator's mirror keeps its release's tag;
    an operator's own tag wins over the release; the chart's pins fill the rest."""
    operator = tmp_path / "woocommerce.yaml"
    operator.write_text(
        "images:\n  wordpress: {repository: mirror.example/wordpress}\n"
        "  wpcli: {tag: cli-operator}\n"
    )
    spec = StoreSpec(id="shop", tenant="acme", release="woo-2026.05")
    release = store_release(catalog, spec)
    values = labelled(woocommerce_values(spec, 3, AT, INGRESS), release)
    manifests = await renderer.render(
        DEFAULT_CHARTS / "woocommerce", "shop", "store-shop", values, [operator], release.values
    )
    web = _image(manifests, "Deployment", "wordpress")
    assert web == "mirror.example/wordpress:6.7-php8.3-apache"
    assert _image(manifests, "Job", "wp-cli") == "wordpress:cli-operator"
    assert _image(manifests, "StatefulSet", "mariadb") == "mariadb:11.8.9"  # the chart's
    namespace = next(m for m in manifests if m["kind"] == "Namespace")
    assert namespace["metadata"]["labels"][labels.RELEASE] == "woo-2026.05"
    assert namespace["metadata"]["annotations"][labels.GENERATION] == "3"  # the store's own
    script = _setup_script(manifests)
    assert "wp plugin update woocommerce --version='9.8.5'" in script
    assert "wp core update --version='6.7'" in script


def _setup_script(manifests: list[Manifest]) -> str:
    job = next(m for m in manifests if m["kind"] == "Job")
    args: list[str] = job["spec"]["template"]["spec"]["containers"][0]["args"]
    return args[0]


async def test_an_upgrade_runs_the_database_updates_after_the_new_code(
    renderer: Renderer, catalog: Catalog
) -> None:
    """The setup Job (a new one: its name follows its content) brings WordPress's
    files up to the image, then its database, then WooCommerce and its database."""
    spec = StoreSpec(id="shop", tenant="acme", release="woo-2026.11")
    release = store_release(catalog, spec)
    values = labelled(woocommerce_values(spec, 4, AT, INGRESS), release)
    manifests = await renderer.render(
        DEFAULT_CHARTS / "woocommerce", "shop", "store-shop", values, base=release.values
    )
    script = _setup_script(manifests)
    steps = [
        "wp core update --version='6.8'",
        "wp core update-db",
        "wp plugin update woocommerce --version='9.9.5'",
        "wp plugin activate woocommerce",
        "wp wc update",
    ]
    positions = [script.index(step) for step in steps]
    assert positions == sorted(positions)
