"""What the watcher reads of each kind, as msgspec decodes it (pure, no I/O).

Each watch event and list page is decoded straight into plain dicts holding only
the keys below: msgspec skips the rest of the JSON without building it (a pod's
volumes, env and probes, every object's managedFields where drift does not
read them, an Event's source and metadata). The parsers (`observed.py`,
`events.py`, `drift.py`) read these dicts as they read the API's; a key they read
that is missing here would read as absent, so the unit tests decode real-shaped
objects through these schemas (tests/unit/test_watcher_schemas.py).

Leaves are `Any`, and every list, map and nested object may be null (an empty
PartialObjectMetadataList's `items` is): a value of an unexpected type must
reach the parsers (which check types and read null as absent), not fail the
whole watch. A Urumi Apply entry's `fieldsV1` stays
raw JSON (`msgspec.Raw`): drift only compares it, and the API server writes it
the same way each time (structured-merge-diff's sorted field set).
"""

from collections.abc import Callable
from typing import Any, Final, TypedDict

import msgspec


class OwnerRef(TypedDict, total=False):
    kind: Any
    name: Any
    controller: Any


class ManagedEntry(TypedDict, total=False):
    manager: Any
    operation: Any
    time: Any
    subresource: Any
    fieldsV1: msgspec.Raw


class Meta(TypedDict, total=False):
    """Metadata without managedFields: kinds that drift does not watch."""

    name: Any
    namespace: Any
    uid: Any
    resourceVersion: Any
    generation: Any
    creationTimestamp: Any
    deletionTimestamp: Any
    labels: dict[str, Any] | None
    annotations: dict[str, Any] | None
    ownerReferences: list[OwnerRef] | None


class ManagedMeta(Meta, total=False):
    """Metadata of kinds that drift watches (services/watcher/drift.py)."""

    managedFields: list[ManagedEntry] | None


class Condition(TypedDict, total=False):
    type: Any
    status: Any
    reason: Any
    message: Any
    lastTransitionTime: Any


# -- the kinds the status reads (and drift, for those Urumi applies) ------------------


class NamespaceStatus(TypedDict, total=False):
    phase: Any


class NamespaceObj(TypedDict, total=False):
    metadata: ManagedMeta | None
    status: NamespaceStatus | None


class WorkloadSpec(TypedDict, total=False):
    replicas: Any
    minReadySeconds: Any


class WorkloadStatus(TypedDict, total=False):
    replicas: Any
    readyReplicas: Any
    availableReplicas: Any
    updatedReplicas: Any
    observedGeneration: Any
    currentRevision: Any
    updateRevision: Any
    conditions: list[Condition] | None


class WorkloadObj(TypedDict, total=False):
    metadata: ManagedMeta | None
    spec: WorkloadSpec | None
    status: WorkloadStatus | None


class JobStatus(TypedDict, total=False):
    conditions: list[Condition] | None
    active: Any
    failed: Any
    startTime: Any
    completionTime: Any


class JobObj(TypedDict, total=False):
    metadata: ManagedMeta | None
    status: JobStatus | None


class ContainerSpec(TypedDict, total=False):
    name: Any
    image: Any


class PodSpec(TypedDict, total=False):
    initContainers: list[ContainerSpec] | None
    containers: list[ContainerSpec] | None


class ContainerStatus(TypedDict, total=False):
    name: Any
    image: Any
    ready: Any
    restartCount: Any
    state: dict[str, Any] | None
    lastState: dict[str, Any] | None


class PodStatus(TypedDict, total=False):
    phase: Any
    conditions: list[Condition] | None
    initContainerStatuses: list[ContainerStatus] | None
    containerStatuses: list[ContainerStatus] | None


class PodObj(TypedDict, total=False):
    metadata: Meta | None
    spec: PodSpec | None
    status: PodStatus | None


class IngressRule(TypedDict, total=False):
    host: Any


class IngressTLS(TypedDict, total=False):
    hosts: Any
    secretName: Any


class IngressSpec(TypedDict, total=False):
    rules: list[IngressRule] | None
    tls: list[IngressTLS] | None


class IngressObj(TypedDict, total=False):
    metadata: ManagedMeta | None
    spec: IngressSpec | None


class ReferenceObj(TypedDict, total=False):
    kind: Any
    name: Any


class EventSeries(TypedDict, total=False):
    count: Any
    lastObservedTime: Any


class EventObj(TypedDict, total=False):
    """core/v1 or events.k8s.io/v1 Event (services/watcher/events.py)."""

    metadata: Meta | None
    involvedObject: ReferenceObj | None
    regarding: ReferenceObj | None
    type: Any
    reason: Any
    message: Any
    note: Any
    count: Any
    series: EventSeries | None
    lastTimestamp: Any
    eventTime: Any


class MetadataObj(TypedDict, total=False):
    """A drift-only kind, watched as PartialObjectMetadata (services/watcher/kinds.py)."""

    metadata: ManagedMeta | None


SCHEMAS: Final[dict[str, type]] = {
    "Namespace": NamespaceObj,
    "Deployment": WorkloadObj,
    "StatefulSet": WorkloadObj,
    "Job": JobObj,
    "Pod": PodObj,
    "Ingress": IngressObj,
    "Event": EventObj,
    "ResourceQuota": MetadataObj,
    "LimitRange": MetadataObj,
    "NetworkPolicy": MetadataObj,
    "Service": MetadataObj,
    "PersistentVolumeClaim": MetadataObj,
}
# Kinds without a schema (cert-manager's, rare and small) decode whole.
WHOLE: Final = dict[str, Any]


# The functional form: `continue` is a keyword.
ListMeta = TypedDict("ListMeta", {"resourceVersion": Any, "continue": Any}, total=False)


class WatchLine(TypedDict, total=False):
    type: Any
    object: msgspec.Raw  # decoded by kind, or whole for an ERROR's Status


class Page(TypedDict, total=False):
    metadata: ListMeta | None
    items: list[msgspec.Raw] | None  # decoded by kind


# Typed as returning Any: mypy takes a TypedDict for no dict[str, Any], which the
# parsers (written against the API's JSON) take.
_line: Final[Callable[[bytes], Any]] = msgspec.json.Decoder(WatchLine).decode
_page: Final[Callable[[bytes], Any]] = msgspec.json.Decoder(Page).decode
_whole: Final[Callable[[bytes], Any]] = msgspec.json.Decoder(WHOLE).decode


class Decoders:
    """One kind's decoders: list pages, watch lines, and the object in a line."""

    def __init__(self, kind: str) -> None:
        self._object: Callable[[bytes], Any] = msgspec.json.Decoder(SCHEMAS.get(kind, WHOLE)).decode

    def object(self, raw: bytes) -> dict[str, Any]:
        obj: dict[str, Any] = self._object(raw)
        return obj

    def line(self, line: bytes) -> dict[str, Any]:
        """`type`, and `object` still raw (see `object`, `status`)."""
        event: dict[str, Any] = _line(line)
        return event

    def page(self, body: bytes) -> dict[str, Any]:
        page: dict[str, Any] = _page(body)
        page["items"] = [self.object(item) for item in page.get("items") or ()]
        return page


def decode_status(raw: bytes) -> dict[str, Any]:
    """An ERROR event's object: a metav1.Status, whole."""
    status: dict[str, Any] = _whole(raw)
    return status
