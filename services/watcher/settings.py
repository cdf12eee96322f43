"""The watcher's `URUMI_*` settings (the common ones in `services.runtime.settings`)."""

from typing import Literal

from services.runtime.settings import Port, Positive, Seconds, Settings

# The ingress controllers whose request counters the watcher reads (`activity`).
IngressController = Literal["traefik", "nginx"]


class WatcherSettings(Settings, frozen=True):
    # Empty: the pod's service account, else $KUBECONFIG or ~/.kube/config.
    kubeconfig: str = ""
    provision_deadline_s: Seconds = 900.0  # a store still provisioning after this fails
    # The port the ingress serves stores on, which the status's URL names.
    store_port: Port = 0
    watcher_pod_grace_s: Seconds = 120.0  # a stuck pod fails a provisioning store after this
    watcher_resync_s: Seconds = 5.0  # re-evaluate every store (time-based rules)
    watcher_watch_timeout_s: Positive = 300  # server-side end of each watch request
    watcher_events_per_s: Seconds = 1.0  # Kubernetes Events forwarded per store, sustained
    watcher_events_burst: Positive = 20
    # Self-healing: besides the drift it sees, ask for every store's re-apply
    # once per resync period (spread over it, at most resync_per_s a second).
    selfheal_resync_s: Seconds = 3600.0
    selfheal_resync_per_s: Seconds = 0.5
    # Shoppers' visits (what auto-sleep reads): the ingress controller's
    # Prometheus endpoint ("" reports none) and which controller serves it
    # (traefik: traefik_service_requests_total; nginx: ingress-nginx's
    # nginx_ingress_controller_requests). Scraped every activity_report_s; a
    # store whose counter grew is reported once per period at most.
    ingress_metrics_url: str = ""
    ingress_controller: IngressController = "traefik"
    activity_report_s: Seconds = 300.0
