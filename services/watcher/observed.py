"""Plain-data snapshots of a store's Kubernetes objects (pure, no I/O).

The informers turn each raw API object (a JSON dict) into one of these as it
arrives, keeping only what the state machine reads: the cache stays small and
`status.evaluate` never touches the API's shapes.
"""

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, Final

import msgspec

from services.contracts import labels

Raw = Mapping[str, Any]


class NamespaceObs(msgspec.Struct, frozen=True):
    name: str
    tenant: str
    store: str
    generation: int = 0
    created: datetime | None = None
    applied_at: datetime | None = None  # when this generation's apply started
    host: str = ""
    terminating: bool = False
    setup_disabled: bool = False  # the chart runs no setup Job for this store
    asleep: bool = False  # the store's spec has it asleep: no pod should run


class WorkloadObs(msgspec.Struct, frozen=True):
    """A Deployment or StatefulSet."""

    kind: str
    name: str
    component: str
    replicas: int = 1
    ready_replicas: int = 0
    available_replicas: int = 0
    up_to_date: bool = True  # the controller has observed the latest spec and rolled it out
    available: bool | None = None  # Deployment `Available` condition; None for StatefulSets
    # spec.minReadySeconds: while it is above 0, a ready pod is not yet available,
    # so only the Deployment's own count says when it is.
    min_ready_s: int = 0


class JobObs(msgspec.Struct, frozen=True):
    name: str
    component: str
    complete: bool = False
    failed: bool = False
    reason: str = ""  # of the Failed condition
    message: str = ""
    active: int = 0
    failed_pods: int = 0
    started: datetime | None = None
    completed: datetime | None = None  # when it succeeded or failed


class ContainerObs(msgspec.Struct, frozen=True):
    name: str
    image: str
    ready: bool = False
    restarts: int = 0
    waiting_reason: str = ""
    waiting_message: str = ""
    last_exit: str = ""  # how the previous run ended, for crash loops


class PodObs(msgspec.Struct, frozen=True):
    name: str
    component: str
    created: datetime | None = None
    phase: str = "Pending"
    deleting: bool = False
    unschedulable: str | None = None  # the scheduler's message
    containers: tuple[ContainerObs, ...] = ()
    # Since when the pod has not been serving (None: its conditions say it is):
    # a problem's age, where the pod's own age would make an old pod that just
    # began crashing look as if it had crashed all its life.
    down_since: datetime | None = None
    job: str = ""  # the Job that made it
    # What its containers that ended said (their termination messages), in order.
    results: tuple[str, ...] = ()
    ready: bool = False  # its Ready condition
    # The workload that runs it, (kind, name): a Deployment (through its
    # ReplicaSet) or a StatefulSet; ("", "") for any other pod.
    workload: tuple[str, str] = ("", "")


class IngressObs(msgspec.Struct, frozen=True):
    name: str
    hosts: tuple[str, ...] = ()
    tls_hosts: tuple[str, ...] = ()
    # The cert-manager Certificate its first host waits for: the TLS Secret's name,
    # which cert-manager's ingress-shim names the Certificate after; "" when no
    # issuer annotation asks cert-manager (plain HTTP, or the controller's wildcard).
    certificate: str = ""
    # The same for each further host (the store's own domains): (host, Certificate).
    domain_certificates: tuple[tuple[str, str], ...] = ()


class CertificateObs(msgspec.Struct, frozen=True):
    """A cert-manager Certificate: its Ready condition, in cert-manager's words."""

    name: str
    ready: bool = False
    reason: str = ""
    message: str = ""


class ChallengeObs(msgspec.Struct, frozen=True):
    """A cert-manager ACME Challenge: where an order is stuck (e.g. the solver is
    unreachable), which the Certificate's own message does not say."""

    name: str
    dns_name: str
    state: str = ""  # pending, valid, invalid, errored, ...
    reason: str = ""


class StoreObjects(msgspec.Struct, frozen=True):
    """Everything observed about one store; `namespace` is the last one seen."""

    namespace: NamespaceObs
    gone: bool = False  # the namespace no longer exists
    workloads: tuple[WorkloadObs, ...] = ()
    jobs: tuple[JobObs, ...] = ()
    pods: tuple[PodObs, ...] = ()
    ingresses: tuple[IngressObs, ...] = ()
    certificates: tuple[CertificateObs, ...] = ()
    challenges: tuple[ChallengeObs, ...] = ()

    def empty(self) -> bool:
        return not (self.workloads or self.jobs or self.pods or self.ingresses)


def _dig(raw: Raw | None, *keys: str) -> Any:
    node: Any = raw
    for key in keys:
        if not isinstance(node, Mapping):
            return None
        node = node.get(key)
    return node


def parse_time(value: object) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        return None


def _int(value: object, default: int = 0) -> int:
    return value if isinstance(value, int) else default


