"""Guards on rendered manifests, the generated Secret, and the applied-at clock."""

from datetime import UTC, datetime
from typing import Any

import pytest

from services.contracts import labels
from services.contracts.store import StoreSpec
from services.provisioner.engines import SECRET_NAME, WOOCOMMERCE
from services.provisioner.errors import PermanentError
from services.provisioner.provision import applied_at, secret_manifest, still_at_live_generation
from services.provisioner.render import check_manifests, parse_manifests

NOW = datetime(2026, 5, 1, tzinfo=UTC)
OWN = {labels.STORE: "shop", labels.MANAGED_BY: "urumi"}


def obj(kind: str, namespace: str | None = "store-shop", **meta: object) -> dict[str, object]:
    metadata: dict[str, object] = {"name": "x", "labels": OWN, **meta}
    if namespace:
        metadata["namespace"] = namespace
    return {"apiVersion": "v1", "kind": kind, "metadata": metadata}


def test_parse_skips_empty_documents() -> None:
    text = "---\n# only a comment\n---\napiVersion: v1\nkind: Service\nmetadata: {name: a}\n---\n"
    assert [m["kind"] for m in parse_manifests(text)] == ["Service"]


def test_a_chart_may_not_leave_its_namespace() -> None:
    ns = obj("Namespace", None, name="store-shop")
    check_manifests([ns, obj("Service")], "store-shop", "shop")
    with pytest.raises(PermanentError, match="outside store-shop"):
        check_manifests([ns, obj("Service", "kube-system")], "store-shop", "shop")
    with pytest.raises(PermanentError, match="without the urumi store labels"):
        check_manifests([ns, obj("Service", labels={})], "store-shop", "shop")
    with pytest.raises(PermanentError, match="no Namespace"):
        check_manifests([obj("Service")], "store-shop", "shop")


def test_generated_secret_is_labelled_and_random() -> None:
    spec = StoreSpec(id="shop", tenant="acme")
    a, b = secret_manifest(spec, WOOCOMMERCE), secret_manifest(spec, WOOCOMMERCE)
    assert a["metadata"]["name"] == SECRET_NAME
    assert a["metadata"]["namespace"] == "store-shop"
    assert a["metadata"]["labels"][labels.TENANT] == "acme"
    assert set(a["stringData"]) == set(WOOCOMMERCE.secret)
    assert (
        a["stringData"]["wordpress-admin-password"] != b["stringData"]["wordpress-admin-password"]
    )
    assert len(a["stringData"]["mariadb-password"]) >= 24


def test_applied_at_survives_retries_of_the_same_generation() -> None:
    live = {
        "metadata": {
            "annotations": {labels.GENERATION: "4", labels.APPLIED_AT: "2026-04-30T10:00:00Z"}
        }
    }
    assert applied_at(live, 4, NOW) == datetime(2026, 4, 30, 10, tzinfo=UTC)
    assert applied_at(live, 5, NOW) == NOW
    assert applied_at(None, 1, NOW) == NOW


def test_the_namespace_names_a_new_generation_only_once_applied() -> None:
    rendered: dict[str, Any] = {
        "apiVersion": "v1",
        "kind": "Namespace",
        "metadata": {
            "name": "store-shop",
            "labels": {labels.STORE: "shop"},
            "annotations": {labels.GENERATION: "5", labels.APPLIED_AT: "2026-05-01T00:00:00Z"},
        },
    }
    live: dict[str, Any] = {
        "metadata": {
            "annotations": {labels.GENERATION: "4", labels.APPLIED_AT: "2026-04-30T10:00:00Z"}
        }
    }
    first = still_at_live_generation(rendered, live)
    assert first["metadata"]["annotations"] == live["metadata"]["annotations"]
    assert first["metadata"]["labels"] == {labels.STORE: "shop"}
    assert rendered["metadata"]["annotations"][labels.GENERATION] == "5", "rendered kept"
    assert still_at_live_generation(rendered, None) == rendered  # a new store: nothing older
