"""The in-memory picture of every store, fed by the informers (pure, no I/O).

Objects are grouped by namespace: a store *is* its namespace, so an object needs
no store label of its own to be counted, only the managed-by selector that the
informers list and watch with.
"""

from collections.abc import Callable, Iterable
from typing import Any, Final

from services.watcher.observed import (
    CertificateObs,
    ChallengeObs,
    IngressObs,
    JobObs,
    NamespaceObs,
    PodObs,
    Raw,
    StoreObjects,
    WorkloadObs,
    parse_certificate,
    parse_challenge,
    parse_ingress,
    parse_job,
    parse_namespace,
    parse_pod,
    parse_workload,
)

PARSERS: Final[dict[str, Callable[[Raw], Any]]] = {
    "Deployment": lambda raw: parse_workload(raw, "Deployment"),
    "StatefulSet": lambda raw: parse_workload(raw, "StatefulSet"),
    "Job": parse_job,
    "Pod": parse_pod,
    "Ingress": parse_ingress,
    "Certificate": parse_certificate,
    "Challenge": parse_challenge,
}
NAMESPACE: Final = "Namespace"

Objects = dict[str, dict[str, Any]]  # namespace → name → parsed object


def _where(raw: Raw) -> tuple[str, str]:
    meta = raw.get("metadata") or {}
    return meta.get("namespace", ""), meta.get("name", "")


class StoreCache:
    def __init__(self) -> None:
        self._namespaces: dict[str, NamespaceObs] = {}
        self._gone: dict[str, NamespaceObs] = {}  # until `deleted` is published
        self._objects: dict[str, Objects] = {kind: {} for kind in PARSERS}

    def record_watch_event(self, kind: str, event_type: str, raw: Raw) -> set[str]:
        """One watch event; returns the namespaces whose store may have changed.

        An object whose parsed form did not change (most updates: a quota
        recount, a kubelet heartbeat of a pod's status, a workload's status
        catching up with fields the status does not read) changes no store:
        nothing to re-evaluate."""
        if kind == NAMESPACE:
            return self._record_namespace(event_type, raw)
        ns, name = _where(raw)
        by_ns = self._objects[kind]
        if event_type == "DELETED":
            by_ns.get(ns, {}).pop(name, None)
            return {ns}
        objects = by_ns.setdefault(ns, {})
        obs = PARSERS[kind](raw)
        if objects.get(name) == obs:
            return set()
        objects[name] = obs
        return {ns}

    def _record_namespace(self, event_type: str, raw: Raw) -> set[str]:
        name = _where(raw)[1]
        if event_type == "DELETED":
            self._mark_gone(name, parse_namespace(raw))
            return {name}
        obs = parse_namespace(raw)
        if obs is None:
            return set()
        if self._namespaces.get(name) == obs:
            return set()
        self._namespaces[name] = obs
        self._gone.pop(name, None)  # re-created under the same name
        return {name}

    def _mark_gone(self, name: str, last: NamespaceObs | None) -> None:
        known = self._namespaces.pop(name, None)
        last = last or known
        if last is not None:
            self._gone[name] = last

    def replace(self, kind: str, items: Iterable[Raw]) -> set[str]:
        """A full list of one kind (start or relist); returns every touched namespace."""
        if kind == NAMESPACE:
            return self._replace_namespaces(items)
        before = self._objects[kind]
        after: Objects = {}
        for raw in items:
            ns, name = _where(raw)
            after.setdefault(ns, {})[name] = PARSERS[kind](raw)
        self._objects[kind] = after
        return set(before) | set(after)

    def _replace_namespaces(self, items: Iterable[Raw]) -> set[str]:
        seen = set()
        for raw in items:
            self._record_namespace("ADDED", raw)
            if (name := _where(raw)[1]) in self._namespaces:
                seen.add(name)  # changed or not: a relist re-evaluates every store
        vanished = set(self._namespaces) - seen
        for name in vanished:
            self._mark_gone(name, None)
        return seen | vanished

    def mark_gone(self, last: NamespaceObs) -> None:
        """A store known from elsewhere (its last status) whose namespace is absent."""
        if last.name not in self._namespaces:
            self._gone[last.name] = last

    def forget(self, namespace: str) -> None:
        self._gone.pop(namespace, None)
        for by_ns in self._objects.values():
            by_ns.pop(namespace, None)

    def namespace(self, name: str) -> NamespaceObs | None:
        """The live namespace of a store (None for gone or foreign namespaces)."""
        return self._namespaces.get(name)

    def stores(self) -> list[str]:
        return sorted(set(self._namespaces) | set(self._gone))

    def snapshot(self, namespace: str) -> StoreObjects | None:
        live = self._namespaces.get(namespace)
        ns = live or self._gone.get(namespace)
        if ns is None:
            return None

        def of(kind: str) -> list[Any]:
            return list(self._objects[kind].get(namespace, {}).values())

        workloads: list[WorkloadObs] = of("Deployment") + of("StatefulSet")
        jobs: list[JobObs] = of("Job")
        pods: list[PodObs] = of("Pod")
        ingresses: list[IngressObs] = of("Ingress")
        certificates: list[CertificateObs] = of("Certificate")
        challenges: list[ChallengeObs] = of("Challenge")
        return StoreObjects(
            namespace=ns,
            gone=live is None,
            workloads=tuple(workloads),
            jobs=tuple(jobs),
            pods=tuple(pods),
            ingresses=tuple(ingresses),
            certificates=tuple(certificates),
            challenges=tuple(challenges),
        )