def _condition(raw: Raw, type_: str) -> Raw | None:
    for cond in _dig(raw, "status", "conditions") or ():
        if isinstance(cond, Mapping) and cond.get("type") == type_:
            return cond
    return None


def _is_true(cond: Raw | None) -> bool:
    return cond is not None and cond.get("status") == "True"


def component_of(raw: Raw) -> str:
    return str(_dig(raw, "metadata", "labels", labels.COMPONENT) or "")


def parse_namespace(raw: Raw) -> NamespaceObs | None:
    """None for a managed namespace that does not name its store (not ours to judge)."""
    meta = raw.get("metadata") or {}
    lbl = meta.get("labels") or {}
    ann = meta.get("annotations") or {}
    tenant, store = lbl.get(labels.TENANT), lbl.get(labels.STORE)
    if not tenant or not store:
        return None
    try:
        generation = int(ann.get(labels.GENERATION, "0"))
    except ValueError:
        generation = 0
    return NamespaceObs(
        name=meta.get("name", ""),
        tenant=tenant,
        store=store,
        generation=generation,
        created=parse_time(meta.get("creationTimestamp")),
        applied_at=parse_time(ann.get(labels.APPLIED_AT)),
        host=ann.get(labels.HOST, ""),
        terminating=bool(meta.get("deletionTimestamp"))
        or _dig(raw, "status", "phase") == "Terminating",
        setup_disabled=ann.get(labels.SETUP) == labels.SETUP_DISABLED,
        asleep=ann.get(labels.SLEEP) == labels.ASLEEP_VALUE,
    )


def parse_workload(raw: Raw, kind: str) -> WorkloadObs:
    """`kind` is passed in: items of a list response carry no `kind` of their own."""
    meta = raw.get("metadata") or {}
    status = raw.get("status") or {}
    available = None
    if kind == "Deployment":
        available = _is_true(_condition(raw, "Available"))
    return WorkloadObs(
        kind=kind,
        name=meta.get("name", ""),
        component=component_of(raw),
        replicas=_int(_dig(raw, "spec", "replicas"), 1),
        ready_replicas=_int(status.get("readyReplicas")),
        available_replicas=_int(status.get("availableReplicas")),
        up_to_date=_observed(raw) and _rolled_out(raw, kind),
        available=available,
        min_ready_s=_int(_dig(raw, "spec", "minReadySeconds")),
    )


def _observed(raw: Raw) -> bool:
    status = raw.get("status") or {}
    return _int(status.get("observedGeneration")) >= _int(_dig(raw, "metadata", "generation"))


def _rolled_out(raw: Raw, kind: str) -> bool:
    """No pod of an older template left (as `kubectl rollout status` judges it): a
    replica still counted ready may be about to be replaced."""
    status = raw.get("status") or {}
    wanted = _int(_dig(raw, "spec", "replicas"), 1)
    updated = _int(status.get("updatedReplicas"))  # omitted when 0
    if kind == "StatefulSet":
        current, update = status.get("currentRevision"), status.get("updateRevision")
        return updated >= wanted and (current == update or not update)
    return updated >= wanted and _int(status.get("replicas")) <= updated


def parse_job(raw: Raw) -> JobObs:
    failed = _condition(raw, "Failed")
    status = raw.get("status") or {}
    return JobObs(
        name=_dig(raw, "metadata", "name") or "",
        component=component_of(raw),
        complete=_is_true(_condition(raw, "Complete")),
        failed=_is_true(failed),
        reason=str((failed or {}).get("reason") or ""),
        message=str((failed or {}).get("message") or ""),
        active=_int(status.get("active")),
        failed_pods=_int(status.get("failed")),
        started=parse_time(status.get("startTime")),
        completed=parse_time(status.get("completionTime"))
        or parse_time((failed or {}).get("lastTransitionTime")),
    )


def _last_exit(status: Raw) -> str:
    term = _dig(status, "lastState", "terminated")
    if not isinstance(term, Mapping):
        return ""
    text = f"exit code {term.get('exitCode', '?')}"
    if term.get("reason"):
        text += f" ({term['reason']})"
    if term.get("message"):
        text += f": {term['message']}"
    return text


def _containers(spec: Sequence[Raw], statuses: Sequence[Raw]) -> tuple[ContainerObs, ...]:
    by_name = {s.get("name"): s for s in statuses if isinstance(s, Mapping)}
    out = []
    for c in spec:
        st = by_name.get(c.get("name"), {})
        waiting = _dig(st, "state", "waiting") or {}
        out.append(
            ContainerObs(
                name=c.get("name", ""),
                image=st.get("image") or c.get("image", ""),
                ready=bool(st.get("ready")),
                restarts=_int(st.get("restartCount")),
                waiting_reason=str(waiting.get("reason") or ""),
                waiting_message=str(waiting.get("message") or ""),
                last_exit=_last_exit(st),
            )
        )
    return tuple(out)


