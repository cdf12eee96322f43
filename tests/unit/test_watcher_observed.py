"""Raw API objects → observed snapshots, and the per-namespace cache."""

from datetime import UTC, datetime
from typing import Any

from services.contracts import labels
from services.watcher.cache import StoreCache
from services.watcher.kinds import DRIFT_KINDS, KINDS, rbac_rules
from services.watcher.observed import (
    parse_certificate,
    parse_challenge,
    parse_ingress,
    parse_job,
    parse_pod,
    parse_workload,
)

T0 = "2025-06-01T12:00:00Z"


def meta(name: str, namespace: str = "store-shop", component: str = "", **extra: Any) -> Any:
    lbl = {labels.MANAGED_BY: labels.MANAGED_BY_VALUE}
    if component:
        lbl[labels.COMPONENT] = component
    return {"name": name, "namespace": namespace, "labels": lbl, **extra}


def namespace(name: str = "store-shop", generation: str = "2", **extra: Any) -> Any:
    m = meta(name, "")
    m["labels"] |= {labels.TENANT: "acme", labels.STORE: name.removeprefix("store-")}
    m["annotations"] = {
        labels.GENERATION: generation,
        labels.APPLIED_AT: T0,
        labels.HOST: "shop.example.test",
    }
    return {"metadata": {**m, "creationTimestamp": T0, **extra}, "status": {"phase": "Active"}}


def deployment(available: str = "True", observed: int = 3, **status: int) -> Any:
    return {
        "metadata": meta("wordpress", component="web", generation=3),
        "spec": {"replicas": 2},
        "status": {
            "observedGeneration": observed,
            "replicas": 2,
            "updatedReplicas": 2,
            "readyReplicas": 2,
            "availableReplicas": 2,
            "conditions": [{"type": "Available", "status": available}],
            **status,
        },
    }


def statefulset(**status: Any) -> Any:
    return {
        "metadata": meta("mariadb", component="database", generation=4),
        "spec": {"replicas": 1},
        "status": {
            "observedGeneration": 4,
            "replicas": 1,
            "readyReplicas": 1,
            "updatedReplicas": 1,
            "currentRevision": "mariadb-7d",
            "updateRevision": "mariadb-7d",
            **status,
        },
    }


def pod(**status: Any) -> Any:
    return {
        "metadata": meta("wordpress-abc", component="web", creationTimestamp=T0),
        "spec": {
            "initContainers": [{"name": "init", "image": "busybox:1"}],
            "containers": [{"name": "wordpress", "image": "wordpress:6.8"}],
        },
        "status": status,
    }


def test_namespace_parse_reads_annotations() -> None:
    cache = StoreCache()
    cache.record_watch_event("Namespace", "ADDED", namespace())
    ns = cache.namespace("store-shop")
    assert ns is not None
    assert (ns.tenant, ns.store, ns.generation, ns.host) == ("acme", "shop", 2, "shop.example.test")
    assert ns.applied_at == datetime(2025, 6, 1, 12, tzinfo=UTC)
    assert not ns.terminating


def test_namespace_without_store_labels_is_ignored() -> None:
    cache = StoreCache()
    raw = {"metadata": meta("store-x", ""), "status": {}}
    assert cache.record_watch_event("Namespace", "ADDED", raw) == set()
    assert cache.stores() == []


def test_bad_generation_annotation_reads_as_zero() -> None:
    cache = StoreCache()
    cache.record_watch_event("Namespace", "ADDED", namespace(generation="x"))
    ns = cache.namespace("store-shop")
    assert ns is not None
    assert ns.generation == 0


def test_deployment_parse() -> None:
    w = parse_workload(deployment(), "Deployment")
    assert (w.kind, w.name, w.component, w.replicas) == ("Deployment", "wordpress", "web", 2)
    assert w.available is True
    assert w.up_to_date
    assert parse_workload(deployment(observed=2), "Deployment").up_to_date is False
    assert parse_workload(deployment(available="False"), "Deployment").available is False


