"""Server-side apply of rendered manifests, prune by label, namespace deletion."""

import asyncio
import logging
import time
from collections.abc import Mapping
from typing import Any, Final

import aiohttp
from kubernetes_asyncio.client import ApiClient, CoreV1Api
from kubernetes_asyncio.client.exceptions import ApiException
from kubernetes_asyncio.dynamic import DynamicClient
from kubernetes_asyncio.dynamic.resource import Resource

from services.contracts import labels
from services.provisioner.errors import TransientError, classify, is_immutable_statefulset_change
from services.provisioner.ordering import Manifest, key

log = logging.getLogger(__name__)

FIELD_MANAGER: Final = labels.FIELD_MANAGER
# How long a replaced StatefulSet may take to let go of its pods.
ORPHANING_S: Final = 30.0
# A hung API server must fail the step (and be retried), not hold it forever.
REQUEST_TIMEOUT: Final = aiohttp.ClientTimeout(total=30, sock_connect=5)

# Kinds a store chart may render, checked for leftovers after each apply.
# Secrets are absent on purpose: the generated one is never pruned.
PRUNE_KINDS: Final = (
    ("networking.k8s.io/v1", "Ingress"),
    ("batch/v1", "CronJob"),
    ("batch/v1", "Job"),
    ("apps/v1", "Deployment"),
    ("apps/v1", "StatefulSet"),
    ("v1", "Service"),
    ("v1", "PersistentVolumeClaim"),
    ("networking.k8s.io/v1", "NetworkPolicy"),
    ("v1", "LimitRange"),
    ("v1", "ResourceQuota"),
)


def describe(manifest: Manifest) -> str:
    return f"{manifest['kind']}/{manifest['metadata']['name']}"


def applied_by_us(obj: Mapping[str, Any]) -> bool:
    """Did our server-side apply write this object? Controllers' children (a
    StatefulSet's PVCs, a Job's pods) carry our labels but not our apply."""
    fields = obj.get("metadata", {}).get("managedFields") or []
    return any(f.get("manager") == FIELD_MANAGER and f.get("operation") == "Apply" for f in fields)


# What release_now deletes, in order: controllers before the pods they own.
Query = list[tuple[str, str]]
_BACKGROUND: Final[Query] = [("propagationPolicy", "Background")]
RELEASE_ORDER: Final[tuple[tuple[str, str, Query], ...]] = (
    ("/apis/apps/v1", "deployments", _BACKGROUND),
    ("/apis/apps/v1", "replicasets", _BACKGROUND),
    ("/apis/apps/v1", "statefulsets", _BACKGROUND),
    ("/apis/batch/v1", "jobs", _BACKGROUND),
    ("/api/v1", "pods", [("gracePeriodSeconds", "0")]),
    ("/api/v1", "persistentvolumeclaims", []),
)


