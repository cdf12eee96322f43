"""The Kubernetes kinds the watcher lists and watches, and the RBAC that needs."""

from collections.abc import Awaitable, Callable
from functools import partial
from typing import Any, Final, NamedTuple

from kubernetes_asyncio.client import (
    ApiClient,
    AppsV1Api,
    BatchV1Api,
    CoreV1Api,
    CustomObjectsApi,
    NetworkingV1Api,
)

from services.contracts.labels import MANAGED_SELECTOR

ListCall = Callable[..., Awaitable[Any]]


class KindSpec(NamedTuple):
    kind: str
    group: str  # API group, "" for core: for the RBAC rule
    resource: str
    selector: str  # label selector, "" for every object of the kind
    list_call: Callable[[ApiClient], ListCall]  # cluster-wide list (and watch) function
    # A CRD's kind, absent from clusters without it: its informer takes "not found"
    # for an empty list and looks again later instead of holding every store back.
    optional: bool = False


EVENT: Final = "Event"

KINDS: Final = (
    KindSpec("Namespace", "", "namespaces", MANAGED_SELECTOR,
             lambda api: CoreV1Api(api).list_namespace),
    KindSpec("Deployment", "apps", "deployments", MANAGED_SELECTOR,
             lambda api: AppsV1Api(api).list_deployment_for_all_namespaces),
    KindSpec("StatefulSet", "apps", "statefulsets", MANAGED_SELECTOR,
             lambda api: AppsV1Api(api).list_stateful_set_for_all_namespaces),
    KindSpec("Job", "batch", "jobs", MANAGED_SELECTOR,
             lambda api: BatchV1Api(api).list_job_for_all_namespaces),
    KindSpec("Pod", "", "pods", MANAGED_SELECTOR,
             lambda api: CoreV1Api(api).list_pod_for_all_namespaces),
    KindSpec("Ingress", "networking.k8s.io", "ingresses", MANAGED_SELECTOR,
             lambda api: NetworkingV1Api(api).list_ingress_for_all_namespaces),
    # cert-manager's ingress-shim copies the Ingress's labels onto the Certificate.
    KindSpec("Certificate", "cert-manager.io", "certificates", MANAGED_SELECTOR,
             lambda api: partial(CustomObjectsApi(api).list_cluster_custom_object,
                                 "cert-manager.io", "v1", "certificates"),
             optional=True),
    # Challenges carry no labels (cert-manager makes them from Orders); the cache
    # reads those of store namespaces only. They live only while an order runs.
    KindSpec("Challenge", "acme.cert-manager.io", "challenges", "",
             lambda api: partial(CustomObjectsApi(api).list_cluster_custom_object,
                                 "acme.cert-manager.io", "v1", "challenges"),
             optional=True),
    # Events carry no labels; the watcher keeps those from store namespaces only.
    KindSpec(EVENT, "", "events", "",
             lambda api: CoreV1Api(api).list_event_for_all_namespaces),
)  # fmt: skip


# Kinds a store chart renders that the status ignores: watched for drift only
# (services/watcher/drift.py), like the applied kinds of KINDS above.
DRIFT_KINDS: Final = (
    KindSpec("ResourceQuota", "", "resourcequotas", MANAGED_SELECTOR,
             lambda api: CoreV1Api(api).list_resource_quota_for_all_namespaces),
    KindSpec("LimitRange", "", "limitranges", MANAGED_SELECTOR,
             lambda api: CoreV1Api(api).list_limit_range_for_all_namespaces),
    KindSpec("NetworkPolicy", "networking.k8s.io", "networkpolicies", MANAGED_SELECTOR,
             lambda api: NetworkingV1Api(api).list_network_policy_for_all_namespaces),
    KindSpec("Service", "", "services", MANAGED_SELECTOR,
             lambda api: CoreV1Api(api).list_service_for_all_namespaces),
    KindSpec("PersistentVolumeClaim", "", "persistentvolumeclaims", MANAGED_SELECTOR,
             lambda api: CoreV1Api(api).list_persistent_volume_claim_for_all_namespaces),
)  # fmt: skip
# Kinds of KINDS that the provisioner applies: watched for drift too.
APPLIED_STATUS_KINDS: Final = frozenset(
    {"Namespace", "Deployment", "StatefulSet", "Job", "Ingress"}
)


def rbac_rules() -> list[dict[str, list[str]]]:
    """ClusterRole rules: read-only, only the kinds above (the platform chart mirrors these)."""
    by_group: dict[str, list[str]] = {}
    for spec in KINDS + DRIFT_KINDS:
        by_group.setdefault(spec.group, []).append(spec.resource)
    return [
        {"apiGroups": [group], "resources": sorted(resources), "verbs": ["get", "list", "watch"]}
        for group, resources in sorted(by_group.items())
    ]