def _down_since(raw: Raw, created: datetime | None) -> datetime | None:
    """When the kubelet (or the scheduler) last turned the pod's readiness False:
    the lastTransitionTime of PodScheduled or ContainersReady, which stays put while
    the pod stays down (restart after restart) and moves when it comes back."""
    scheduled = _condition(raw, "PodScheduled")
    containers = _condition(raw, "ContainersReady")
    if scheduled is not None and scheduled.get("status") == "False":
        down = scheduled
    elif containers is None:  # not started yet: down since it was made
        return created
    elif containers.get("status") == "True":
        return None
    else:
        down = containers
    return parse_time(down.get("lastTransitionTime")) or created


def parse_pod(raw: Raw) -> PodObs:
    meta = raw.get("metadata") or {}
    spec = raw.get("spec") or {}
    status = raw.get("status") or {}
    scheduled = _condition(raw, "PodScheduled") or {}
    unschedulable = None
    if scheduled.get("status") == "False" and scheduled.get("reason") == "Unschedulable":
        unschedulable = str(scheduled.get("message") or "no node fits the pod")
    containers = _containers(
        list(spec.get("initContainers") or ()), list(status.get("initContainerStatuses") or ())
    ) + _containers(list(spec.get("containers") or ()), list(status.get("containerStatuses") or ()))
    created = parse_time(meta.get("creationTimestamp"))
    return PodObs(
        name=meta.get("name", ""),
        component=component_of(raw),
        created=created,
        phase=str(status.get("phase") or "Pending"),
        deleting=bool(meta.get("deletionTimestamp")),
        unschedulable=unschedulable,
        containers=containers,
        down_since=_down_since(raw, created),
        job=str((meta.get("labels") or {}).get("batch.kubernetes.io/job-name") or ""),
        results=tuple(
            str(message)
            for c in status.get("containerStatuses") or ()
            if (message := _dig(c, "state", "terminated", "message"))
        ),
        ready=_is_true(_condition(raw, "Ready")),
        workload=_workload_of(meta),
    )


def _workload_of(meta: Raw) -> tuple[str, str]:
    """The Deployment or StatefulSet a pod belongs to, from its controller reference.

    A Deployment's pods are owned by a ReplicaSet named ``<deployment>-<hash>``,
    with the same hash in the pod's ``pod-template-hash`` label."""
    owner = next(
        (
            o
            for o in meta.get("ownerReferences") or ()
            if isinstance(o, Mapping) and o.get("controller")
        ),
        None,
    )
    if owner is None:
        return ("", "")
    kind, name = str(owner.get("kind") or ""), str(owner.get("name") or "")
    if kind == "StatefulSet":
        return (kind, name)
    suffix = "-" + str((meta.get("labels") or {}).get("pod-template-hash") or "")
    if kind == "ReplicaSet" and len(suffix) > 1 and name.endswith(suffix):
        return ("Deployment", name[: -len(suffix)])
    return ("", "")


ISSUER_ANNOTATIONS: Final = ("cert-manager.io/cluster-issuer", "cert-manager.io/issuer")


def parse_ingress(raw: Raw) -> IngressObs:
    spec = raw.get("spec") or {}
    hosts = tuple(r["host"] for r in spec.get("rules") or () if r.get("host"))
    tls = tuple(h for t in spec.get("tls") or () for h in t.get("hosts") or ())
    return IngressObs(
        name=_dig(raw, "metadata", "name") or "",
        hosts=hosts,
        tls_hosts=tls,
        certificate=_certificate_of(raw, hosts[0]) if hosts else "",
        domain_certificates=tuple(
            (host, cert) for host in hosts[1:] if (cert := _certificate_of(raw, host))
        ),
    )


def _certificate_of(raw: Raw, host: str) -> str:
    annotations = _dig(raw, "metadata", "annotations") or {}
    if not any(annotations.get(a) for a in ISSUER_ANNOTATIONS):
        return ""
    for entry in _dig(raw, "spec", "tls") or ():
        if host in (entry.get("hosts") or ()) and entry.get("secretName"):
            return str(entry["secretName"])
    return ""


def parse_certificate(raw: Raw) -> CertificateObs:
    ready = _condition(raw, "Ready") or {}
    return CertificateObs(
        name=_dig(raw, "metadata", "name") or "",
        ready=_is_true(ready),
        reason=str(ready.get("reason") or ""),
        message=str(ready.get("message") or ""),
    )


def parse_challenge(raw: Raw) -> ChallengeObs:
    status = raw.get("status") or {}
    return ChallengeObs(
        name=_dig(raw, "metadata", "name") or "",
        dns_name=str(_dig(raw, "spec", "dnsName") or ""),
        state=str(status.get("state") or ""),
        reason=str(status.get("reason") or ""),
    )
