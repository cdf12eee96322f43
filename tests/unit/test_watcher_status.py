"""The store state machine, table-driven: observed objects + previous status → status."""

from datetime import UTC, datetime, timedelta
from typing import Any, NamedTuple

import msgspec
import pytest

from services.contracts.events import Condition, StoreStatus
from services.contracts.phases import Phase
from services.watcher.observed import (
    CertificateObs,
    ChallengeObs,
    ContainerObs,
    IngressObs,
    JobObs,
    NamespaceObs,
    PodObs,
    StoreObjects,
    WorkloadObs,
)
from services.watcher.status import Policy, evaluate, same_status

NOW = datetime(2025, 6, 1, 12, 0, 0, tzinfo=UTC)
POLICY = Policy(deadline_s=900, pod_grace_s=120)


def ago(seconds: float) -> datetime:
    return NOW - timedelta(seconds=seconds)


def ns(generation: int = 1, applied_s: float = 60, **kw: Any) -> NamespaceObs:
    return NamespaceObs(
        name="store-shop", tenant="acme", store="shop", generation=generation,
        created=ago(applied_s), applied_at=ago(applied_s), host="shop.example.test", **kw,
    )  # fmt: skip


def sts(
    ready: int = 1, name: str = "mariadb", component: str = "database", **kw: Any
) -> WorkloadObs:
    return WorkloadObs("StatefulSet", name, component, replicas=1, ready_replicas=ready, **kw)


def dep(available: bool = True, name: str = "wordpress", component: str = "web") -> WorkloadObs:
    n = 1 if available else 0
    return WorkloadObs("Deployment", name, component, 1, n, n, True, available)


def job(complete: bool = False, failed: bool = False, name: str = "setup") -> JobObs:
    return JobObs(
        name, "setup", complete=complete, failed=failed, active=0 if complete or failed else 1,
        reason="BackoffLimitExceeded" if failed else "",
        message="Job has reached the specified backoff limit" if failed else "",
    )  # fmt: skip


def waiting(
    reason: str, name: str = "wordpress", image: str = "wordpress:6.8", **kw: Any
) -> ContainerObs:
    return ContainerObs(name, image, waiting_reason=reason, **kw)


def pod(
    component: str = "web",
    down_s: float = 10,
    *containers: ContainerObs,
    name: str = "",
    **kw: Any,
) -> PodObs:
    """A pod made `down_s` ago and never up since, unless `down_since` says otherwise."""
    kw = {"created": ago(down_s), "down_since": ago(down_s), **kw}
    return PodObs(name or f"{component}-0", component, containers=containers, **kw)


def ing(host: str = "shop.example.test", tls: bool = False) -> IngressObs:
    return IngressObs("shop", (host,), (host,) if tls else ())


def acme_ing(host: str = "shop.example.test") -> IngressObs:
    """An Ingress that asks cert-manager (HTTP-01) for certificate shop-tls."""
    return IngressObs("shop", (host,), (host,), certificate="shop-tls")


def cert(ready: bool, reason: str = "", message: str = "") -> CertificateObs:
    return CertificateObs("shop-tls", ready=ready, reason=reason, message=message)


ISSUING = cert(False, "DoesNotExist", "Issuing certificate as Secret does not exist")
UNREACHABLE = "Waiting for HTTP-01 challenge propagation: wrong status code '503', expected '200'"


HEALTHY: dict[str, Any] = {
    "workloads": (sts(), dep()),
    "jobs": (job(complete=True),),
    "ingresses": (ing(),),
}


# A sleeping store's objects: every workload at zero replicas, the setup done.
ASLEEP: dict[str, Any] = {
    "workloads": (
        WorkloadObs("StatefulSet", "mariadb", "database", replicas=0),
        WorkloadObs("Deployment", "wordpress", "web", 0, 0, 0, True, True),
    ),
    "jobs": (job(complete=True),),
    "ingresses": (ing(),),
}


def store(namespace: NamespaceObs | None = None, **kw: Any) -> StoreObjects:
    return StoreObjects(namespace=namespace or ns(), **kw)


def healthy(**override: Any) -> StoreObjects:
    return store(**{**HEALTHY, **override})


def prev(phase: Phase, generation: int = 1, configured: bool = True) -> StoreStatus:
    cond = Condition("StoreConfigured", "True" if configured else "False", "", "", ago(300))
    return StoreStatus("acme", "shop", phase, generation, ago(30), conditions=[cond])


