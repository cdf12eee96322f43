"""The store state machine: observed objects → `StoreStatus` (pure, no I/O).

Readiness is derived per component (`app.kubernetes.io/component`), not per
object name, so an engine with more tiers (Medusa: cache, worker) needs no
change here:

    DatabaseReady   every `database` / `cache` workload ready
    WebReady        every `web` / `worker` workload available

(A workload counts as ready or available by its own status, or as soon as its
pods' Ready conditions say so: the workload's status follows one or two
controller hops later. See `ready_pods`.)
    StoreConfigured every `setup` Job complete (or none, by the operator's choice)
    Routable        an Ingress with a host exists (and, when it asks cert-manager
                    for a certificate, that Certificate is Ready)

Phase, first rule that holds wins:

    namespace gone                         → deleted
    namespace terminating                  → deleting
    asleep, no pod left running            → asleep
    asleep, pods still running             → provisioning (FallingAsleep)
    every condition True                   → ready
    was ready in this generation           → degraded (why: first unmet condition)
    setup Job failed / pod down with a
      problem for the grace period         → failed (the problem)
    past the deadline, store configured    → degraded (it was set up, so it ran once)
    past the deadline                      → failed (DeadlineExceeded)
    nothing applied yet but the namespace  → pending
    otherwise                              → provisioning (why: first unmet condition)

`failed` is a diagnosis, not a tombstone: if Kubernetes later shows the store
ready (an image registry came back), the phase follows.
"""

from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Final, NamedTuple

import msgspec

from services.contracts.domains import CERTIFICATE_CONDITION_PREFIX, certificate_condition_type
from services.contracts.events import Condition, ConditionType, StoreStatus
from services.contracts.ids import host_url
from services.contracts.labels import Component
from services.contracts.phases import Phase
from services.watcher.observed import (
    CertificateObs,
    ChallengeObs,
    IngressObs,
    JobObs,
    PodObs,
    StoreObjects,
    WorkloadObs,
)

DATABASE_TIER: Final = frozenset({Component.DATABASE, Component.CACHE})
WEB_TIER: Final = frozenset({Component.WEB, Component.WORKER})
SETUP_TIER: Final = frozenset({Component.SETUP})

IMAGE_PULL: Final = frozenset(
    {"ImagePullBackOff", "ErrImagePull", "InvalidImageName", "ErrImageNeverPull"}
)
CONTAINER_CONFIG: Final = frozenset({"CreateContainerConfigError", "CreateContainerError"})
# Problem reasons, most actionable first; the phase reports the first one found.
SEVERITY: Final = (
    "JobFailed",
    "ImagePullBackOff",
    "CreateContainerConfigError",
    "CreateContainerError",
    "CrashLoopBackOff",
    "Unschedulable",
)
SETTLED: Final = frozenset({Phase.READY, Phase.DEGRADED})
TRUE, FALSE = "True", "False"
EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)


class Policy(NamedTuple):
    deadline_s: float = 900.0  # provisioning longer than this → failed
    pod_grace_s: float = 120.0  # a pod stuck this long counts as a failure
    store_port: int = 0  # the ingress's port, named in store URLs (0: the default)


class Problem(NamedTuple):
    reason: str
    message: str
    component: str
    fatal: bool  # lasted the grace period: enough to fail a provisioning store


def evaluate(
    objs: StoreObjects, prev: StoreStatus | None, now: datetime, policy: Policy
) -> StoreStatus:
    ns = objs.namespace
    same_gen = prev if prev is not None and prev.generation == ns.generation else None
    problems = pod_problems(objs.pods, now, policy.pod_grace_s)
    conditions = _stamp(_conditions(objs, same_gen, problems), prev, now)
    phase, reason, message = decide_phase(objs, conditions, problems, same_gen, now, policy)
    return StoreStatus(
        tenant=ns.tenant,
        store=ns.store,
        phase=phase,
        generation=ns.generation,
        observed_at=now,
        conditions=conditions,
        url=store_url(objs.ingresses, policy.store_port) if not objs.gone else "",
        reason=reason,
        message=message,
    )


def same_status(a: StoreStatus | None, b: StoreStatus | None) -> bool:
    """Equal apart from `observed_at`: the publisher's change test."""
    if a is None or b is None:
        return a is b
    return msgspec.structs.replace(a, observed_at=EPOCH) == msgspec.structs.replace(
        b, observed_at=EPOCH
    )


