"""Server-side apply of rendered manifests, prune by label, namespace deletion."""

from collections.abc import Mapping
from typing import Any, Final

from kubernetes_asyncio.client import ApiClient, CoreV1Api
from kubernetes_asyncio.client.exceptions import ApiException
from kubernetes_asyncio.dynamic import DynamicClient
from kubernetes_asyncio.dynamic.resource import Resource

from services.contracts import labels
from services.provisioner.errors import classify
from services.provisioner.ordering import Manifest, key

FIELD_MANAGER: Final = "urumi-provisioner"
# (connect, read) seconds: a hung API server must fail the step, not hold it.
REQUEST_TIMEOUT: Final = (5, 30)

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
    ("v1", "ConfigMap"),
    ("rbac.authorization.k8s.io/v1", "RoleBinding"),
    ("rbac.authorization.k8s.io/v1", "Role"),
    ("v1", "ServiceAccount"),
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


class Applier:
    """Kubernetes writes for one provisioner; errors come out classified."""

    def __init__(self, api: ApiClient) -> None:
        self.api = api
        self._dynamic: DynamicClient | None = None

    async def _client(self) -> DynamicClient:
        # Discovery needs the API server, so it is retried with the apply.
        if self._dynamic is None:
            try:
                self._dynamic = await DynamicClient(self.api)
            except Exception as exc:
                raise classify(exc, "discover Kubernetes APIs") from exc
        return self._dynamic

    async def _resource(self, api_version: str, kind: str) -> Resource:
        client = await self._client()
        try:
            return await client.resources.get(api_version=api_version, kind=kind)
        except Exception as exc:
            raise classify(exc, f"find API for {kind} ({api_version})") from exc

    async def apply(self, manifest: Manifest) -> None:
        resource = await self._resource(manifest["apiVersion"], manifest["kind"])
        client = await self._client()
        try:
            await client.server_side_apply(
                resource,
                body=manifest,
                namespace=manifest["metadata"].get("namespace"),
                field_manager=FIELD_MANAGER,
                force_conflicts=True,
                _request_timeout=REQUEST_TIMEOUT,
            )
        except Exception as exc:
            raise classify(exc, f"apply {describe(manifest)}") from exc

    async def create_once(self, manifest: Manifest) -> bool:
        """Create; an existing object is kept as it is. True when created."""
        resource = await self._resource(manifest["apiVersion"], manifest["kind"])
        client = await self._client()
        try:
            await client.create(
                resource,
                body=manifest,
                namespace=manifest["metadata"].get("namespace"),
                field_manager=FIELD_MANAGER,
                _request_timeout=REQUEST_TIMEOUT,
            )
        except ApiException as exc:
            if exc.status == 409:
                return False
            raise classify(exc, f"create {describe(manifest)}") from exc
        except Exception as exc:
            raise classify(exc, f"create {describe(manifest)}") from exc
        return True

    async def prune(self, namespace: str, store: str, keep: list[Manifest]) -> list[str]:
        """Delete what we applied earlier and the new render no longer has."""
        wanted = {key(m) for m in keep}
        selector = f"{labels.MANAGED_SELECTOR},{labels.STORE}={store}"
        client = await self._client()
        pruned: list[str] = []
        for api_version, kind in PRUNE_KINDS:
            resource = await self._resource(api_version, kind)
            try:
                listing = await client.get(
                    resource,
                    namespace=namespace,
                    label_selector=selector,
                    _request_timeout=REQUEST_TIMEOUT,
                )
            except Exception as exc:
                raise classify(exc, f"list {kind}") from exc
            for item in listing.to_dict().get("items", []):
                name = item["metadata"]["name"]
                live = {"apiVersion": api_version, "kind": kind, "metadata": {"name": name}}
                if key(live) in wanted or not applied_by_us(item):
                    continue
                await self._delete(resource, name, namespace, f"prune {kind}/{name}")
                pruned.append(f"{kind}/{name}")
        return pruned

    async def _delete(
        self,
        resource: Resource,
        name: str,
        namespace: str | None,
        doing: str,
        propagation: str = "Background",
    ) -> bool:
        """Delete; False when it was already gone."""
        client = await self._client()
        try:
            await client.delete(
                resource,
                name=name,
                namespace=namespace,
                propagation_policy=propagation,
                _request_timeout=REQUEST_TIMEOUT,
            )
        except ApiException as exc:
            if exc.status == 404:
                return False
            raise classify(exc, doing) from exc
        except Exception as exc:
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
        body = {"metadata": {"name": name, "annotations": dict(annotations)}}
        resource = await self._resource("v1", "Namespace")
        client = await self._client()
        try:
            await client.patch(
                resource,
                body=body,
                name=name,
                content_type="application/merge-patch+json",
                field_manager=FIELD_MANAGER,
                _request_timeout=REQUEST_TIMEOUT,
            )
        except ApiException as exc:
            if exc.status == 404:
                return False
            raise classify(exc, f"annotate Namespace/{name}") from exc
        except Exception as exc:
            raise classify(exc, f"annotate Namespace/{name}") from exc
        return True

    async def delete_namespace(self, name: str) -> bool:
        """Foreground deletion (children first); False when it did not exist."""
        resource = await self._resource("v1", "Namespace")
        return await self._delete(resource, name, None, f"delete Namespace/{name}", "Foreground")
