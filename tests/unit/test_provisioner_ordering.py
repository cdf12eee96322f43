"""Dependency order of manifests, and the prune key."""

from services.provisioner.ordering import KIND_ORDER, apply_order, key, rank


def m(kind: str, name: str = "x", api: str = "v1") -> dict[str, object]:
    return {"apiVersion": api, "kind": kind, "metadata": {"name": name}}


def test_dependencies_first_and_ingress_last() -> None:
    shuffled = [
        m("Ingress"),
        m("Job"),
        m("Deployment"),
        m("Service"),
        m("NetworkPolicy"),
        m("StatefulSet"),
        m("PersistentVolumeClaim"),
        m("LimitRange"),
        m("ResourceQuota"),
        m("Namespace"),
    ]
    kinds = [x["kind"] for x in apply_order(shuffled)]
    assert kinds == [
        "Namespace",
        "ResourceQuota",
        "LimitRange",
        "NetworkPolicy",
        "PersistentVolumeClaim",
        "Service",
        "StatefulSet",
        "Deployment",
        "Job",
        "Ingress",
    ]


def test_stable_within_a_kind() -> None:
    ordered = apply_order([m("NetworkPolicy", "b"), m("Namespace"), m("NetworkPolicy", "a")])
    assert [x["metadata"]["name"] for x in ordered] == ["x", "b", "a"]


def test_unknown_kinds_go_before_workloads() -> None:
    assert rank(m("ConfigMap")) < rank(m("PodDisruptionBudget")) < rank(m("StatefulSet"))
    assert KIND_ORDER[0] == "Namespace"


def test_key_uses_group_kind_name() -> None:
    assert key(m("Deployment", "web", "apps/v1")) == ("apps", "Deployment", "web")
    assert key(m("Service", "web")) == ("", "Service", "web")