def test_a_rollout_under_way_is_not_up_to_date() -> None:
    """What `kubectl rollout status` waits for: a replica of the old template may
    still count as ready just before it is replaced."""
    assert parse_workload(statefulset(), "StatefulSet").up_to_date
    replacing = statefulset(updateRevision="mariadb-9f", updatedReplicas=0)
    assert not parse_workload(replacing, "StatefulSet").up_to_date
    assert not parse_workload(statefulset(updateRevision="mariadb-9f"), "StatefulSet").up_to_date
    old_pods_left = deployment(replicas=3)
    assert not parse_workload(old_pods_left, "Deployment").up_to_date
    none_updated = deployment()
    del none_updated["status"]["updatedReplicas"]  # the API omits a 0
    assert not parse_workload(none_updated, "Deployment").up_to_date


def test_statefulset_parse_has_no_available_flag() -> None:
    raw = {"metadata": meta("mariadb", component="database"), "spec": {}, "status": {}}
    w = parse_workload(raw, "StatefulSet")
    assert (w.replicas, w.ready_replicas, w.available) == (1, 0, None)


def test_job_parse_failed_condition() -> None:
    raw = {
        "metadata": meta("setup", component="setup"),
        "status": {
            "failed": 3,
            "conditions": [
                {
                    "type": "Failed",
                    "status": "True",
                    "reason": "BackoffLimitExceeded",
                    "message": "Job has reached the specified backoff limit",
                },
            ],
        },
    }
    j = parse_job(raw)
    assert (j.failed, j.complete, j.reason, j.failed_pods) == (
        True,
        False,
        "BackoffLimitExceeded",
        3,
    )
    assert "backoff limit" in j.message


def test_pod_parse_waiting_and_last_exit() -> None:
    p = parse_pod(
        pod(
            phase="Running",
            containerStatuses=[
                {
                    "name": "wordpress",
                    "image": "wordpress:6.8",
                    "restartCount": 4,
                    "ready": False,
                    "state": {"waiting": {"reason": "CrashLoopBackOff", "message": "back-off"}},
                    "lastState": {"terminated": {"exitCode": 1, "reason": "Error"}},
                }
            ],
        )
    )
    assert [c.name for c in p.containers] == ["init", "wordpress"]
    c = p.containers[1]
    assert (c.waiting_reason, c.restarts, c.last_exit) == (
        "CrashLoopBackOff",
        4,
        "exit code 1 (Error)",
    )
    assert p.containers[0].image == "busybox:1"  # no status yet: the spec's image
    assert p.unschedulable is None


def test_pod_parse_ready_and_its_workload() -> None:
    ready = {"type": "Ready", "status": "True", "lastTransitionTime": T0}
    raw = pod(conditions=[ready])
    raw["metadata"]["labels"]["pod-template-hash"] = "7d9f8"
    raw["metadata"]["ownerReferences"] = [
        {"kind": "ReplicaSet", "name": "wordpress-7d9f8", "controller": True}
    ]
    p = parse_pod(raw)
    assert (p.ready, p.workload) == (True, ("Deployment", "wordpress"))
    raw["metadata"]["ownerReferences"] = [
        {"kind": "StatefulSet", "name": "mariadb", "controller": True}
    ]
    assert parse_pod(raw).workload == ("StatefulSet", "mariadb")
    raw["metadata"]["ownerReferences"] = [{"kind": "Job", "name": "setup", "controller": True}]
    assert parse_pod(raw).workload == ("", "")
    assert (parse_pod(pod()).ready, parse_pod(pod()).workload) == (False, ("", ""))


def test_deployment_parse_min_ready_seconds() -> None:
    raw = deployment()
    raw["spec"]["minReadySeconds"] = 10
    assert parse_workload(raw, "Deployment").min_ready_s == 10


def test_pod_parse_unschedulable() -> None:
    cond = {"type": "PodScheduled", "status": "False", "reason": "Unschedulable",
            "message": "0/1 nodes are available"}  # fmt: skip
    assert parse_pod(pod(conditions=[cond])).unschedulable == "0/1 nodes are available"
    scheduled = {**cond, "status": "True"}
    assert parse_pod(pod(conditions=[scheduled])).unschedulable is None


def test_pod_down_since_is_when_it_stopped_serving_not_when_it_was_made() -> None:
    """A day-old pod whose container crashed an hour ago has been down an hour; the
    kubelet keeps ContainersReady's transition time through the restarts after."""
    crashed = "2025-06-02T11:00:00Z"
    down = [
        {"type": "Ready", "status": "False", "lastTransitionTime": crashed},
        {"type": "ContainersReady", "status": "False", "lastTransitionTime": crashed},
        {"type": "PodScheduled", "status": "True", "lastTransitionTime": T0},
    ]
    assert parse_pod(pod(conditions=down)).down_since == datetime(2025, 6, 2, 11, tzinfo=UTC)
    up = [{**c, "status": "True"} for c in down]
    assert parse_pod(pod(conditions=up)).down_since is None


