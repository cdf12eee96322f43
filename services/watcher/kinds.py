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

# The metadata of each object only (`PartialObjectMetadata`), as client-go's
# metadata informers ask for it: no spec, no status. The API server still sends
# an event for every change (a quota's status is rewritten on each pod, claim or
# service change), but each is a fraction of the object, to send and to decode.
METADATA_LIST: Final = "application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1"
METADATA_WATCH: Final = "application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1"
# The generated list functions' keyword arguments → the API's query parameters.
_QUERY: Final = {
    "label_selector": "labelSelector",
    "field_selector": "fieldSelector",
    "_continue": "continue",
    "limit": "limit",
    "watch": "watch",
    "resource_version": "resourceVersion",
    "allow_watch_bookmarks": "allowWatchBookmarks",
    "timeout_seconds": "timeoutSeconds",
}


def metadata_list(group: str, resource: str) -> Callable[[ApiClient], ListCall]:
    """A cluster-wide list (and watch) of `resource`'s metadata, called like the
    generated list functions (which fix `Accept` to plain JSON)."""
    path = f"/api/v1/{resource}" if not group else f"/apis/{group}/v1/{resource}"

    def bind(api: ApiClient) -> ListCall:
        async def call(
            *, _preload_content: bool = False, _request_timeout: Any = None, **params: Any
        ) -> Any:
            query = [(_QUERY[k], _query_value(v)) for k, v in params.items() if v is not None]
            accept = METADATA_WATCH if params.get("watch") else METADATA_LIST
            return await api.call_api(
                path,
                "GET",
                query_params=query,
                header_params={"Accept": accept},
                auth_settings=["BearerToken"],
                _preload_content=_preload_content,
                _request_timeout=_request_timeout,
                _return_http_data_only=True,
            )

        return call

    return bind


def _query_value(value: Any) -> str:
    return ("true" if value else "false") if isinstance(value, bool) else str(value)


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
# (services/watcher/drift.py), like the applied kinds of KINDS above. Drift reads
# only metadata (uid, managedFields), so only metadata is watched.
DRIFT_KINDS: Final = (
    KindSpec("ResourceQuota", "", "resourcequotas", MANAGED_SELECTOR,
             metadata_list("", "resourcequotas")),
    KindSpec("LimitRange", "", "limitranges", MANAGED_SELECTOR,
             metadata_list("", "limitranges")),
    KindSpec("NetworkPolicy", "networking.k8s.io", "networkpolicies", MANAGED_SELECTOR,
             metadata_list("networking.k8s.io", "networkpolicies")),
    KindSpec("Service", "", "services", MANAGED_SELECTOR,
             metadata_list("", "services")),
    KindSpec("PersistentVolumeClaim", "", "persistentvolumeclaims", MANAGED_SELECTOR,
             metadata_list("", "persistentvolumeclaims")),
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
