"""Prometheus metrics of the gateway (HTTP metrics come from Litestar's middleware)."""

from typing import Final

from litestar.plugins.prometheus import PrometheusConfig
from prometheus_client import Counter, Gauge

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
