"""Request and response bodies of the HTTP API."""

from datetime import datetime
from typing import Annotated, Any

import msgspec

from services.contracts.events import Condition
from services.contracts.ids import StoreIdStr, TenantIdStr
from services.contracts.phases import Phase
from services.contracts.store import DisplayName, Engine, Plan, check_store_id


class CreateStoreRequest(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    id: StoreIdStr
    engine: Engine = Engine.WOOCOMMERCE
    plan: Plan = Plan.SMALL
    display_name: DisplayName = ""

    def __post_init__(self) -> None:
        check_store_id(self.id)


class UpdateStoreRequest(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """What may change on a live store (absent or null: unchanged); the engine and
    the id may not."""

    plan: Plan | None = None
    display_name: DisplayName | None = None


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