FAILED_JOB = job(failed=True)
CRASH = waiting("CrashLoopBackOff", restarts=5, last_exit="exit code 1 (Error)")
PULL = waiting("ImagePullBackOff", image="wordpress:nope", waiting_message="not found")
SETUP_PULL = waiting("ImagePullBackOff", "wp", "wordpress:cli-x")
NO_SECRET = waiting("CreateContainerConfigError", waiting_message="secret x not found")
SCHED = "0/1 nodes are available: 1 Insufficient memory."


class Case(NamedTuple):
    objs: StoreObjects
    prev: StoreStatus | None
    phase: Phase
    reason: str
    message: str  # a substring of the status message
    conditions: str  # NamespaceReady, DatabaseReady, WebReady, StoreConfigured, Routable: T/F


# fmt: off
CASES: dict[str, Case] = {
    # provisioning, in order
    "namespace only → pending": Case(store(), None, Phase.PENDING, "Applying", "waiting", "TFFFF"),
    "database starting": Case(
        store(workloads=(sts(ready=0), dep(False)), jobs=(job(),), ingresses=(ing(),)),
        None, Phase.PROVISIONING, "NotReady", "DatabaseReady: statefulset mariadb: 0/1", "TFFFT",
    ),
    "web starting": Case(
        healthy(workloads=(sts(), dep(False)), jobs=(job(),)),
        None, Phase.PROVISIONING, "NotReady", "WebReady: deployment wordpress: 0/1", "TTFFT",
    ),
    "setup running": Case(
        healthy(jobs=(job(),)), None, Phase.PROVISIONING, "Running", "job setup: 1 running",
        "TTTFT",
    ),
    "no ingress yet": Case(
        healthy(ingresses=()), None, Phase.PROVISIONING, "NotCreated", "Routable", "TTTTF"
    ),
    "no setup job yet": Case(
        healthy(jobs=()), None, Phase.PROVISIONING, "NotCreated", "no setup job", "TTTFT"
    ),
    "statefulset spec not yet observed": Case(
        healthy(workloads=(sts(up_to_date=False), dep())),
        None, Phase.PROVISIONING, "NotReady", "statefulset mariadb", "TFTTT",
    ),
    "all ready": Case(healthy(), None, Phase.READY, "", "", "TTTTT"),
    "ready after provisioning": Case(
        healthy(), prev(Phase.PROVISIONING), Phase.READY, "", "", "TTTTT"
    ),
    # failures a person can act on
    "setup job failed": Case(
        healthy(jobs=(job(failed=True),)), prev(Phase.PROVISIONING, configured=False),
        Phase.FAILED, "JobFailed", "reached the specified backoff limit", "TTTFT",
    ),
    "image pull past grace": Case(
        healthy(workloads=(sts(), dep(False)), pods=(pod("web", 300, PULL),)),
        None, Phase.FAILED, "ImagePullBackOff", "cannot pull image wordpress:nope", "TTFTT",
    ),
    "ErrImagePull counts as image pull": Case(
        healthy(workloads=(sts(), dep(False)), pods=(pod("web", 300, waiting("ErrImagePull")),)),
        None, Phase.FAILED, "ImagePullBackOff", "wordpress:6.8", "TTFTT",
    ),
    "image pull within grace": Case(
        healthy(workloads=(sts(), dep(False)), pods=(pod("web", 30, PULL),)),
        None, Phase.PROVISIONING, "ImagePullBackOff", "WebReady: pod web-0", "TTFTT",
    ),
    "crash loop past grace": Case(
        healthy(workloads=(sts(ready=0), dep()), pods=(pod("database", 600, CRASH),)),
        None, Phase.FAILED, "CrashLoopBackOff", "container wordpress keeps crashing (5 restarts",
        "TFTTT",
    ),
    "crash loop within grace": Case(
        healthy(workloads=(sts(ready=0), dep()), pods=(pod("database", 60, CRASH),)),
        None, Phase.PROVISIONING, "CrashLoopBackOff", "exit code 1 (Error)", "TFTTT",
    ),
    "an old pod that just began crash-looping is not fatal": Case(
        healthy(
            namespace=ns(generation=2),
            workloads=(sts(ready=0), dep()),
            pods=(pod("database", 86_400, CRASH, down_since=ago(15)),),
        ),
        prev(Phase.READY), Phase.PROVISIONING, "CrashLoopBackOff", "5 restarts", "TFTTT",
    ),
    "an old pod crash-looping for the grace period is fatal": Case(
        healthy(
            namespace=ns(generation=2),
            workloads=(sts(ready=0), dep()),
            pods=(pod("database", 86_400, CRASH, down_since=ago(120)),),
        ),
        prev(Phase.READY), Phase.FAILED, "CrashLoopBackOff", "5 restarts", "TFTTT",
    ),
    "a problem on a pod its conditions still call up is not fatal yet": Case(
        healthy(workloads=(sts(), dep(False)), pods=(pod("web", 600, PULL, down_since=None),)),
        None, Phase.PROVISIONING, "ImagePullBackOff", "cannot pull image", "TTFTT",
    ),
    "unschedulable past grace": Case(
        healthy(workloads=(sts(ready=0), dep()), pods=(pod("database", 200, unschedulable=SCHED),)),
        None, Phase.FAILED, "Unschedulable", "Insufficient memory", "TFTTT",
    ),
    "unschedulable within grace": Case(
        healthy(workloads=(sts(ready=0), dep()), pods=(pod("database", 5, unschedulable=SCHED),)),
        None, Phase.PROVISIONING, "Unschedulable", "cannot be scheduled", "TFTTT",
    ),
    "missing secret": Case(
        healthy(
            workloads=(sts(), dep(False)),
            pods=(pod("web", 500, NO_SECRET),),
        ),
        None, Phase.FAILED, "CreateContainerConfigError", "secret x not found", "TTFTT",
    ),
    "setup pod cannot pull": Case(
        healthy(jobs=(job(),), pods=(pod("setup", 400, SETUP_PULL),)),
        None, Phase.FAILED, "ImagePullBackOff", "wordpress:cli-x", "TTTFT",
    ),
    "job failure outranks a stuck pod": Case(
        healthy(workloads=(sts(), dep(False)), jobs=(FAILED_JOB,), pods=(pod("web", 900, PULL),)),
        None, Phase.FAILED, "JobFailed", "setup job setup failed (BackoffLimitExceeded)", "TTFFT",
    ),
    "past deadline": Case(
        store(namespace=ns(applied_s=1000), workloads=(sts(ready=0), dep(False)), jobs=(job(),)),
        None, Phase.FAILED, "DeadlineExceeded", "not ready 15m0s after", "TFFFF",
    ),
    "past deadline with nothing applied": Case(
        store(namespace=ns(applied_s=1000)), None, Phase.FAILED, "DeadlineExceeded",
        "still waiting for DatabaseReady", "TFFFF",
    ),
    "past deadline but configured (history lost)": Case(
        healthy(namespace=ns(applied_s=10_000), workloads=(sts(), dep(False))),
        None, Phase.DEGRADED, "NotReady", "WebReady", "TTFTT",
    ),
    "failed is not sticky": Case(healthy(), prev(Phase.FAILED), Phase.READY, "", "", "TTTTT"),
    # ready ⇄ degraded
    "web down after ready": Case(
        healthy(workloads=(sts(), dep(False))), prev(Phase.READY),
        Phase.DEGRADED, "NotReady", "WebReady: deployment wordpress: 0/1 available", "TTFTT",
    ),
    "database down after ready": Case(
        healthy(workloads=(sts(ready=0), dep())), prev(Phase.READY),
        Phase.DEGRADED, "NotReady", "DatabaseReady", "TFTTT",
    ),
    "crash loop after ready degrades, never fails": Case(
        healthy(workloads=(sts(), dep(False)), pods=(pod("web", 5000, CRASH),)), prev(Phase.READY),
        Phase.DEGRADED, "CrashLoopBackOff", "5 restarts", "TTFTT",
    ),
    "a ready store that loses a pod for good is degraded, not failed": Case(
        healthy(
            workloads=(sts(ready=0), dep()),
            pods=(pod("database", 3600, unschedulable=SCHED, name="mariadb-0"),),
        ),
        prev(Phase.READY), Phase.DEGRADED, "Unschedulable", "Insufficient memory", "TFTTT",
    ),
    "recovered": Case(healthy(), prev(Phase.DEGRADED), Phase.READY, "", "", "TTTTT"),
    "still degraded": Case(
        healthy(workloads=(sts(), dep(False))), prev(Phase.DEGRADED),
        Phase.DEGRADED, "NotReady", "WebReady", "TTFTT",
    ),
    "new generation is provisioning again": Case(
        healthy(namespace=ns(generation=2), workloads=(sts(), dep(False))), prev(Phase.READY),
        Phase.PROVISIONING, "NotReady", "WebReady", "TTFTT",
    ),
    "setup job cleaned up after ready": Case(
        healthy(jobs=()), prev(Phase.READY), Phase.READY, "", "", "TTTTT"
    ),
    "completed and deleting pods are ignored": Case(
        healthy(pods=(
            pod("setup", 900, CRASH, phase="Succeeded"),
            pod("web", 900, CRASH, name="old", deleting=True),
        )),
        None, Phase.READY, "", "", "TTTTT",
    ),
    # medusa-like engines: more tiers, same rules
    "cache tier not ready": Case(
        healthy(workloads=(sts(), sts(0, "redis", "cache"), dep(), dep(True, "worker", "worker"))),
        None, Phase.PROVISIONING, "NotReady", "statefulset redis: 0/1", "TFTTT",
    ),
    "worker crash loop fails provisioning": Case(
        healthy(
            workloads=(sts(), dep(), dep(False, "worker", "worker")),
            pods=(pod("worker", 300, CRASH),),
        ),
        None, Phase.FAILED, "CrashLoopBackOff", "pod worker-0", "TTFTT",
    ),
    "every tier ready": Case(
        healthy(workloads=(sts(), sts(1, "redis", "cache"), dep(), dep(True, "worker", "worker"))),
        None, Phase.READY, "", "", "TTTTT",
    ),
    "no setup job by the operator's choice: ready without one": Case(
        healthy(namespace=ns(setup_disabled=True), jobs=()),
        None, Phase.READY, "", "", "TTTTT",
    ),
    "no setup job by the operator's choice: the web tier still decides": Case(
        healthy(namespace=ns(setup_disabled=True), workloads=(sts(), dep(False)), jobs=()),
        None, Phase.PROVISIONING, "NotReady", "WebReady", "TTFTT",
    ),
    # TLS by cert-manager: routable only with an issued certificate
    "certificate not created yet": Case(
        healthy(ingresses=(acme_ing(),)), None, Phase.PROVISIONING, "CertificatePending",
        "cert-manager has not created certificate shop-tls", "TTTTF",
    ),
    "certificate issuing: cert-manager's reason and message": Case(
        healthy(ingresses=(acme_ing(),), certificates=(ISSUING,)), None, Phase.PROVISIONING,
        "CertificatePending", "(DoesNotExist): Issuing certificate as Secret does not exist",
        "TTTTF",
    ),
    "certificate issuing, its challenge stuck: the challenge's reason too": Case(
        healthy(
            ingresses=(acme_ing(),), certificates=(ISSUING,),
            challenges=(
                ChallengeObs("shop-tls-1-2-3", "shop.example.test", "pending", UNREACHABLE),
                ChallengeObs("other-1", "other.example.test", "pending", "not this store's host"),
            ),
        ),
        None, Phase.PROVISIONING, "CertificatePending",
        f"does not exist; challenge shop-tls-1-2-3 (pending): {UNREACHABLE}", "TTTTF",
    ),
    "certificate issued → ready": Case(
        healthy(ingresses=(acme_ing(),), certificates=(cert(True, "Ready"),)), None,
        Phase.READY, "", "", "TTTTT",
    ),
    "certificate still pending past the deadline: set up, so degraded": Case(
        healthy(namespace=ns(applied_s=1000), ingresses=(acme_ing(),), certificates=(ISSUING,)),
        None, Phase.DEGRADED, "CertificatePending", "Routable: certificate shop-tls", "TTTTF",
    ),
    "certificate of a ready store fails renewal → degraded": Case(
        healthy(ingresses=(acme_ing(),), certificates=(cert(False, "Failed", "rate limited"),)),
        prev(Phase.READY), Phase.DEGRADED, "CertificatePending", "(Failed): rate limited", "TTTTF",
    ),
    "wildcard TLS (no issuer on the ingress) → ready without a certificate": Case(
        healthy(ingresses=(ing(tls=True),)), None, Phase.READY, "", "", "TTTTT",
    ),
    # sleep: workloads at zero replicas; asleep once no pod runs
    "asleep, pods still stopping → provisioning (falling asleep)": Case(
        store(namespace=ns(asleep=True), **ASLEEP, pods=(pod(name="wordpress-1", deleting=True),)),
        prev(Phase.READY), Phase.PROVISIONING, "FallingAsleep", "stop: wordpress-1", "TTTTT",
    ),
    "asleep, only a finished setup pod left → asleep": Case(
        store(namespace=ns(asleep=True), **ASLEEP, pods=(pod("setup", phase="Succeeded"),)),
        prev(Phase.PROVISIONING), Phase.ASLEEP, "", "no pod runs", "TTTTT",
    ),
    "asleep past the deadline with a crashing pod: still falling asleep, not failed": Case(
        store(namespace=ns(asleep=True, applied_s=5000), **ASLEEP, pods=(pod("web", 300, CRASH),)),
        None, Phase.PROVISIONING, "FallingAsleep", "pods to stop: web-0", "TTTTT",
    ),
    "asleep and terminating → deleting": Case(
        store(namespace=ns(asleep=True, terminating=True), **ASLEEP), prev(Phase.ASLEEP),
        Phase.DELETING, "Terminating", "being deleted", "FTTTT",
    ),
    # deletion
    "namespace terminating": Case(
        healthy(namespace=ns(terminating=True)), prev(Phase.READY),
        Phase.DELETING, "Terminating", "being deleted", "FTTTT",
    ),
    "namespace gone": Case(
        store(namespace=ns(generation=3), gone=True), prev(Phase.DELETING, 3),
        Phase.DELETED, "", "store-shop is gone", "FFFFF",
    ),
}
# fmt: on


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_state_machine(case: Case) -> None:
    status = evaluate(case.objs, case.prev, NOW, POLICY)
    got = "".join("T" if c.status == "True" else "F" for c in status.conditions)
    assert (status.phase, status.reason, got) == (case.phase, case.reason, case.conditions), status
    assert case.message in status.message, status.message
    assert status.generation == case.objs.namespace.generation
    assert (status.tenant, status.store, status.observed_at) == ("acme", "shop", NOW)


