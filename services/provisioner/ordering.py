"""The order manifests are applied in: what others depend on goes first."""

from collections.abc import Iterable
from typing import Any, Final

Manifest = dict[str, Any]

# Namespace and its guard rails before anything runs in it; policies before
# pods so no pod ever starts unconfined; storage and services before the
# workloads that mount or resolve them; the setup Job after the tiers it
# configures; the Ingress last so a store is routable only once it exists.
KIND_ORDER: Final = (
    "Namespace",
    "ResourceQuota",
    "LimitRange",
    "NetworkPolicy",
    "ServiceAccount",
    "Role",
    "RoleBinding",
    "Secret",
    "ConfigMap",
    "PersistentVolumeClaim",
    "Service",
    "StatefulSet",
    "Deployment",
    "Job",
    "CronJob",
    "Ingress",
)
_RANK: Final = {kind: i for i, kind in enumerate(KIND_ORDER)}
# Kinds we do not know apply after configuration and before workloads.
_UNKNOWN_RANK: Final = _RANK["StatefulSet"] - 0.5


def rank(manifest: Manifest) -> float:
    return _RANK.get(str(manifest.get("kind", "")), _UNKNOWN_RANK)


def apply_order(manifests: Iterable[Manifest]) -> list[Manifest]:
    """Stable sort by kind rank: the chart's own order breaks ties."""
    return sorted(manifests, key=rank)


def key(manifest: Manifest) -> tuple[str, str, str]:
    """(API group, kind, name): how a rendered object is matched to a live one."""
    group = str(manifest.get("apiVersion", "")).rpartition("/")[0]
    return group, str(manifest["kind"]), str(manifest["metadata"]["name"])