class Applier:
    """Kubernetes writes for one provisioner; errors come out classified."""

    def __init__(self, api: ApiClient) -> None:
        self.api = api
        self._dynamic: DynamicClient | None = None
        self._discovering = asyncio.Lock()

    async def _resource(self, api_version: str, kind: str) -> Resource:
        # One lookup at a time, for every worker: the discoverer fetches API
        # documents on a miss, and concurrent workers would each fetch the same
        # two dozen. Discovery needs the API server, so it is retried with the apply.
        async with self._discovering:
            if self._dynamic is None:
                try:
                    self._dynamic = await DynamicClient(self.api)
                except Exception as exc:
                    raise classify(exc, "discover Kubernetes APIs") from exc
            try:
                found: Resource = await self._dynamic.resources.get(
                    api_version=api_version, kind=kind
                )
            except Exception as exc:
                raise classify(exc, f"find API for {kind} ({api_version})") from exc
        return found

    async def _call(
        self,
        method: str,
        path: str,
        doing: str,
        body: Any = None,
        query: list[tuple[str, str]] | None = None,
        content_type: str = "application/json",
    ) -> dict[str, Any]:
        """One API request; non-2xx raises ApiException.

        Not DynamicClient.request: it reads responses unchecked, so a 409 or a
        422 would come back as a "Status" object instead of an error.
        """
        try:
            result: dict[str, Any] = await self.api.call_api(
                path,
                method,
                query_params=query or [],
                header_params={"Content-Type": content_type, "Accept": "application/json"},
                body=body,
                response_types_map={200: "object", 201: "object", 202: "object"},
                auth_settings=["BearerToken"],
                _return_http_data_only=True,
                _preload_content=True,
                _request_timeout=REQUEST_TIMEOUT,
            )
        except ApiException:
            raise
        except Exception as exc:
            raise classify(exc, doing) from exc
        return result

    async def _path(self, manifest: Manifest, name: str | None = None) -> str:
        resource = await self._resource(manifest["apiVersion"], manifest["kind"])
        namespace = manifest["metadata"].get("namespace") if resource.namespaced else None
        path: str = resource.path(name=name, namespace=namespace)
        return path

    async def server_side_apply(self, manifest: Manifest) -> dict[str, Any]:
        """Server-side apply; the object as the API server stored it."""
        doing = f"apply {describe(manifest)}"
        path = await self._path(manifest, manifest["metadata"]["name"])
        try:
            return await self._apply_patch(manifest, path, doing)
        except ApiException as exc:
            if not is_immutable_statefulset_change(exc):
                raise classify(exc, doing) from exc
        await self._replace_keeping_pods(manifest, path)
        try:
            return await self._apply_patch(manifest, path, doing)
        except ApiException as exc:
            raise classify(exc, doing) from exc

    async def _apply_patch(self, manifest: Manifest, path: str, doing: str) -> dict[str, Any]:
        query = [("fieldManager", FIELD_MANAGER), ("force", "true")]
        return await self._call(
            "PATCH", path, doing, manifest, query, "application/apply-patch+yaml"
        )

    async def _replace_keeping_pods(self, manifest: Manifest, path: str) -> None:
        """Delete a StatefulSet but not its pods or volumes (`kubectl delete
        --cascade=orphan`), and wait until it is gone: the new one adopts them."""
        doing = f"replace {describe(manifest)}"
        log.warning("replacing a StatefulSet, keeping its pods", extra={"doing": doing})
        await self._delete(manifest, doing, "Orphan")
        deadline = time.monotonic() + ORPHANING_S
        while time.monotonic() < deadline:
            try:
                await self._call("GET", path, doing)
            except ApiException as exc:
                if exc.status == 404:
                    return
                raise classify(exc, doing) from exc
            await asyncio.sleep(0.5)
        raise TransientError(f"{doing}: still letting go of its pods after {ORPHANING_S:.0f}s")

    async def read(self, probe: Manifest, name: str) -> dict[str, Any] | None:
        """The live object `name` of `probe`'s kind and namespace; None when absent."""
        doing = f"read {probe['kind']}/{name}"
        path = await self._path(probe, name)
        try:
            return await self._call("GET", path, doing)
        except ApiException as exc:
            if exc.status == 404:
                return None
            raise classify(exc, doing) from exc

    async def create_once(self, manifest: Manifest) -> bool:
        """Create; an existing object is kept as it is. True when created."""
        doing = f"create {describe(manifest)}"
        path = await self._path(manifest)
        try:
            await self._call("POST", path, doing, manifest, [("fieldManager", FIELD_MANAGER)])
        except ApiException as exc:
            if exc.status == 409:
                return False
            raise classify(exc, doing) from exc
        return True

    async def prune(self, namespace: str, store: str, keep: list[Manifest]) -> list[str]:
        """Delete what we applied earlier and the new render no longer has."""
        wanted = {key(m) for m in keep}
        pruned: list[str] = []
        for live, item in await self.live_objects(namespace, store):
            if key(live) in wanted or not applied_by_us(item):
                continue
            await self._delete(live, f"prune {describe(live)}")
            pruned.append(describe(live))
        return pruned

    async def live_objects(self, namespace: str, store: str) -> list[tuple[Manifest, Manifest]]:
        """Every labelled object of the store's kinds: (its reference, the object)."""
        selector = f"{labels.MANAGED_SELECTOR},{labels.STORE}={store}"
        found: list[tuple[Manifest, Manifest]] = []
        for api_version, kind in PRUNE_KINDS:
            probe = {"apiVersion": api_version, "kind": kind, "metadata": {"namespace": namespace}}
            path = await self._path(probe)
            try:
                listing = await self._call(
                    "GET", path, f"list {kind}", query=[("labelSelector", selector)]
                )
            except ApiException as exc:
                raise classify(exc, f"list {kind}") from exc
            for item in listing.get("items") or []:
                name = item["metadata"]["name"]
                found.append(({**probe, "metadata": {"name": name, "namespace": namespace}}, item))
        return found

    async def _delete(
        self, manifest: Manifest, doing: str, propagation: str = "Background"
    ) -> bool:
        """Delete; False when it was already gone."""
        path = await self._path(manifest, manifest["metadata"]["name"])
        options = {"kind": "DeleteOptions", "apiVersion": "v1", "propagationPolicy": propagation}
        try:
            await self._call("DELETE", path, doing, options)
        except ApiException as exc:
            if exc.status == 404:
                return False
            raise classify(exc, doing) from exc
        return True

    # -- the namespace itself -------------------------------------------------
    async def namespace(self, name: str) -> dict[str, Any] | None:
        """The live Namespace, or None when there is none."""
        try:
            ns = await CoreV1Api(self.api).read_namespace(name, _request_timeout=REQUEST_TIMEOUT)
        except ApiException as exc:
            if exc.status == 404:
                return None
            raise classify(exc, f"read Namespace/{name}") from exc
        except Exception as exc:
            raise classify(exc, f"read Namespace/{name}") from exc
        result: dict[str, Any] = self.api.sanitize_for_serialization(ns)
        return result

    async def annotate_namespace(self, name: str, annotations: Mapping[str, str]) -> bool:
        """Merge `annotations` into the namespace; False when it does not exist."""
        doing = f"annotate Namespace/{name}"
        ns = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}}
        body = {"metadata": {"annotations": dict(annotations)}}
        path = await self._path(ns, name)
        try:
            await self._call(
                "PATCH",
                path,
                doing,
                body,
                [("fieldManager", FIELD_MANAGER)],
                "application/merge-patch+json",
            )
        except ApiException as exc:
            if exc.status == 404:
                return False
            raise classify(exc, doing) from exc
        return True

    async def delete_namespace(self, name: str) -> bool:
        """Foreground deletion (children first); False when it did not exist."""
        ns = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}}
        return await self._delete(ns, f"delete Namespace/{name}", "Foreground")

    async def release_now(self, namespace: str) -> None:
        """Delete a terminating store's workloads, then its pods (no grace period)
        and volume claims.

        The namespace controller waits half of the longest pod grace period
        (16 s for the default 30) and 8 s more for claims still held by their
        protection finalizer before it looks again; done here, both are gone by
        its first pass. The workload controllers go first, or they would keep
        re-creating the pods into a namespace that refuses them. Nothing is lost:
        the store's data goes with it. Best effort: without this, deletion is
        only slower."""
        for api, resource, query in RELEASE_ORDER:
            path = f"{api}/namespaces/{namespace}/{resource}"
            try:
                await self._call("DELETE", path, f"delete {resource} in {namespace}", query=query)
            except ApiException as exc:
                log.warning(
                    "could not hurry the store's deletion",
                    extra={"namespace": namespace, "resource": resource, "status": exc.status},
                )