def _conditions(
    objs: StoreObjects, same_gen: StoreStatus | None, problems: list[Problem]
) -> list[Condition]:
    kept_configured = not objs.gone and _was_true(same_gen, ConditionType.STORE_CONFIGURED)
    return [
        namespace_condition(objs),
        tier_condition(
            ConditionType.DATABASE_READY, objs.workloads, DATABASE_TIER, problems, objs.pods
        ),
        tier_condition(ConditionType.WEB_READY, objs.workloads, WEB_TIER, problems, objs.pods),
        configured_condition(objs.jobs, problems, kept_configured, objs.namespace.setup_disabled),
        routable_condition(objs.ingresses, objs.certificates, objs.challenges),
        *domain_conditions(objs.ingresses, objs.certificates, objs.challenges),
    ]


def decide_phase(
    objs: StoreObjects,
    conditions: list[Condition],
    problems: list[Problem],
    same_gen: StoreStatus | None,
    now: datetime,
    policy: Policy,
) -> tuple[Phase, str, str]:
    ns = objs.namespace
    if objs.gone:
        return Phase.DELETED, "", f"namespace {ns.name} is gone"
    if ns.terminating:
        return Phase.DELETING, "Terminating", f"namespace {ns.name} is being deleted"
    if ns.asleep:
        return sleep_phase(objs.pods)
    unmet = [
        c
        for c in conditions
        if c.status != TRUE and not c.type.startswith(CERTIFICATE_CONDITION_PREFIX)
    ]
    if not unmet:
        return Phase.READY, "", ""
    why = unmet[0].reason, f"{unmet[0].type}: {unmet[0].message}"
    if same_gen is not None and same_gen.phase in SETTLED:
        return Phase.DEGRADED, *why
    fatal = [p for p in problems if p.fatal] + job_problems(objs.jobs)
    if fatal:
        worst = min(fatal, key=lambda p: SEVERITY.index(p.reason))
        return Phase.FAILED, worst.reason, worst.message
    if past_deadline(objs, now, policy.deadline_s):
        if _is_true(conditions, ConditionType.STORE_CONFIGURED):
            return Phase.DEGRADED, *why
        return Phase.FAILED, "DeadlineExceeded", _deadline_message(policy.deadline_s, unmet[0])
    if objs.empty():
        return Phase.PENDING, "Applying", f"namespace {ns.name} exists; waiting for its objects"
    return Phase.PROVISIONING, *why


def sleep_phase(pods: Iterable[PodObs]) -> tuple[Phase, str, str]:
    """A store put to sleep is asleep once no pod of it runs (a finished Job's
    pod runs nothing); until then it is falling asleep."""
    running = sorted(p.name for p in pods if p.phase not in ("Succeeded", "Failed"))
    if running:
        shown = ", ".join(running[:3]) + (
            f" and {len(running) - 3} more" if len(running) > 3 else ""
        )
        return Phase.PROVISIONING, "FallingAsleep", f"waiting for pods to stop: {shown}"
    return Phase.ASLEEP, "", "asleep: no pod runs; volumes are kept"


def past_deadline(objs: StoreObjects, now: datetime, deadline_s: float) -> bool:
    started = objs.namespace.applied_at or objs.namespace.created
    return started is not None and (now - started).total_seconds() > deadline_s


def _deadline_message(deadline_s: float, first_unmet: Condition) -> str:
    return (
        f"not ready {_duration(deadline_s)} after the apply started; "
        f"still waiting for {first_unmet.type}: {first_unmet.message}"
    )


def _duration(seconds: float) -> str:
    minutes, secs = divmod(int(seconds), 60)
    return f"{minutes}m{secs}s" if minutes else f"{secs}s"


# -- conditions ------------------------------------------------------------------


def namespace_condition(objs: StoreObjects) -> Condition:
    t, name = ConditionType.NAMESPACE_READY, objs.namespace.name
    if objs.gone:
        return Condition(t, FALSE, "NotFound", f"namespace {name} does not exist")
    if objs.namespace.terminating:
        return Condition(t, FALSE, "Terminating", f"namespace {name} is being deleted")
    return Condition(t, TRUE, "Active", f"namespace {name} is active")


def ready_pods(w: WorkloadObs, pods: Iterable[PodObs]) -> int:
    """How many of `w`'s pods are ready now, by the pods' own Ready conditions.

    The workload's status says the same one or two controller hops later (the
    ReplicaSet's, then the Deployment's status update): counting the pods lets a
    recovered store be `ready` as soon as its pod is, in one status, instead of a
    `degraded` (NotReady) first and `ready` when the Deployment catches up.
    With minReadySeconds a ready pod is not yet available: its count is not used.
    """
    if w.min_ready_s > 0:
        return 0
    key = (w.kind, w.name)
    return sum(1 for p in pods if p.workload == key and p.ready and not p.deleting)


