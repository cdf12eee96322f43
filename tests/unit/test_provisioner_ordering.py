"""Dependency order of manifests, and the prune key."""

from services.provisioner.ordering import KIND_ORDER, STAGES, apply_order, key, rank, stages


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


def test_an_apply_is_reported_in_stages() -> None:
    """A store's progress names each stage once, with every object it applied."""
    ordered = apply_order(
        [
            m("Ingress"),
            m("Job", "setup"),
            m("Deployment", "web"),
            m("Service", "web"),
            m("PodDisruptionBudget", "web"),
            m("NetworkPolicy", "b"),
            m("PersistentVolumeClaim", "media"),
            m("ResourceQuota"),
        ]
    )
    cut = [(stage, [x["metadata"]["name"] for x in objs]) for stage, objs in stages(ordered)]
    assert cut == [
        ("guard rails", ["x", "b"]),
        ("storage and services", ["media", "web", "web"]),
        ("workloads", ["web", "setup"]),
        ("routing", ["x"]),
    ]


def test_every_known_kind_but_the_namespace_has_a_stage() -> None:
    """...and the stages follow the apply order, so none is reported twice."""
    staged = {kind for _, kinds in STAGES for kind in kinds}
    assert staged == set(KIND_ORDER) - {"Namespace"}
    everything = apply_order(m(kind) for kind in reversed(KIND_ORDER[1:]))
    assert [stage for stage, _ in stages(everything)] == [stage for stage, _ in STAGES]
