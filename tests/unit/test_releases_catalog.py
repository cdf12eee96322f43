"""The engine release catalog: shape, consistency, the operator's merge."""

from pathlib import Path
from typing import Any

import pytest
import yaml

from services.contracts.store import Engine
from services.runtime.releases import (
    CatalogError,
    UnknownReleaseError,
    build_catalog,
    load_catalog,
    merge,
    parse_catalog_file,
    shipped_path,
)

CHARTS = Path(__file__).resolve().parents[2] / "charts"

SMALL = """
woocommerce:
  default: woo-b
  legacy: woo-a
  releases:
    - {name: woo-b, released: 2026-02-01, chart: 0.1.0, versions: {wordpress: "6.8"}}
    - {name: woo-a, released: 2026-01-01, chart: 0.1.0, versions: {wordpress: "6.7"}}
medusa:
  default: medusa-a
  legacy: medusa-a
  releases:
    - {name: medusa-a, released: 2026-01-01, chart: 0.1.0, versions: {medusa: "2.21.2"}}
"""


def _catalog(text: str = SMALL) -> Any:
    return build_catalog(parse_catalog_file(text, "test.yaml"), "test.yaml")


def test_releases_are_ordered_by_date() -> None:
    woo = _catalog().of(Engine.WOOCOMMERCE)
    assert woo.names() == ["woo-a", "woo-b"]
    assert (woo.default.name, woo.legacy.name, woo.latest.name) == ("woo-b", "woo-a", "woo-b")


def test_lookup_by_name_rank_and_the_empty_name() -> None:
    catalog = _catalog()
    assert catalog.rank(Engine.WOOCOMMERCE, "woo-a") < catalog.rank(Engine.WOOCOMMERCE, "woo-b")
    assert catalog.release(Engine.WOOCOMMERCE, "").name == "woo-a"  # a spec made before releases
    with pytest.raises(UnknownReleaseError, match=r"'medusa-a' is not a release of woocommerce "):
        catalog.release(Engine.WOOCOMMERCE, "medusa-a")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("shopify: {}\n" + SMALL, r"test.yaml: `shopify` is not an engine \(woocommerce, medusa\)"),
        (SMALL.replace("default: woo-b", "default: woo-z"), r"`woocommerce.default`: 'woo-z' is"),
        (SMALL.replace("  default: woo-b\n", ""), r"`woocommerce.default` is missing"),
        (
            SMALL.replace("  legacy: medusa-a\n", ""),
            r"`medusa.legacy` is missing \(releases: medusa-a\)",
        ),
        (SMALL.replace("name: woo-a", "name: woo-b"), r"lists release `woo-b` twice"),
        (SMALL.replace("medusa-a", "woo-a"), r"`medusa` lists release `woo-a` also in `woocom"),
        (SMALL.replace("\nmedusa:", "\nx:").split("\nx:")[0], r"`medusa` has no releases"),
        (SMALL.replace('{wordpress: "6.8"}', "{wordpress: 6.8}"), r"Expected `str`, got `float`"),
        (SMALL.replace("name: woo-a", "name: Woo_A"), r"woocommerce.releases\[1\].name"),
        (SMALL.replace("chart: 0.1.0, versions: {medusa", "versions: {medusa"), r"`chart`"),
        ("woocommerce: [", r"test.yaml: not YAML"),
    ],
)
def test_bad_catalogs_are_refused_naming_the_entry(text: str, message: str) -> None:
    with pytest.raises(CatalogError, match=message):
        _catalog(text)


def test_an_operator_file_adds_releases_and_may_change_the_default() -> None:
    extra = parse_catalog_file(
        """
woocommerce:
  default: woo-c
  releases:
    - {name: woo-c, released: 2026-03-01, chart: 0.1.0, versions: {wordpress: "6.9"},
       values: {images: {wordpress: {tag: 6.9-php8.4-apache}}}}
""",
        "extra.yaml",
    )
    merged = merge(parse_catalog_file(SMALL, "test.yaml"), extra, "extra.yaml")
    catalog = build_catalog(merged, "merged")
    woo = catalog.of(Engine.WOOCOMMERCE)
    assert (woo.names(), woo.default.name, woo.legacy.name) == (
        ["woo-a", "woo-b", "woo-c"],
        "woo-c",
        "woo-a",
    )
    assert woo.latest.values == {"images": {"wordpress": {"tag": "6.9-php8.4-apache"}}}
    assert catalog.of(Engine.MEDUSA).names() == ["medusa-a"]


def test_an_operator_file_may_not_move_the_legacy_release() -> None:
    extra = parse_catalog_file("medusa: {legacy: medusa-a}", "extra.yaml")
    with pytest.raises(CatalogError, match=r"extra.yaml: `medusa.legacy` is the shipped"):
        merge(parse_catalog_file(SMALL, "test.yaml"), extra, "extra.yaml")


def test_an_operator_file_may_not_reuse_a_shipped_name(tmp_path: Path) -> None:
    extra = tmp_path / "extra.yaml"
    extra.write_text(
        "woocommerce:\n  releases:\n"
        '    - {name: woo-2026.11, released: 2026-12-01, chart: 0.1.0, versions: {a: "1"}}\n'
    )
    with pytest.raises(CatalogError, match=r"releases.yaml \+ .*extra.yaml: .*`woo-2026.11` twice"):
        load_catalog(extra_file=str(extra))


def test_a_missing_operator_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(CatalogError, match=r"URUMI_RELEASES_FILE .*nothing.yaml: No such file"):
        load_catalog(extra_file=str(tmp_path / "nothing.yaml"))


def test_the_shipped_defaults_are_the_charts_own_pins() -> None:
    """Stores made before releases existed, and new ones at the default, render
    exactly what the charts pinned: nothing changes for existing users."""
    catalog = load_catalog(str(CHARTS))
    assert shipped_path("") == CHARTS / "releases.yaml"
    for engine in Engine:
        chart = yaml.safe_load((CHARTS / engine.value / "values.yaml").read_text())
        chart_version = yaml.safe_load((CHARTS / engine.value / "Chart.yaml").read_text())
        releases = catalog.of(engine)
        assert releases.legacy == releases.default == releases.latest
        assert releases.default.chart == chart_version["version"]
        _assert_within(releases.default.values, chart, engine.value)


def _assert_within(values: dict[str, Any], chart: dict[str, Any], where: str) -> None:
    for key, value in values.items():
        if isinstance(value, dict):
            _assert_within(value, chart[key], f"{where}.{key}")
        else:
            assert chart[key] == value, f"{where}.{key}"