def test_pod_down_since_falls_back_to_creation() -> None:
    made = datetime(2025, 6, 1, 12, tzinfo=UTC)
    assert parse_pod(pod()).down_since == made  # nothing reported yet
    scheduled = {"type": "PodScheduled", "status": "True", "lastTransitionTime": T0}
    assert parse_pod(pod(conditions=[scheduled])).down_since == made  # not started yet
    no_time = {"type": "ContainersReady", "status": "False"}
    assert parse_pod(pod(conditions=[scheduled, no_time])).down_since == made


def test_unschedulable_pod_is_down_since_the_scheduler_said_so() -> None:
    cond = {"type": "PodScheduled", "status": "False", "reason": "Unschedulable",
            "lastTransitionTime": "2025-06-01T12:00:05Z"}  # fmt: skip
    assert parse_pod(pod(conditions=[cond])).down_since == datetime(
        2025, 6, 1, 12, 0, 5, tzinfo=UTC
    )


def test_ingress_parse() -> None:
    raw = {
        "metadata": meta("shop"),
        "spec": {
            "rules": [{"host": "shop.example.test"}],
            "tls": [{"hosts": ["shop.example.test"]}],
        },
    }
    ing = parse_ingress(raw)
    assert ing.hosts == ("shop.example.test",)
    assert ing.tls_hosts == ("shop.example.test",)


def test_ingress_asking_cert_manager_waits_for_the_certificate_named_after_its_secret() -> None:
    spec = {
        "rules": [{"host": "shop.example.test"}],
        "tls": [{"hosts": ["shop.example.test"], "secretName": "shop-tls"}],
    }
    issuer = {"cert-manager.io/cluster-issuer": "letsencrypt-prod"}
    assert parse_ingress({"metadata": meta("shop"), "spec": spec}).certificate == ""
    asking = parse_ingress({"metadata": meta("shop", annotations=issuer), "spec": spec})
    assert asking.certificate == "shop-tls"
    # The controller's default (wildcard) certificate: TLS, but no Certificate to wait for.
    wildcard = {**spec, "tls": [{"hosts": ["shop.example.test"]}]}
    assert parse_ingress({"metadata": meta("shop", annotations=issuer), "spec": wildcard}) == (
        parse_ingress({"metadata": meta("shop"), "spec": wildcard})
    )


def test_each_own_domain_of_the_store_waits_for_the_certificate_its_ingress_asks_for() -> None:
    spec = {
        "rules": [{"host": h} for h in ("shop.example.test", "shop.example.com", "b.example.org")],
        "tls": [
            {"hosts": ["shop.example.test"]},
            {"hosts": ["shop.example.com"], "secretName": "domain-shop-example-com-1-tls"},
        ],
    }
    issuer = {"cert-manager.io/cluster-issuer": "le"}
    ing = parse_ingress({"metadata": meta("shop", annotations=issuer), "spec": spec})
    assert (ing.certificate, ing.domain_certificates) == (
        "",
        (("shop.example.com", "domain-shop-example-com-1-tls"),),
    )


def test_certificate_parse_keeps_cert_managers_words() -> None:
    ready = {"type": "Ready", "status": "False", "reason": "Failed", "message": "rate limited"}
    cert = parse_certificate({"metadata": meta("shop-tls"), "status": {"conditions": [ready]}})
    assert (cert.name, cert.ready, cert.reason, cert.message) == (
        "shop-tls", False, "Failed", "rate limited",
    )  # fmt: skip
    assert not parse_certificate({"metadata": meta("shop-tls")}).ready


def test_challenge_parse_keeps_the_host_state_and_reason() -> None:
    raw = {
        "metadata": meta("shop-tls-1-2-3"),
        "spec": {"dnsName": "shop.example.test", "type": "HTTP-01"},
        "status": {"state": "pending", "reason": "wrong status code '503'", "presented": True},
    }
    ch = parse_challenge(raw)
    assert (ch.name, ch.dns_name, ch.state, ch.reason) == (
        "shop-tls-1-2-3", "shop.example.test", "pending", "wrong status code '503'",
    )  # fmt: skip


