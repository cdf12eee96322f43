"""Spec + platform settings → chart values. Pure: no I/O, no clock."""

from datetime import datetime
from typing import Any, Final, NamedTuple, Protocol

import msgspec

from services.contracts.ids import host_for
from services.contracts.store import Plan, StoreSpec
from services.provisioner.settings import ProvisionerSettings

Values = dict[str, Any]


class StoreIngress(msgspec.Struct, frozen=True):
    """How every store is reached, from the platform's settings: its host under
    base_domain, the ingress class and port, TLS, the ingress controller's
    namespace (the only one its network policy lets in), and where a sleeping
    store's visitors are sent instead (the gateway's "asleep" page)."""

    base_domain: str
    ingress_class: str = "nginx"
    tls_issuer: str = ""
    tls_mode: str = "none"  # none | http01 | wildcard (ProvisionerSettings.store_tls)
    ingress_namespace: str = "ingress-nginx"
    store_port: int = 0
    sleep_page_host: str = "localhost"
    sleep_page_port: int = 8080

    @classmethod
    def from_settings(cls, settings: ProvisionerSettings) -> "StoreIngress":
        return cls(
            base_domain=settings.base_domain,
            ingress_class=settings.ingress_class,
            tls_issuer=settings.tls_issuer,
            tls_mode=settings.store_tls(),
            ingress_namespace=settings.ingress_namespace,
            store_port=settings.store_port,
            sleep_page_host=settings.sleep_page_host,
            sleep_page_port=settings.sleep_page_port,
        )


class Tier(NamedTuple):
    cpu_request: str
    memory_request: str
    cpu_limit: str
    memory_limit: str

    def resources(self) -> Values:
        return {
            "requests": {"cpu": self.cpu_request, "memory": self.memory_request},
            "limits": {"cpu": self.cpu_limit, "memory": self.memory_limit},
        }


class Isolation(Protocol):
    """What every engine's plan preset gives the namespace's quota and limits."""

    @property
    def quota_cpu_requests(self) -> str: ...
    @property
    def quota_memory_requests(self) -> str: ...
    @property
    def quota_cpu_limits(self) -> str: ...
    @property
    def quota_memory_limits(self) -> str: ...
    @property
    def quota_storage(self) -> str: ...
    @property
    def max_cpu(self) -> str: ...
    @property
    def max_memory(self) -> str: ...
    @property
    def database_storage(self) -> str: ...


class PlanPreset(NamedTuple):
    """One plan: each tier's container resources, volumes, and namespace totals.

    Quota totals leave room for all three tiers at their limits at once (the
    setup Job runs beside the database and the web tier).
    """

    database: Tier
    web: Tier
    setup: Tier
    database_storage: str
    web_storage: str
    quota_cpu_requests: str
    quota_memory_requests: str
    quota_cpu_limits: str
    quota_memory_limits: str
    quota_storage: str
    max_cpu: str
    max_memory: str


PLANS: Final[dict[Plan, PlanPreset]] = {
    Plan.SMALL: PlanPreset(
        database=Tier("250m", "384Mi", "500m", "768Mi"),
        web=Tier("250m", "256Mi", "750m", "512Mi"),
        setup=Tier("100m", "128Mi", "500m", "256Mi"),
        database_storage="2Gi",
        web_storage="1Gi",
        quota_cpu_requests="750m",
        quota_memory_requests="1Gi",
        quota_cpu_limits="2",
        quota_memory_limits="2Gi",
        quota_storage="5Gi",
        max_cpu="1",
        max_memory="1Gi",
    ),
    Plan.MEDIUM: PlanPreset(
        database=Tier("500m", "768Mi", "1", "1536Mi"),
        web=Tier("500m", "512Mi", "1500m", "1Gi"),
        setup=Tier("100m", "128Mi", "500m", "256Mi"),
        database_storage="10Gi",
        web_storage="5Gi",
        quota_cpu_requests="1500m",
        quota_memory_requests="2Gi",
        quota_cpu_limits="4",
        quota_memory_limits="4Gi",
        quota_storage="20Gi",
        max_cpu="2",
        max_memory="2Gi",
    ),
    Plan.LARGE: PlanPreset(
        database=Tier("1", "2Gi", "2", "4Gi"),
        web=Tier("1", "1Gi", "3", "2Gi"),
        setup=Tier("100m", "128Mi", "500m", "256Mi"),
        database_storage="50Gi",
        web_storage="20Gi",
        quota_cpu_requests="3",
        quota_memory_requests="4Gi",
        quota_cpu_limits="8",
        quota_memory_limits="8Gi",
        quota_storage="100Gi",
        max_cpu="4",
        max_memory="4Gi",
    ),
}


# Apache prefork with mod_php: every worker is a whole PHP process. A WooCommerce
# page takes ~40-60 MiB per worker on average; Apache itself and the page cache
# keep the rest. PHP's per-request ceiling is a quarter of the container.
APACHE_BASE_MIB: Final = 64
WORKER_MIB: Final = 64
PHP_CEILING_MIB: Final = (128, 512)
# wp-cli loads WordPress and WooCommerce in one process: all but a margin.
CLI_MARGIN_MIB: Final = 64


