"""Request and response bodies of the HTTP API."""

from datetime import date, datetime
from typing import Annotated, Any

import msgspec

from services.contracts.backups import BackupId, BackupState, BackupTrigger
from services.contracts.domains import DnsRecord, DomainName, DomainState
from services.contracts.events import Condition
from services.contracts.fleet import WAVE_PATTERN, FleetMember, FleetSummary
from services.contracts.ids import StoreIdStr, TenantIdStr
from services.contracts.phases import Phase
from services.contracts.store import (
    RELEASE_NAME_PATTERN,
    DisplayName,
    Engine,
    Plan,
    ReleaseName,
    check_store_id,
)

RequestedRelease = Annotated[
    str,
    msgspec.Meta(
        pattern=f"^$|{RELEASE_NAME_PATTERN}",
        description='A release of the engine (GET /api/v1/releases); "": its default.',
        examples=["woo-2026.11"],
    ),
]


class CreateStoreRequest(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    id: StoreIdStr
    engine: Engine = Engine.WOOCOMMERCE
    plan: Plan = Plan.SMALL
    display_name: DisplayName = ""
    release: RequestedRelease = ""

    def __post_init__(self) -> None:
        check_store_id(self.id)


class UpdateStoreRequest(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """What may change on a live store (absent or null: unchanged); the engine and
    the id may not."""

    plan: Plan | None = None
    display_name: DisplayName | None = None
    # Another release of the store's engine: an upgrade (a downgrade only with
    # allow_downgrade, as database migrations are one-way).
    release: ReleaseName | None = None
    allow_downgrade: bool = False


class StoreView(msgspec.Struct, frozen=True):
    id: str
    tenant: str
    engine: Engine
    plan: Plan
    display_name: str
    storage_plan: Plan  # volumes keep this plan's sizes (the plan at creation)
    phase: Phase
    generation: int
    url: str
    reason: str
    message: str
    conditions: list[Condition]
    created_at: datetime
    updated_at: datetime
    release: str = ""  # the engine release the store runs (charts/releases.yaml)
    latest_release: str = ""  # the newest release of its engine
    upgrade_available: bool = False  # latest_release is newer than `release`
    # Put to sleep by its tenant (POST …/sleep): its phase goes `asleep` once no
    # pod runs; POST …/wake brings it back at the next generation.
    asleep: bool = False
    # The tenant's own domains, verified, in the store's spec: it answers on
    # them too, and the first is the engine's own address (GET …/domains).
    domains: list[str] = []
    # The store's last visit that the platform saw (the ingress controller's
    # counters, a visit to its asleep page), or its creation or last wake if
    # later: a plan's URUMI_AUTO_SLEEP_AFTER counts from it.
    last_visit_at: datetime | None = None


class AddDomainRequest(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """A domain of the tenant's for the store to answer on, once its DNS records
    prove it theirs."""

    domain: DomainName


class DomainView(msgspec.Struct, frozen=True):
    domain: str
    store: str
    state: DomainState
    reason: str  # why it is in `state`, and what to do when it is waiting or failed
    records: list[DnsRecord]  # what to set at the DNS provider
    created_at: datetime
    updated_at: datetime
    checked_at: datetime | None = None  # the last DNS lookup


class DomainList(msgspec.Struct, frozen=True):
    items: list[DomainView]  # in the order added


class StartFleetRequest(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """Upgrade every live store of `engine` behind `to_release`, a wave at a time."""

    engine: Engine
    to_release: ReleaseName
    wave: Annotated[
        str,
        msgspec.Meta(
            pattern=WAVE_PATTERN,
            description='Stores per wave: a count ("10") or a share of the fleet ("10%").',
            examples=["10%", "10"],
        ),
    ] = "10%"
    max_failures: Annotated[
        int,
        msgspec.Meta(
            ge=0, le=100_000, description="Failed stores tolerated; one more halts the fleet."
        ),
    ] = 0
    store_timeout_s: Annotated[
        int,
        msgspec.Meta(
            ge=60,
            le=7 * 24 * 3600,
            description="A store not ready this many seconds after its upgrade counts failed "
            "(it is left as it is).",
        ),
    ] = 1800


class FleetDetail(msgspec.Struct, frozen=True):
    fleet: FleetSummary
    stores: list[FleetMember]  # by wave, then store id


class FleetList(msgspec.Struct, frozen=True):
    items: list[FleetSummary]  # newest first


class PreviousSpecView(msgspec.Struct, frozen=True):
    """What a rollback returns the store to: its previous generation's spec."""

    generation: int
    release: str  # "" for the release from before releases (the engine's legacy one)
    plan: Plan
    display_name: str


class ReleaseView(msgspec.Struct, frozen=True):
    name: str
    released: date
    chart: str  # the store chart version it was made with
    versions: dict[str, str]  # software → version


class EngineReleasesView(msgspec.Struct, frozen=True):
    engine: Engine
    default: str  # what a create without `release` gets
    latest: str
    releases: list[ReleaseView]  # oldest first: a later one is an upgrade


class CatalogView(msgspec.Struct, frozen=True):
    engines: list[EngineReleasesView]


class StoreList(msgspec.Struct, frozen=True):
    items: list[StoreView]
    next_after: str | None = None


class EventView(msgspec.Struct, frozen=True):
    seq: int
    type: str
    generation: int
    at: datetime
    event: dict[str, Any]


class EventList(msgspec.Struct, frozen=True):
    items: list[EventView]


class Credentials(msgspec.Struct, frozen=True):
    username: str
    password: str
    admin_url: str


class Me(msgspec.Struct, frozen=True):
    tenant: str
    max_stores: int
    store_count: int
    # A sleeping store of these plans wakes on a shopper's first visit.
    wake_on_visit_plans: list[Plan]


class TicketView(msgspec.Struct, frozen=True):
    ticket: str
    expires_at: datetime
    url: str


DEFAULT_STORE_QUOTA = 20
MaxStores = Annotated[
    int, msgspec.Meta(ge=0, le=100_000, description="How many live stores the tenant may have.")
]


class CreateTenantRequest(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    id: TenantIdStr
    display_name: DisplayName = ""
    max_stores: MaxStores = DEFAULT_STORE_QUOTA


class TenantView(msgspec.Struct, frozen=True):
    id: str
    display_name: str
    max_stores: int
    created_at: datetime


class TenantCreated(msgspec.Struct, frozen=True):
    tenant: TenantView
    token: str


class TokenCreated(msgspec.Struct, frozen=True):
    token: str


class FieldError(msgspec.Struct, frozen=True):
    field: str
    message: str


class ErrorBody(msgspec.Struct, frozen=True):
    status_code: int
    detail: str
    errors: list[FieldError] = []


class BackupView(msgspec.Struct, frozen=True):
    """One backup of a store: the database's dump and its files in object storage."""

    id: str
    store: str
    trigger: BackupTrigger
    state: BackupState
    created_at: datetime
    started_at: datetime | None = None
    completed_at: datetime | None = None
    size_bytes: int = 0
    message: str = ""
    expires_at: datetime | None = None  # when it succeeded: past this, it is expired


class BackupList(msgspec.Struct, frozen=True):
    items: list[BackupView]  # newest first


class RestoreRequest(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    backup: BackupId


class CloneStoreRequest(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """A new store `id` from a backup of the store in the path: its plan and name
    default to the source's."""

    id: StoreIdStr
    backup: BackupId
    plan: Plan | None = None
    display_name: DisplayName | None = None

    def __post_init__(self) -> None:
        check_store_id(self.id)
