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


# What a user follows as one step of an apply: each stage's objects are applied
# in KIND_ORDER, and the stage is reported once they all are (one progress event
# per stage, not per object: every event is stored, streamed and fanned out).
STAGES: Final = (
    ("guard rails", frozenset({"ResourceQuota", "LimitRange", "NetworkPolicy"})),
    ("access", frozenset({"ServiceAccount", "Role", "RoleBinding"})),
    (
        "storage and services",
        frozenset({"Secret", "ConfigMap", "PersistentVolumeClaim", "Service"}),
    ),
    ("workloads", frozenset({"StatefulSet", "Deployment", "Job", "CronJob"})),
    ("routing", frozenset({"Ingress"})),
)
_STAGE_OF: Final = {kind: name for name, kinds in STAGES for kind in kinds}
# Kinds we do not know rank just before the workloads: they join the stage before.
_UNKNOWN_STAGE: Final = "storage and services"


def rank(manifest: Manifest) -> float:
    return _RANK.get(str(manifest.get("kind", "")), _UNKNOWN_RANK)


def apply_order(manifests: Iterable[Manifest]) -> list[Manifest]:
    """Stable sort by kind rank: the chart's own order breaks ties."""
    return sorted(manifests, key=rank)


def key(manifest: Manifest) -> tuple[str, str, str]:
    """(API group, kind, name): how a rendered object is matched to a live one."""
    group = str(manifest.get("apiVersion", "")).rpartition("/")[0]
    return group, str(manifest["kind"]), str(manifest["metadata"]["name"])


def stages(ordered: Iterable[Manifest]) -> list[tuple[str, list[Manifest]]]:
    """`ordered` (apply order, without the Namespace) cut into its stages, in order."""
    cut: list[tuple[str, list[Manifest]]] = []
    for manifest in ordered:
        stage = _STAGE_OF.get(str(manifest.get("kind", "")), _UNKNOWN_STAGE)
        if cut and cut[-1][0] == stage:
            cut[-1][1].append(manifest)
        else:
            cut.append((stage, [manifest]))
    return cut
