"""NATS subject names. The tenant is a subject token so NATS can filter and
authorize per tenant."""

from enum import StrEnum
from typing import Final, NamedTuple

PREFIX: Final = "urumi"
COMMANDS_ALL: Final = f"{PREFIX}.cmd.>"
EVENTS_ALL: Final = f"{PREFIX}.evt.>"
CREDENTIALS_ALL: Final = f"{PREFIX}.rpc.credentials.>"


class EventKind(StrEnum):
    STATUS = "status"
    PROGRESS = "progress"
    KUBE = "kube"
    FLEET = "fleet"
    BACKUP = "backup"
    DOMAIN = "domain"
    ACTIVITY = "activity"


def command_subject(tenant: str, store: str) -> str:
    return f"{PREFIX}.cmd.{tenant}.{store}"


RECONCILE: Final = "reconcile"


def reconcile_subject(tenant: str, store: str) -> str:
    """Where the watcher asks for a re-apply: a subject of its own, so NATS lets the
    watcher ask for nothing else (no create, no delete)."""
    return f"{command_subject(tenant, store)}.{RECONCILE}"


def is_reconcile_subject(subject: str) -> bool:
    return subject.startswith(f"{PREFIX}.cmd.") and subject.endswith(f".{RECONCILE}")


def event_subject(tenant: str, store: str, kind: EventKind) -> str:
    return f"{PREFIX}.evt.{tenant}.{store}.{kind.value}"


# Events of the platform itself (fleet upgrades) stand where a tenant would: no
# tenant id can be this (ids are DNS labels), and an admin ticket names it.
PLATFORM: Final = "_platform"


def fleet_subject(fleet: str) -> str:
    return event_subject(PLATFORM, fleet, EventKind.FLEET)


def activity_subject(store: str) -> str:
    """A store's visits (watcher → gateway): the platform's, not its tenant's."""
    return event_subject(PLATFORM, store, EventKind.ACTIVITY)


def tenant_events(tenant: str) -> str:
    """Every event of one tenant's stores."""
    return f"{PREFIX}.evt.{tenant}.>"


def tenant_statuses(tenant: str) -> str:
    return f"{PREFIX}.evt.{tenant}.*.{EventKind.STATUS.value}"


def credentials_subject(tenant: str, store: str) -> str:
    return f"{PREFIX}.rpc.credentials.{tenant}.{store}"


class SubjectRef(NamedTuple):
    tenant: str
    store: str


def parse_store_subject(subject: str) -> SubjectRef:
    """Tenant and store from a command, event or credentials subject."""
    parts = subject.split(".")
    if len(parts) >= 4 and parts[0] == PREFIX and parts[1] in ("cmd", "evt"):
        return SubjectRef(parts[2], parts[3])
    if len(parts) == 5 and parts[:3] == [PREFIX, "rpc", "credentials"]:
        return SubjectRef(parts[3], parts[4])
    raise ValueError(f"not an urumi store subject: {subject!r}")
