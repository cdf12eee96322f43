"""Prometheus metrics of the gateway (HTTP metrics come from Litestar's middleware)."""

from typing import Final

from litestar.plugins.prometheus import PrometheusConfig
from prometheus_client import Counter, Gauge, Histogram

HTTP: Final = PrometheusConfig(
    app_name="urumi-gateway",
    prefix="urumi_gateway",
    group_path=True,  # label by route template, not by store id: bounded cardinality
    exclude=["/healthz", "/readyz", "/metrics"],
    exclude_unhandled_paths=True,
)

COMMANDS_PUBLISHED: Final = Counter(
    "urumi_gateway_commands_published_total", "Commands relayed from the outbox to JetStream"
)
OUTBOX_PENDING: Final = Gauge(
    "urumi_gateway_outbox_pending", "Committed commands not yet acknowledged by JetStream"
)
EVENTS_PROJECTED: Final = Counter(
    "urumi_gateway_events_projected_total", "Events folded into store rows", ["kind"]
)
STORE_READY_SECONDS: Final = Histogram(
    "urumi_gateway_store_ready_seconds",
    "From a store's POST to its first ready, as the watcher observed it",
    ["engine", "plan"],
    # Stores take minutes (benchmarks: Medusa ~145 s); the last bounds straddle
    # the provisioning deadline (900 s by default).
    buckets=(15, 30, 60, 90, 120, 180, 240, 300, 450, 600, 900, 1200, 1800),
)
