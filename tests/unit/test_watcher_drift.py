"""Drift from managedFields: what Urumi's apply owns changed or vanished."""

from typing import Any

from services.watcher.drift import CHANGED, DELETED, Drift, DriftTracker

URUMI = "urumi-provisioner"


def entry(
    manager: str, time: str, fields: dict[str, Any], operation: str = "Apply", **extra: str
) -> dict[str, Any]:
    return {
        "manager": manager,
        "operation": operation,
        "time": time,
        "fieldsType": "FieldsV1",
        "fieldsV1": fields,
        **extra,
    }


def deployment(
    *entries: dict[str, Any], uid: str = "u1", name: str = "wordpress"
) -> dict[str, Any]:
    meta = {"name": name, "namespace": "store-shop", "uid": uid, "managedFields": list(entries)}
    return {"kind": "Deployment", "metadata": meta}


OURS: dict[str, Any] = {"f:spec": {"f:replicas": {}, "f:template": {}}}
APPLIED = entry(URUMI, "2026-12-05T05:00:00Z", OURS)


def seen(tracker: DriftTracker, obj: dict[str, Any], kind: str = "Deployment") -> None:
    assert tracker.observe(kind, "ADDED", obj) is None


def test_deleting_an_object_urumi_applied_is_drift() -> None:
    tracker = DriftTracker()
    seen(tracker, deployment(APPLIED))
    drift = tracker.observe("Deployment", "DELETED", deployment(APPLIED))
    assert drift == Drift("store-shop", "Deployment", "wordpress", DELETED)
    assert drift.describe() == "Deployment/wordpress deleted outside Urumi"


def test_an_owned_field_taken_by_another_writer_is_drift_naming_it() -> None:
    tracker = DriftTracker()
    seen(tracker, deployment(APPLIED))
    taken = entry(URUMI, APPLIED["time"], {"f:spec": {"f:template": {}}})
    edit = entry("kubectl-edit", "2026-12-05T05:01:00Z", {"f:spec": {"f:replicas": {}}}, "Update")
    drift = tracker.observe("Deployment", "MODIFIED", deployment(taken, edit))
    assert drift is not None and drift.reason == f"{CHANGED} by kubectl-edit"


def test_every_owned_field_taken_is_drift() -> None:
    tracker = DriftTracker()
    seen(tracker, deployment(APPLIED))
    edit = entry("scaler", "2026-12-05T05:01:00Z", OURS, "Update")
    assert tracker.observe("Deployment", "MODIFIED", deployment(edit)) is not None


def test_urumis_own_next_apply_is_not_drift() -> None:
    tracker = DriftTracker()
    seen(tracker, deployment(APPLIED))
    reapplied = entry(URUMI, "2026-12-05T05:09:00Z", {"f:spec": {"f:template": {}}})
    assert tracker.observe("Deployment", "MODIFIED", deployment(reapplied)) is None


def test_fields_other_managers_own_and_status_are_not_drift() -> None:
    tracker = DriftTracker()
    seen(tracker, deployment(APPLIED))
    hpa = entry("horizontal-pod-autoscaler", "2026-12-05T05:02:00Z", {"f:spec": {"f:x": {}}})
    kubelet = entry("kubelet", "2026-12-05T05:03:00Z", {"f:metadata": {}}, "Update")
    status = entry("kube-controller-manager", "2026-12-05T05:04:00Z", {}, "Update")
    status["subresource"] = "status"
    obj = deployment(APPLIED, hpa, kubelet, status)
    assert tracker.observe("Deployment", "MODIFIED", obj) is None


def test_objects_urumi_did_not_apply_are_never_drift() -> None:
    tracker = DriftTracker()
    pvc = deployment(entry("kube-controller-manager", "t", {}, "Update"), name="data-mariadb-0")
    seen(tracker, pvc, "PersistentVolumeClaim")
    assert tracker.observe("PersistentVolumeClaim", "DELETED", pvc) is None


def test_a_deleted_namespace_is_a_deleted_store_not_drift() -> None:
    tracker = DriftTracker()
    ns = {
        "kind": "Namespace",
        "metadata": {"name": "store-shop", "uid": "n", "managedFields": [APPLIED]},
    }
    seen(tracker, ns, "Namespace")
    seen(tracker, deployment(APPLIED))
    assert tracker.observe("Namespace", "DELETED", ns) is None
    # Its objects are forgotten with it: their deletion is no drift either.
    assert tracker.observe("Deployment", "DELETED", deployment(APPLIED)) is None


def test_a_relist_finds_what_vanished_or_changed_while_the_watch_was_down() -> None:
    tracker = DriftTracker()
    seen(tracker, deployment(APPLIED))
    seen(tracker, deployment(APPLIED, uid="u2", name="worker"))
    taken = entry(URUMI, APPLIED["time"], {})
    drifts = tracker.relist("Deployment", [deployment(taken, uid="u2", name="worker")])
    assert sorted(d.describe() for d in drifts) == [
        "Deployment/wordpress deleted outside Urumi",
        "Deployment/worker changed outside Urumi",
    ]
    assert tracker.relist("Deployment", []) == [
        Drift("store-shop", "Deployment", "worker", DELETED)
    ]


def test_a_first_list_is_never_drift() -> None:
    assert DriftTracker().relist("Deployment", [deployment(APPLIED)]) == []
