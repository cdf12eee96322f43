"""Prometheus metrics of the watcher (served on /metrics)."""

from typing import Final

from prometheus_client import Counter, Gauge

LISTS: Final = Counter(
    "urumi_watcher_lists_total", "Full lists of a kind, by why", ["kind", "reason"]
)
WATCH_ERRORS: Final = Counter(
    "urumi_watcher_watch_errors_total", "Failed list/watch attempts (retried)", ["kind"]
)
STATUSES: Final = Counter(
    "urumi_watcher_statuses_published_total", "StoreStatus events published", ["phase"]
)
KUBE_EVENTS: Final = Counter(
    "urumi_watcher_kube_events_total", "Kubernetes Events by outcome", ["outcome"]
)
ACTIVE: Final = Gauge("urumi_watcher_active", "1 while this watcher holds the lease")
STORES: Final = Gauge("urumi_watcher_stores", "Stores in the watcher's cache")
