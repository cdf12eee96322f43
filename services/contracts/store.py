"""What a store is: its spec, engine and plan."""

from enum import StrEnum
from typing import Annotated, Final

import msgspec

from services.contracts.domains import DomainName
from services.contracts.ids import StoreIdStr, TenantIdStr, store_id_problem, tenant_id_problem


class Engine(StrEnum):
    WOOCOMMERCE = "woocommerce"
    MEDUSA = "medusa"


class Plan(StrEnum):
    SMALL = "small"
    MEDIUM = "medium"
    LARGE = "large"


DisplayName = Annotated[str, msgspec.Meta(max_length=80, description="Shown to people.")]

# A release of an engine in the platform's catalog (charts/releases.yaml): a
# label value, since rendered objects carry it.
RELEASE_NAME_PATTERN: Final = r"^[a-z0-9]([a-z0-9.-]{0,38}[a-z0-9])?$"
ReleaseName = Annotated[
    str,
    msgspec.Meta(
        pattern=RELEASE_NAME_PATTERN,
        description="A release in the platform's catalog, e.g. woo-2026.11.",
        examples=["woo-2026.11"],
    ),
]
# The same, or "" in a spec made before stores had releases: it ran the chart's
# pins of that time, the catalog's `legacy` release of its engine.
SpecRelease = Annotated[
    str,
    msgspec.Meta(
        pattern=f"^$|{RELEASE_NAME_PATTERN}",
        description='The engine release the store runs ("": made before releases existed).',
    ),
]


class StoreSpec(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """The desired store; identical specs make a create idempotent.

    `plan` sets compute (quota, limits, container resources) and can change;
    volumes keep the sizes of `storage_plan`, the plan the store was created
    with (None: `plan`), because a StatefulSet's volume claims cannot be
    resized by an apply and a volume never shrinks.

    `release` names the engine release (its software versions) in the
    platform's catalog; a new one is an upgrade at the next generation.

    `asleep`: the store's workloads run no pod (its volumes stay) and its host
    answers with the platform's "asleep" page, until a spec wakes it.

    `domains`: the tenant's own domains, proven theirs, the store also answers
    on; the first is the engine's own address (else its platform host).
    """

    id: StoreIdStr
    tenant: TenantIdStr
    engine: Engine = Engine.WOOCOMMERCE
    plan: Plan = Plan.SMALL
    display_name: DisplayName = ""
    storage_plan: Plan | None = None
    release: SpecRelease = ""
    asleep: bool = False
    domains: list[DomainName] = []

    @property
    def volumes_plan(self) -> Plan:
        return self.storage_plan or self.plan

    def __post_init__(self) -> None:
        check_store_id(self.id)
        problem = tenant_id_problem(self.tenant)
        if problem:
            raise ValueError(f"`tenant` {problem}")


def check_store_id(value: str) -> None:
    """Raise ValueError naming the `id` field when `value` breaks a rule."""
    problem = store_id_problem(value)
    if problem:
        raise ValueError(f"{problem} - at `$.id`")
