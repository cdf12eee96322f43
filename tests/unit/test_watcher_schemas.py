"""What the informers decode of each kind: everything the parsers read, and
nothing else (services/watcher/schemas.py).

Each object below carries every key a parser reads, plus some of what the API
sends besides; decoded through its kind's schema it must read exactly as the
whole object does."""

from datetime import UTC, datetime
from typing import Any

import msgspec
import pytest

from services.contracts import labels
from services.watcher.drift import DriftTracker, changed_by, signature
from services.watcher.events import dedupe_id, event_time, to_kube_event
from services.watcher.observed import (
    NamespaceObs,
    parse_ingress,
    parse_job,
    parse_namespace,
    parse_pod,
    parse_workload,
)
from services.watcher.schemas import Decoders, decode_status

T0, T1 = "2025-06-01T12:00:00Z", "2025-06-01T12:05:00Z"
OURS = {
    "manager": labels.FIELD_MANAGER,
    "operation": "Apply",
    "time": T0,
    "fieldsV1": {"f:spec": {"f:replicas": {}, "f:template": {"f:spec": {}}}},
}
STATUS = {"manager": "kcm", "operation": "Update", "subresource": "status", "time": T1,
          "fieldsV1": {"f:status": {"f:replicas": {}}}}  # fmt: skip
NOISE = {"finalizers": ["x"], "selfLink": "/x"}


def meta(name: str, **extra: Any) -> dict[str, Any]:
    return {
        "name": name,
        "namespace": "store-shop",
        "uid": f"uid-{name}",
        "resourceVersion": "42",
        "generation": 3,
        "creationTimestamp": T0,
        "labels": {labels.MANAGED_BY: labels.MANAGED_BY_VALUE, labels.COMPONENT: "web"},
        "annotations": {"a": "b"},
        "managedFields": [OURS, STATUS],
        **NOISE,
        **extra,
    }


def conditions(*types: str) -> list[dict[str, Any]]:
    return [
        {
            "type": t,
            "status": "False",
            "reason": "R",
            "message": "m",
            "lastTransitionTime": T1,
            "lastProbeTime": None,
        }
        for t in types
    ]


WORKLOAD = {
    "metadata": meta("wordpress"),
    "spec": {"replicas": 2, "minReadySeconds": 5, "template": {"spec": {"containers": []}}},
    "status": {
        "replicas": 2, "readyReplicas": 1, "availableReplicas": 1, "updatedReplicas": 2,
        "observedGeneration": 3, "currentRevision": "r1", "updateRevision": "r2",
        "conditions": conditions("Available", "Progressing"), "collisionCount": 1,
    },
}  # fmt: skip
CONTAINER_STATUS = {
    "name": "wordpress", "image": "wordpress:6.8", "ready": False, "restartCount": 4,
    "imageID": "sha256:x", "started": False,
    "state": {"waiting": {"reason": "CrashLoopBackOff", "message": "back-off"}},
    "lastState": {"terminated": {"exitCode": 1, "reason": "Error", "message": "boom"}},
}  # fmt: skip
POD = {
    "metadata": meta(
        "wordpress-7d9f8-x",
        deletionTimestamp=T1,
        ownerReferences=[
            {
                "kind": "ReplicaSet",
                "name": "wordpress-7d9f8",
                "controller": True,
                "uid": "u",
                "apiVersion": "apps/v1",
            }
        ],
        labels={
            labels.COMPONENT: "web",
            "pod-template-hash": "7d9f8",
            "batch.kubernetes.io/job-name": "setup",
        },
    ),
    "spec": {
        "initContainers": [{"name": "init", "image": "busybox:1", "env": [{"name": "A"}]}],
        "containers": [{"name": "wordpress", "image": "wordpress:6.8", "ports": [{}]}],
        "volumes": [{"name": "data"}],
        "nodeName": "node",
    },
    "status": {
        "phase": "Running",
        "conditions": conditions("PodScheduled", "ContainersReady", "Ready"),
        "initContainerStatuses": [{**CONTAINER_STATUS, "name": "init"}],
        "containerStatuses": [
            CONTAINER_STATUS,
            {"name": "done", "state": {"terminated": {"message": '{"size_bytes": 7}'}}},
        ],
        "podIP": "10.244.0.9",
    },
}
JOB = {
    "metadata": meta("setup"),
    "spec": {"template": {}},
    "status": {
        "conditions": conditions("Failed", "Complete"),
        "active": 1,
        "failed": 2,
        "startTime": T0,
        "completionTime": T1,
        "ready": 0,
    },
}
INGRESS = {
    "metadata": meta("shop", annotations={"cert-manager.io/cluster-issuer": "le", "other": "x"}),
    "spec": {
        "ingressClassName": "traefik",
        "rules": [{"host": "shop.example.test", "http": {}}, {"host": "www.shop.test"}],
        "tls": [
            {"hosts": ["shop.example.test"], "secretName": "shop-tls"},
            {"hosts": ["www.shop.test"], "secretName": "www-tls"},
        ],
    },
    "status": {"loadBalancer": {}},
}
NAMESPACE = {
    "metadata": meta(
        "store-shop",
        namespace=None,
        deletionTimestamp=T1,
        labels={labels.TENANT: "acme", labels.STORE: "shop"},
        annotations={
            labels.GENERATION: "2",
            labels.APPLIED_AT: T0,
            labels.HOST: "shop.test",
            labels.SETUP: labels.SETUP_DISABLED,
            labels.SLEEP: labels.ASLEEP_VALUE,
        },
    ),
    "spec": {"finalizers": ["kubernetes"]},
    "status": {"phase": "Terminating"},
}
EVENT = {
    "metadata": meta("wordpress.1", managedFields=[STATUS]),
    "involvedObject": {"kind": "Pod", "name": "wordpress-x", "uid": "u", "fieldPath": "x"},
    "type": "Warning",
    "reason": "BackOff",
    "message": "Back-off restarting failed container",
    "count": 7,
    "series": {"count": 7, "lastObservedTime": T1},
    "lastTimestamp": T1,
    "firstTimestamp": T0,
    "source": {"component": "kubelet"},
    "reportingComponent": "kubelet",
}
NEW_EVENT = {  # events.k8s.io/v1
    "metadata": meta("sched.1"),
    "regarding": {"kind": "Pod", "name": "mariadb-0"},
    "note": "Successfully assigned",
    "eventTime": T0,
    "reason": "Scheduled",
}


