"""The gateway's release rules, without HTTP: create, change, and the view."""

from datetime import UTC, datetime

import pytest

from services.contracts.phases import Phase
from services.contracts.store import Engine, Plan
from services.gateway import releases
from services.gateway.domain_errors import ConflictError, InvalidFieldError
from services.gateway.models import StoreView
from services.runtime.releases import Catalog, load_catalog

OLD, NEW, MEDUSA = "woo-2026.05", "woo-2026.11", "medusa-2026.11"


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return load_catalog()


def store(release: str, engine: Engine = Engine.WOOCOMMERCE) -> StoreView:
    at = datetime(2026, 12, 1, tzinfo=UTC)
    return StoreView(
        id="shop", tenant="acme", engine=engine, plan=Plan.SMALL, display_name="",
        storage_plan=Plan.SMALL, phase=Phase.READY, generation=1, url="", reason="",
        message="", conditions=[], created_at=at, updated_at=at, release=release,
    )  # fmt: skip


def test_a_create_gets_the_named_release_or_its_engines_default(catalog: Catalog) -> None:
    assert releases.for_create(catalog, Engine.WOOCOMMERCE, "") == NEW
    assert releases.for_create(catalog, Engine.MEDUSA, "") == MEDUSA
    assert releases.for_create(catalog, Engine.WOOCOMMERCE, OLD) == OLD
    with pytest.raises(InvalidFieldError, match=r"`release`: 'woo-1999.01' is not a release of"):
        releases.for_create(catalog, Engine.WOOCOMMERCE, "woo-1999.01")
    with pytest.raises(InvalidFieldError, match=r"is a release of woocommerce, and this store's"):
        releases.for_create(catalog, Engine.MEDUSA, NEW)


def test_a_change_upgrades_refuses_a_downgrade_unless_allowed(catalog: Catalog) -> None:
    assert releases.for_update(catalog, store(OLD), NEW, allow_downgrade=False) == NEW
    assert releases.for_update(catalog, store(OLD), None, allow_downgrade=False) == OLD
    with pytest.raises(ConflictError, match=r"older than the store's woo-2026.11: .*one-way"):
        releases.for_update(catalog, store(NEW), OLD, allow_downgrade=False)
    assert releases.for_update(catalog, store(NEW), OLD, allow_downgrade=True) == OLD
    with pytest.raises(ConflictError, match=r"`release`: 'medusa-2026.11' is a release of medusa"):
        releases.for_update(catalog, store(NEW), MEDUSA, allow_downgrade=False)


def test_a_store_from_before_releases_keeps_its_empty_release_until_it_changes(
    catalog: Catalog,
) -> None:
    before = store("")
    assert releases.current(catalog, before) == NEW  # the legacy release
    assert releases.for_update(catalog, before, NEW, allow_downgrade=False) == ""
    assert releases.same_for_recreate(catalog, before, NEW)
    assert not releases.same_for_recreate(catalog, before, OLD)


def test_the_view_says_when_a_newer_release_exists(catalog: Catalog) -> None:
    old = releases.present(catalog, store(OLD))
    assert (old.release, old.latest_release, old.upgrade_available) == (OLD, NEW, True)
    new = releases.present(catalog, store(""))
    assert (new.release, new.latest_release, new.upgrade_available) == (NEW, NEW, False)
    gone = releases.present(catalog, store("woo-removed"))  # an operator's, since removed
    assert (gone.release, gone.upgrade_available) == ("woo-removed", True)