def test_at_least_25_cases() -> None:
    assert len(CASES) >= 25


def test_condition_types_in_order() -> None:
    status = evaluate(healthy(), None, NOW, POLICY)
    assert [c.type for c in status.conditions] == [
        "NamespaceReady", "DatabaseReady", "WebReady", "StoreConfigured", "Routable",
    ]  # fmt: skip


def test_transition_time_kept_while_status_holds() -> None:
    first = evaluate(healthy(workloads=(sts(), dep(False))), None, ago(60), POLICY)
    second = evaluate(healthy(workloads=(sts(), dep(False))), first, ago(30), POLICY)
    third = evaluate(healthy(), second, NOW, POLICY)
    times = {c.type: c.last_transition_time for c in third.conditions}
    assert times["DatabaseReady"] == ago(60)
    assert times["WebReady"] == NOW
    assert same_status(first, second)
    assert not same_status(second, third)


def test_same_status_ignores_only_observed_at() -> None:
    a = evaluate(healthy(), None, NOW, POLICY)
    b = msgspec.structs.replace(a, observed_at=ago(5))
    assert same_status(a, b)
    assert not same_status(a, msgspec.structs.replace(a, generation=2))
    assert not same_status(a, None)
    assert same_status(None, None)


def test_url_from_ingress() -> None:
    assert evaluate(healthy(), None, NOW, POLICY).url == "http://shop.example.test"
    tls = evaluate(healthy(ingresses=(ing(tls=True),)), None, NOW, POLICY)
    assert tls.url == "https://shop.example.test"
    assert evaluate(store(gone=True), None, NOW, POLICY).url == ""