def through(kind: str, obj: dict[str, Any]) -> dict[str, Any]:
    """`obj` as the informer hands it on: a watch line decoded with the kind's schema."""
    decoders = Decoders(kind)
    line = decoders.line(msgspec.json.encode({"type": "MODIFIED", "object": obj}))
    assert line["type"] == "MODIFIED"
    return decoders.object(line["object"])


@pytest.mark.parametrize(
    ("kind", "obj", "parse"),
    [
        ("Deployment", WORKLOAD, lambda raw: parse_workload(raw, "Deployment")),
        ("StatefulSet", WORKLOAD, lambda raw: parse_workload(raw, "StatefulSet")),
        ("Pod", POD, parse_pod),
        ("Job", JOB, parse_job),
        ("Ingress", INGRESS, parse_ingress),
        ("Namespace", NAMESPACE, parse_namespace),
    ],
)
def test_the_status_reads_the_same_from_what_is_decoded(kind: str, obj: Any, parse: Any) -> None:
    decoded = through(kind, obj)
    assert parse(decoded) == parse(obj)
    assert "finalizers" not in decoded["metadata"]


def test_a_pods_spec_and_status_keep_only_what_the_status_reads() -> None:
    decoded = through("Pod", POD)
    assert "volumes" not in decoded["spec"] and "podIP" not in decoded["status"]
    assert "env" not in decoded["spec"]["initContainers"][0]
    assert "managedFields" not in decoded["metadata"]  # drift does not watch pods


def test_events_read_the_same_from_what_is_decoded() -> None:
    ns, fallback = NamespaceObs("store-shop", "acme", "shop"), datetime(2025, 1, 1, tzinfo=UTC)
    for obj in (EVENT, NEW_EVENT):
        decoded = through("Event", obj)
        assert to_kube_event(decoded, ns, fallback) == to_kube_event(obj, ns, fallback)
        assert dedupe_id(decoded) == dedupe_id(obj)
        assert event_time(decoded) == event_time(obj)
        assert "source" not in decoded and "managedFields" not in decoded["metadata"]


@pytest.mark.parametrize("kind", ["Deployment", "Job", "Ingress", "Namespace", "Service"])
def test_drift_reads_the_same_from_what_is_decoded(kind: str) -> None:
    obj = {"metadata": meta("x")}
    decoded = through(kind, obj)
    assert signature(decoded) is not None
    assert changed_by(decoded) == changed_by(obj)
    # The field set is compared as the API server wrote it: another set is drift,
    # the same set decoded again is not.
    tracker = DriftTracker()
    assert tracker.observe(kind, "ADDED", decoded) is None
    assert tracker.observe(kind, "MODIFIED", through(kind, obj)) is None
    taken = {**OURS, "fieldsV1": {"f:spec": {"f:template": {"f:spec": {}}}}}
    changed = {"metadata": meta("x", managedFields=[taken, {**STATUS, "subresource": ""}])}
    drift = tracker.observe(kind, "MODIFIED", through(kind, changed))
    assert drift is not None and drift.describe() == f"{kind}/x changed outside Urumi by kcm"


def test_a_list_page_and_an_error_decode() -> None:
    decoders = Decoders("Pod")
    body = {"metadata": {"resourceVersion": "9", "continue": "tok"}, "items": [POD, POD]}
    page = decoders.page(msgspec.json.encode(body))
    assert page["metadata"] == {"resourceVersion": "9", "continue": "tok"}
    assert [parse_pod(i) for i in page["items"]] == [parse_pod(POD)] * 2
    error = {"type": "ERROR", "object": {"kind": "Status", "code": 410, "message": "too old"}}
    line = decoders.line(msgspec.json.encode(error))
    assert decode_status(line["object"]) == error["object"]


def test_a_value_of_an_unexpected_type_reaches_the_parser() -> None:
    """A leaf of another type than the API documents must not fail the watch."""
    odd = {"metadata": {"name": 7, "labels": {"a": 1}}, "status": {"phase": None}}
    assert through("Pod", odd) == odd


@pytest.mark.parametrize("kind", ["Pod", "Deployment", "Job", "Ingress", "Namespace", "Event"])
def test_null_lists_maps_and_objects_read_as_absent(kind: str) -> None:
    """JSON null where a list, map or object goes (an empty metadata list's
    `items` is null) must not fail the watch."""
    nulls = {
        "metadata": {"labels": None, "annotations": None, "ownerReferences": None,
                     "managedFields": None},
        "spec": {"containers": None, "rules": None, "tls": None},
        "status": {"conditions": None, "containerStatuses": None},
    }  # fmt: skip
    assert through(kind, nulls)["metadata"]["labels"] is None
    assert through(kind, {"metadata": None, "spec": None, "status": None})["metadata"] is None
    page = Decoders(kind).page(b'{"metadata": {"resourceVersion": "1"}, "items": null}')
    assert page["items"] == []