def test_cache_keeps_certificates_with_their_store() -> None:
    cache = StoreCache()
    cache.record_watch_event("Namespace", "ADDED", namespace())
    ready = {"type": "Ready", "status": "True"}
    raw = {"metadata": meta("shop-tls"), "status": {"conditions": [ready]}}
    assert cache.record_watch_event("Certificate", "ADDED", raw) == {"store-shop"}
    snap = cache.snapshot("store-shop")
    assert snap is not None
    assert [(c.name, c.ready) for c in snap.certificates] == [("shop-tls", True)]


def test_cache_groups_objects_by_namespace() -> None:
    cache = StoreCache()
    cache.record_watch_event("Namespace", "ADDED", namespace())
    assert cache.record_watch_event("Deployment", "ADDED", deployment()) == {"store-shop"}
    cache.record_watch_event("Pod", "ADDED", pod())
    snap = cache.snapshot("store-shop")
    assert snap is not None
    assert not snap.gone
    assert [w.name for w in snap.workloads] == ["wordpress"]
    assert len(snap.pods) == 1
    cache.record_watch_event("Pod", "DELETED", pod())
    snap = cache.snapshot("store-shop")
    assert snap is not None
    assert snap.pods == ()


def test_cache_namespace_deleted_keeps_last_generation_until_forgotten() -> None:
    cache = StoreCache()
    cache.record_watch_event("Namespace", "ADDED", namespace(generation="3"))
    cache.record_watch_event("Namespace", "DELETED", namespace(generation="4"))
    snap = cache.snapshot("store-shop")
    assert snap is not None
    assert snap.gone
    assert snap.namespace.generation == 4
    assert cache.namespace("store-shop") is None
    cache.forget("store-shop")
    assert cache.snapshot("store-shop") is None
    assert cache.stores() == []


def test_cache_relist_finds_vanished_namespaces_and_objects() -> None:
    cache = StoreCache()
    cache.record_watch_event("Namespace", "ADDED", namespace("store-a"))
    cache.record_watch_event("Namespace", "ADDED", namespace("store-b"))
    cache.record_watch_event("Deployment", "ADDED", deployment())
    touched = cache.replace("Namespace", [namespace("store-b")])
    assert touched == {"store-a", "store-b"}
    snap_a = cache.snapshot("store-a")
    assert snap_a is not None
    assert snap_a.gone
    assert cache.replace("Deployment", []) == {"store-shop"}


def test_recreated_namespace_is_live_again() -> None:
    cache = StoreCache()
    cache.record_watch_event("Namespace", "DELETED", namespace())
    cache.record_watch_event("Namespace", "ADDED", namespace(generation="5"))
    snap = cache.snapshot("store-shop")
    assert snap is not None
    assert not snap.gone
    assert snap.namespace.generation == 5


def test_rbac_is_read_only_and_covers_every_kind() -> None:
    rules = rbac_rules()
    assert all(r["verbs"] == ["get", "list", "watch"] for r in rules)
    covered = {(g, res) for r in rules for g in r["apiGroups"] for res in r["resources"]}
    assert covered == {(k.group, k.resource) for k in KINDS + DRIFT_KINDS}


def test_an_update_that_changes_nothing_the_status_reads_changes_no_store() -> None:
    """A quota recount, a status heartbeat: the cache says no store changed, so
    the controller does not re-evaluate one for it."""
    cache = StoreCache()
    assert cache.record_watch_event("Namespace", "ADDED", namespace()) == {"store-shop"}
    assert cache.record_watch_event("Deployment", "ADDED", deployment()) == {"store-shop"}
    again = deployment()
    again["metadata"]["resourceVersion"] = "43"
    again["status"]["collisionCount"] = 1
    assert cache.record_watch_event("Deployment", "MODIFIED", again) == set()
    assert cache.record_watch_event("Namespace", "MODIFIED", namespace()) == set()
    assert cache.record_watch_event("Deployment", "MODIFIED", deployment("False")) == {"store-shop"}
    # A relist still re-evaluates every store it lists, and finds none vanished.
    assert cache.replace("Namespace", [namespace()]) == {"store-shop"}
    assert cache.namespace("store-shop") is not None
    assert cache.record_watch_event("Deployment", "DELETED", deployment()) == {"store-shop"}
