"""Events: what happened to a store (stream URUMI_EVENTS)."""

from datetime import datetime
from enum import StrEnum

import msgspec

from services.contracts.backups import BackupStatus
from services.contracts.domains import DomainStatus
from services.contracts.fleet import FleetProgress
from services.contracts.phases import Phase


class ConditionType(StrEnum):
    NAMESPACE_READY = "NamespaceReady"
    DATABASE_READY = "DatabaseReady"
    WEB_READY = "WebReady"
    STORE_CONFIGURED = "StoreConfigured"
    ROUTABLE = "Routable"


class Condition(msgspec.Struct, frozen=True):
    type: str
    status: str  # "True" | "False" | "Unknown", as in Kubernetes
    reason: str = ""
    message: str = ""
    last_transition_time: datetime | None = None


class StoreStatus(msgspec.Struct, frozen=True, tag="store-status", tag_field="type"):
    """What Kubernetes shows about a store; written by the watcher only."""

    tenant: str
    store: str
    phase: Phase
    generation: int
    observed_at: datetime
    conditions: list[Condition] = []
    url: str = ""
    reason: str = ""
    message: str = ""


class StepState(StrEnum):
    STARTED = "started"
    SUCCEEDED = "succeeded"
    RETRYING = "retrying"
    FAILED = "failed"


class StoreProgress(msgspec.Struct, frozen=True, tag="store-progress", tag_field="type"):
    """A provisioning step happened; written by the provisioner only.

    `phase` is set when the step itself decides the phase: `provisioning` when
    work starts, `failed` for an error the cluster will never show, `deleting`
    when removal starts.
    """

    tenant: str
    store: str
    generation: int
    command_id: str
    step: str
    state: StepState
    at: datetime
    message: str = ""
    phase: Phase | None = None


class KubeEvent(msgspec.Struct, frozen=True, tag="kube-event", tag_field="type"):
    """A Kubernetes Event from the store's namespace, for the live log."""

    tenant: str
    store: str
    namespace: str
    object_kind: str
    object_name: str
    event_type: str  # Normal | Warning
    reason: str
    message: str
    at: datetime
    count: int = 1


class StoreActivity(msgspec.Struct, frozen=True, tag="store-activity", tag_field="type"):
    """Shoppers reached the store: the ingress controller's request counter for
    its Services grew by `requests` since the watcher last looked. Written by the
    watcher only, at most once a report period per store, and only when the
    counter grew; the gateway records it as the store's last visit (what
    auto-sleep reads). The platform's own signal, not on the tenants' feeds."""

    tenant: str
    store: str
    requests: int
    observed_at: datetime


Event = StoreStatus | StoreProgress | KubeEvent | BackupStatus
# What a tenant's websocket carries: its stores' events and their domains'.
TenantEvent = Event | DomainStatus
# Everything on URUMI_EVENTS: the tenants' events and the platform's own.
BusEvent = TenantEvent | FleetProgress | StoreActivity