def workload_ready(w: WorkloadObs, pods: Iterable[PodObs] = ()) -> bool:
    """Rolled out, and available (ready) by its own status or by its pods'.

    Only the way up uses the pods: a Deployment that still says Available is
    believed until it says otherwise (its Available condition tolerates
    maxUnavailable pods down; a pod's problem shows in the condition's reason)."""
    if not w.up_to_date:
        return False
    if w.kind == "Deployment":
        return w.available is True or ready_pods(w, pods) >= w.replicas
    return max(w.ready_replicas, ready_pods(w, pods)) >= w.replicas


def describe_workload(w: WorkloadObs, pods: Iterable[PodObs] = ()) -> str:
    # The larger of the two counts, so that the message (and with it the status)
    # stays the same when the workload's own status catches up with its pods.
    up = ready_pods(w, pods)
    if w.kind == "Deployment":
        return f"deployment {w.name}: {max(w.available_replicas, up)}/{w.replicas} available"
    return f"{w.kind.lower()} {w.name}: {max(w.ready_replicas, up)}/{w.replicas} ready"


def tier_condition(
    type_: ConditionType,
    workloads: Iterable[WorkloadObs],
    tier: frozenset[str],
    problems: list[Problem],
    pods: Iterable[PodObs] = (),
) -> Condition:
    mine = sorted((w for w in workloads if w.component in tier), key=lambda w: w.name)
    if not mine:
        return Condition(type_, FALSE, "NotCreated", f"no {'/'.join(sorted(tier))} workload yet")
    pods = tuple(pods)
    waiting = [w for w in mine if not workload_ready(w, pods)]
    if not waiting:
        return Condition(type_, TRUE, "Ready", "; ".join(describe_workload(w, pods) for w in mine))
    tier_problems = [p for p in problems if p.component in tier]
    if tier_problems:
        return Condition(type_, FALSE, tier_problems[0].reason, tier_problems[0].message)
    text = "; ".join(describe_workload(w, pods) for w in waiting)
    return Condition(type_, FALSE, "NotReady", text)


def configured_condition(
    jobs: Iterable[JobObs],
    problems: list[Problem],
    was_configured: bool,
    setup_disabled: bool = False,
) -> Condition:
    t = ConditionType.STORE_CONFIGURED
    if setup_disabled:
        return Condition(t, TRUE, "Disabled", "no setup job: the operator set setup.enabled=false")
    mine = sorted((j for j in jobs if j.component in SETUP_TIER), key=lambda j: j.name)
    if not mine:
        if was_configured:  # a finished Job removed by its TTL keeps the store configured
            return Condition(t, TRUE, "Completed", "setup job completed and was cleaned up")
        return Condition(t, FALSE, "NotCreated", "no setup job yet")
    failed = job_problems(mine)
    if failed:
        return Condition(t, FALSE, failed[0].reason, failed[0].message)
    running = [j for j in mine if not j.complete]
    if not running:
        return Condition(t, TRUE, "Completed", "; ".join(f"job {j.name} completed" for j in mine))
    setup_problems = [p for p in problems if p.component in SETUP_TIER]
    if setup_problems:
        return Condition(t, FALSE, setup_problems[0].reason, setup_problems[0].message)
    j = running[0]
    return Condition(
        t, FALSE, "Running", f"job {j.name}: {j.active} running, {j.failed_pods} failed attempts"
    )


def routable_condition(
    ingresses: Iterable[IngressObs],
    certificates: Iterable[CertificateObs] = (),
    challenges: Iterable[ChallengeObs] = (),
) -> Condition:
    t = ConditionType.ROUTABLE
    for ing in sorted(ingresses, key=lambda i: i.name):
        if ing.hosts and ing.certificate:
            return certificate_condition(ing, certificates, challenges)
        if ing.hosts:
            return Condition(t, TRUE, "IngressPresent", f"ingress {ing.name} routes {ing.hosts[0]}")
    return Condition(t, FALSE, "NotCreated", "no ingress with a host yet")


def certificate_condition(
    ing: IngressObs, certificates: Iterable[CertificateObs], challenges: Iterable[ChallengeObs]
) -> Condition:
    """An ingress that asks cert-manager for its certificate routes only once it is
    issued: before, the controller serves its default certificate, which browsers
    (and the store's own https:// links) refuse."""
    return host_certificate_condition(
        ConditionType.ROUTABLE, ing, ing.hosts[0], ing.certificate, certificates, challenges
    )


def domain_conditions(
    ingresses: Iterable[IngressObs],
    certificates: Iterable[CertificateObs],
    challenges: Iterable[ChallengeObs],
) -> list[Condition]:
    """Each own domain's certificate, for the gateway's domain states; the store's
    phase never waits for them (its platform host serves it meanwhile)."""
    certs, stuck = list(certificates), list(challenges)
    return [
        host_certificate_condition(certificate_condition_type(host), ing, host, cert, certs, stuck)
        for ing in sorted(ingresses, key=lambda i: i.name)
        for host, cert in ing.domain_certificates
    ]