def mebibytes(quantity: str) -> int:
    """A memory quantity in Mi or Gi (how the plans are written) in MiB."""
    number, unit = quantity[:-2], quantity[-2:]
    if unit not in ("Mi", "Gi") or not number.isdigit():
        raise ValueError(f"memory quantity {quantity!r}: expected <n>Mi or <n>Gi")
    return int(number) * (1024 if unit == "Gi" else 1)


def web_sizing(web: Tier) -> Values:
    """Apache's workers and PHP's memory_limit that fit the web tier's memory
    limit (Apache's default of 150 workers would be OOM-killed long before)."""
    limit = mebibytes(web.memory_limit)
    low, high = PHP_CEILING_MIB
    return {
        "maxRequestWorkers": max(2, (limit - APACHE_BASE_MIB) // WORKER_MIB),
        "phpMemoryLimit": f"{min(high, max(low, limit // 4))}M",
    }


def setup_sizing(setup: Tier) -> Values:
    return {"phpMemoryLimit": f"{mebibytes(setup.memory_limit) - CLI_MARGIN_MIB}M"}


def woocommerce_values(
    spec: StoreSpec, generation: int, applied_at: datetime, ingress: StoreIngress
) -> Values:
    """Chart values for `charts/woocommerce`; the chart's values.yaml has the rest."""
    preset, volumes = PLANS[spec.plan], PLANS[spec.volumes_plan]
    return {
        **common_values(spec, generation, applied_at, ingress, preset, volumes),
        "database": {"storage": volumes.database_storage, "resources": preset.database.resources()},
        "web": {
            "storage": volumes.web_storage,
            "resources": preset.web.resources(),
            **web_sizing(preset.web),
        },
        "setup": {"resources": preset.setup.resources(), **setup_sizing(preset.setup)},
    }


def common_values(
    spec: StoreSpec,
    generation: int,
    applied_at: datetime,
    ingress: StoreIngress,
    preset: Isolation,
    volumes: Isolation,
) -> Values:
    """The values every store chart takes alike: identity, isolation, routing,
    sleep. Compute comes from the plan's `preset` (none while the store is
    asleep); storage from the `volumes` plan's."""
    return {
        "store": _store(spec, generation, applied_at, ingress),
        "plan": spec.plan.value,
        "quota": _quota(preset, volumes, spec.asleep),
        "limitRange": _limit_range(preset, volumes),
        "ingress": {
            "className": ingress.ingress_class,
            "port": ingress.store_port,
            "tls": {"mode": ingress.tls_mode, "clusterIssuer": ingress.tls_issuer},
        },
        "networkPolicy": {"ingressController": {"namespace": ingress.ingress_namespace}},
        "sleep": {
            "asleep": spec.asleep,
            "page": {"host": ingress.sleep_page_host, "port": ingress.sleep_page_port},
        },
    }


def _store(spec: StoreSpec, generation: int, applied_at: datetime, ingress: StoreIngress) -> Values:
    return {
        "id": spec.id,
        "tenant": spec.tenant,
        "engine": spec.engine.value,
        "generation": generation,
        "appliedAt": applied_at.isoformat().replace("+00:00", "Z"),
        "host": host_for(spec.id, ingress.base_domain),
        "domains": list(spec.domains),
        "displayName": spec.display_name,
    }


def _quota(preset: Isolation, volumes: Isolation, asleep: bool) -> Values:
    """The namespace's totals: a sleeping store reserves no CPU or memory (and
    can run no pod that asks for any), only its volumes' storage."""
    return {
        "requestsCpu": "0" if asleep else preset.quota_cpu_requests,
        "requestsMemory": "0" if asleep else preset.quota_memory_requests,
        "limitsCpu": "0" if asleep else preset.quota_cpu_limits,
        "limitsMemory": "0" if asleep else preset.quota_memory_limits,
        "requestsStorage": volumes.quota_storage,
    }


def _limit_range(preset: Isolation, volumes: Isolation) -> Values:
    return {
        "max": {"cpu": preset.max_cpu, "memory": preset.max_memory},
        "maxStorage": volumes.database_storage,
    }


# Chart values that come from platform settings, so a rejected value can name
# the variable an operator has to fix.
SETTING_FOR_VALUE: Final = {
    "/ingress/className": "URUMI_INGRESS_CLASS",
    "/ingress/tls/clusterIssuer": "URUMI_TLS_ISSUER",
    "/ingress/tls/mode": "URUMI_TLS_MODE",
    "/store/host": "URUMI_BASE_DOMAIN",
    "/networkPolicy/ingressController/namespace": "URUMI_INGRESS_NAMESPACE",
    "/sleep/page/host": "URUMI_SLEEP_PAGE_HOST",
}


def explain(message: str) -> str:
    """Append which setting feeds each chart value named in a helm error."""
    hints = [
        f"{path} comes from {env}"
        for path, env in SETTING_FOR_VALUE.items()
        if f"'{path}'" in message
    ]
    return f"{message} ({'; '.join(hints)})" if hints else message
