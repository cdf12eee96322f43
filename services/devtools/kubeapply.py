"""Server-side apply of a few cluster-scoped setup manifests, as the admin.

For the dev tooling (the real node's RBAC, storage class, namespace), which
runs before any service and needs no client library: the kinds it knows are
listed in ``RESOURCES``; anything else is an error naming the kind.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any, Protocol

import yaml

FIELD_MANAGER = "urumi-dev"

#: kind -> (API path prefix, plural, namespaced)
RESOURCES: dict[str, tuple[str, str, bool]] = {
    "Namespace": ("/api/v1", "namespaces", False),
    "ServiceAccount": ("/api/v1", "serviceaccounts", True),
    "ConfigMap": ("/api/v1", "configmaps", True),
    "StorageClass": ("/apis/storage.k8s.io/v1", "storageclasses", False),
    "IngressClass": ("/apis/networking.k8s.io/v1", "ingressclasses", False),
    "ClusterRole": ("/apis/rbac.authorization.k8s.io/v1", "clusterroles", False),
    "ClusterRoleBinding": ("/apis/rbac.authorization.k8s.io/v1", "clusterrolebindings", False),
    "Role": ("/apis/rbac.authorization.k8s.io/v1", "roles", True),
    "RoleBinding": ("/apis/rbac.authorization.k8s.io/v1", "rolebindings", True),
}


class Requester(Protocol):
    def request(
        self, path: str, method: str = ..., body: bytes | None = ..., content_type: str = ...
    ) -> tuple[int, bytes]: ...


class ApplyError(RuntimeError):
    """A manifest the apiserver refused, or of a kind this module does not know."""


def object_path(doc: dict[str, Any]) -> str:
    """The apply URL of one object."""
    kind = doc.get("kind", "")
    if kind not in RESOURCES:
        raise ApplyError(f"cannot apply kind {kind!r}: known kinds are {sorted(RESOURCES)}")
    prefix, plural, namespaced = RESOURCES[kind]
    meta = doc["metadata"]
    scope = f"/namespaces/{meta['namespace']}" if namespaced else ""
    return f"{prefix}{scope}/{plural}/{meta['name']}?fieldManager={FIELD_MANAGER}&force=true"


def documents(paths: Iterable[Path]) -> list[dict[str, Any]]:
    return [doc for p in paths for doc in yaml.safe_load_all(p.read_text()) if doc]


def apply_manifests(cluster: Requester, paths: Iterable[Path]) -> None:
    """Apply every document, in file order (a namespace before what is in it)."""
    for doc in documents(paths):
        body = yaml.safe_dump(doc).encode()
        status, answer = cluster.request(
            object_path(doc), "PATCH", body, "application/apply-patch+yaml"
        )
        if status >= 300:
            name = f"{doc['kind']} {doc['metadata']['name']}"
            raise ApplyError(f"apply {name}: {status} {answer[:300].decode(errors='replace')}")