def host_certificate_condition(
    t: str,
    ing: IngressObs,
    host: str,
    certificate: str,
    certificates: Iterable[CertificateObs],
    challenges: Iterable[ChallengeObs],
) -> Condition:
    """Condition `t`: whether cert-manager has issued `certificate`, which `ing`
    asks for `host`, in cert-manager's words (and a stuck challenge's)."""
    cert = next((c for c in certificates if c.name == certificate), None)
    if cert is None:
        return Condition(
            t,
            FALSE,
            "CertificatePending",
            f"ingress {ing.name} routes {host}; cert-manager has not created "
            f"certificate {certificate} yet",
        )
    if not cert.ready:
        why = f" ({cert.reason})" if cert.reason else ""
        stuck = "".join(
            f"; challenge {ch.name} ({ch.state or 'pending'}): {ch.reason}"
            for ch in sorted(challenges, key=lambda ch: ch.name)
            if ch.dns_name == host and ch.reason and ch.state != "valid"
        )
        return Condition(
            t,
            FALSE,
            "CertificatePending",
            f"certificate {cert.name} for {host} is not ready{why}: "
            f"{cert.message or 'cert-manager has not reported on it yet'}{stuck}",
        )
    return Condition(
        t,
        TRUE,
        "CertificateReady",
        f"ingress {ing.name} routes {host} with certificate {cert.name}",
    )


def store_url(ingresses: Iterable[IngressObs], port: int = 0) -> str:
    for ing in sorted(ingresses, key=lambda i: i.name):
        if ing.hosts:
            host = ing.hosts[0]
            return host_url(host, tls=host in ing.tls_hosts, port=port)
    return ""


def _stamp(conditions: list[Condition], prev: StoreStatus | None, now: datetime) -> list[Condition]:
    """Carry each condition's transition time over while its status holds."""
    before = {c.type: c for c in prev.conditions} if prev is not None else {}
    out = []
    for c in conditions:
        old = before.get(c.type)
        kept = old is not None and old.status == c.status and old.last_transition_time is not None
        ltt = old.last_transition_time if kept and old is not None else now
        out.append(msgspec.structs.replace(c, last_transition_time=ltt))
    return out


def _is_true(conditions: Iterable[Condition], type_: str) -> bool:
    return any(c.type == type_ and c.status == TRUE for c in conditions)


def _was_true(status: StoreStatus | None, type_: str) -> bool:
    return status is not None and _is_true(status.conditions, type_)


# -- problems --------------------------------------------------------------------


def job_problems(jobs: Iterable[JobObs]) -> list[Problem]:
    """A failed setup Job is final for its generation: no grace period."""
    return [
        Problem(
            "JobFailed",
            f"setup job {j.name} failed ({j.reason or 'Failed'}): {j.message or 'no message'}",
            j.component,
            fatal=True,
        )
        for j in sorted(jobs, key=lambda j: j.name)
        if j.failed and j.component in SETUP_TIER
    ]


def pod_problems(pods: Iterable[PodObs], now: datetime, grace_s: float) -> list[Problem]:
    """Stuck pods, most actionable first; `fatal` once a pod has been down for the
    grace period, however old it is (one restart of a long-lived pod is not fatal)."""
    out = []
    for pod in sorted(pods, key=lambda p: p.name):
        if pod.deleting or pod.phase in ("Succeeded", "Failed") or pod.component == "backup":
            continue  # a backup's trouble is the backup's (services/watcher/backups.py)
        down = (now - pod.down_since).total_seconds() if pod.down_since else 0.0
        for reason, message in _pod_issues(pod):
            out.append(Problem(reason, message, pod.component, fatal=down >= grace_s))
    return sorted(out, key=lambda p: SEVERITY.index(p.reason))


def _pod_issues(pod: PodObs) -> list[tuple[str, str]]:
    if pod.unschedulable is not None:
        return [("Unschedulable", f"pod {pod.name} cannot be scheduled: {pod.unschedulable}")]
    issues = []
    for c in pod.containers:
        where = f"pod {pod.name} container {c.name}"
        if c.waiting_reason in IMAGE_PULL:
            detail = f": {c.waiting_message}" if c.waiting_message else ""
            issues.append(("ImagePullBackOff", f"{where} cannot pull image {c.image}{detail}"))
        elif c.waiting_reason == "CrashLoopBackOff":
            last = f"; last run: {c.last_exit}" if c.last_exit else ""
            issues.append(
                ("CrashLoopBackOff", f"{where} keeps crashing ({c.restarts} restarts{last})")
            )
        elif c.waiting_reason in CONTAINER_CONFIG:
            issues.append((c.waiting_reason, f"{where} cannot start: {c.waiting_message}"))
    return issues