def test_url_names_the_ingress_port_unless_it_is_the_default() -> None:
    on_port = Policy(deadline_s=900, pod_grace_s=120, store_port=8088)
    assert evaluate(healthy(), None, NOW, on_port).url == "http://shop.example.test:8088"
    on_80 = Policy(deadline_s=900, pod_grace_s=120, store_port=80)
    assert evaluate(healthy(), None, NOW, on_80).url == "http://shop.example.test"


def test_grace_boundary_is_inclusive() -> None:
    objs = healthy(workloads=(sts(), dep(False)), pods=(pod("web", 120, PULL),))
    assert evaluate(objs, None, NOW, POLICY).phase == Phase.FAILED
    objs = healthy(workloads=(sts(), dep(False)), pods=(pod("web", 119, PULL),))
    assert evaluate(objs, None, NOW, POLICY).phase == Phase.PROVISIONING


def test_an_own_domains_certificate_is_reported_and_the_store_is_ready_meanwhile() -> None:
    """The gateway's `issuing-certificate` → `active` reads these conditions."""
    own = IngressObs(
        "shop",
        ("shop.example.test", "shop.example.com"),
        ("shop.example.test", "shop.example.com"),
        domain_certificates=(("shop.example.com", "domain-tls"),),
    )
    kind = "DomainCertificate/shop.example.com"

    def report(*certificates: CertificateObs) -> StoreStatus:
        objs = healthy(ingresses=(own,), certificates=certificates)
        return evaluate(objs, None, NOW, POLICY)

    waiting = report()
    assert waiting.phase is Phase.READY
    (pending,) = [c for c in waiting.conditions if c.type == kind]
    assert (pending.status, pending.reason) == ("False", "CertificatePending")
    assert "cert-manager has not created certificate domain-tls yet" in pending.message
    issued = report(CertificateObs("domain-tls", ready=True))
    assert [c.status for c in issued.conditions if c.type == kind] == ["True"]


def web_pod(ready: bool, workload: str = "wordpress", **kw: Any) -> PodObs:
    return PodObs(
        f"{workload}-abc12-x", "web", ready=ready, workload=("Deployment", workload), **kw
    )


def test_a_recovered_pod_makes_the_store_ready_before_its_deployment_catches_up() -> None:
    """Pod Ready again, the Deployment's status not updated yet: `ready` at once, and
    the Deployment's update a moment later changes nothing (one status, not a
    `degraded` NotReady and then `ready`)."""
    crashed = evaluate(healthy(workloads=(sts(), dep(False))), prev(Phase.READY), NOW, POLICY)
    assert crashed.phase is Phase.DEGRADED
    early = healthy(workloads=(sts(), dep(False)), pods=(web_pod(True),))
    now_ready = evaluate(early, crashed, NOW, POLICY)
    assert now_ready.phase is Phase.READY, now_ready
    (web,) = [c for c in now_ready.conditions if c.type == "WebReady"]
    assert web.message == "deployment wordpress: 1/1 available"
    caught_up = evaluate(healthy(pods=(web_pod(True),)), now_ready, NOW, POLICY)
    assert same_status(now_ready, caught_up)


def test_pods_of_another_workload_or_going_away_do_not_count() -> None:
    for p in (web_pod(True, "other"), web_pod(True, deleting=True), web_pod(False)):
        objs = healthy(workloads=(sts(), dep(False)), pods=(p,))
        status = evaluate(objs, prev(Phase.READY), NOW, POLICY)
        assert (status.phase, status.reason) == (Phase.DEGRADED, "NotReady"), p


def test_with_min_ready_seconds_only_the_deployment_says_available() -> None:
    slow = msgspec.structs.replace(dep(False), min_ready_s=10)
    objs = healthy(workloads=(sts(), slow), pods=(web_pod(True),))
    assert evaluate(objs, prev(Phase.READY), NOW, POLICY).phase is Phase.DEGRADED


def test_a_deployment_still_available_is_believed_while_its_pod_crashes() -> None:
    """The way down waits for the Deployment (its Available condition allows
    maxUnavailable pods down), as before."""
    objs = healthy(pods=(web_pod(False),))
    assert evaluate(objs, prev(Phase.READY), NOW, POLICY).phase is Phase.READY


def test_a_statefulset_is_ready_when_its_pods_are() -> None:
    db = PodObs("mariadb-0", "database", ready=True, workload=("StatefulSet", "mariadb"))
    objs = healthy(workloads=(sts(ready=0), dep()), pods=(db,))
    status = evaluate(objs, None, NOW, POLICY)
    assert status.phase is Phase.READY, status
    (cond,) = [c for c in status.conditions if c.type == "DatabaseReady"]
    assert cond.message == "statefulset mariadb: 1/1 ready"
