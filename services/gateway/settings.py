"""The gateway's `URUMI_*` settings (the common ones in `services.runtime.settings`)."""

from datetime import timedelta
from typing import Annotated, ClassVar

import msgspec

from services.contracts.store import Plan
from services.gateway.auto_sleep import LIMITS_PATTERN, parse_limits
from services.gateway.token_cache import TOKEN_CACHE_S
from services.runtime.settings import Port, Positive, Seconds, Settings, TlsMode, store_tls

_PLAN = "|".join(p.value for p in Plan)
# Plan names, comma-separated ("": none).
PlanList = Annotated[
    str, msgspec.Meta(pattern=f"^$|^({_PLAN})(,({_PLAN}))*$", description="e.g. medium,large")
]
# An IP address, IPv6 in brackets, with an optional port: 10.0.0.10, 127.0.0.1:5353, [::1]:53.
NAMESERVER_PATTERN = r"^$|^([0-9]{1,3}(\.[0-9]{1,3}){3}|\[[0-9a-fA-F:]+\])(:[0-9]{1,5})?$"


class GatewaySettings(Settings, frozen=True):
    secret_fields: ClassVar[frozenset[str]] = frozenset(
        {"admin_token", "ticket_secret", "database_url"}
    )

    database: str = ".urumi/urumi.db"
    # postgresql://user:password@host/db: PostgreSQL instead of the SQLite file above,
    # which several gateway replicas can share.
    database_url: str = ""
    admin_token: str = ""
    rate_limit_per_minute: Positive = 600
    # How long a token's tenant is remembered (by this replica) before the
    # database is asked again: a token removed from the database, or a tenant's
    # quota changed there, takes effect within this long on every replica.
    token_cache_s: Seconds = TOKEN_CACHE_S
    max_body_bytes: Positive = 64 * 1024
    # What a store's URL is made of (the provisioner's ingress serves it there).
    base_domain: str = "127.0.0.1.nip.io"
    # The port the ingress serves stores on, named in their URLs (0: the
    # scheme's default; the devcluster's real node serves on a loopback port).
    store_port: Port = 0
    tls_mode: TlsMode = ""
    tls_issuer: str = ""
    notifier_url: str = "ws://127.0.0.1:8082/ws"
    dashboard_dir: str = ""
    # The engine release catalog: the one shipped beside the store charts
    # (charts_dir, "": the checkout's), with an operator's file (releases_file)
    # merged over it (services/runtime/releases.py).
    charts_dir: str = ""
    releases_file: str = ""
    credentials_timeout_s: Seconds = 5.0
    # Signs the notifier's tickets; the notifier verifies them with the same secret.
    ticket_secret: str = ""
    ticket_ttl_s: Seconds = 300.0
    # The object storage's bucket the provisioner writes store backups to:
    # backups are offered while it is set (its endpoint and keys are the
    # provisioner's alone).
    backup_bucket: str = ""
    # The plans whose sleeping stores wake on a shopper's visit (the others
    # show the "asleep" page until their owner wakes them).
    wake_on_visit_plans: PlanList = "medium,large"
    # Auto-sleep: how long a plan's store may go without a visit before the
    # platform puts it to sleep, e.g. small=7d,medium=30d (d, h, m, s or seconds
    # alone); a plan not named never sleeps on its own. Visits are what the
    # watcher reads from the ingress controller (URUMI_INGRESS_METRICS_URL).
    auto_sleep_after: Annotated[
        str, msgspec.Meta(pattern=LIMITS_PATTERN, description="e.g. small=7d,medium=30d")
    ] = ""
    # Stores on their own domains: the resolver their DNS records are looked up
    # through ("" the system's), how many a store may have, how often a domain
    # not yet proven is looked up (and a proven one again), and how long one may
    # stay unproven before it is reported failed.
    dns_nameserver: Annotated[str, msgspec.Meta(pattern=NAMESERVER_PATTERN)] = ""
    dns_timeout_s: Seconds = 3.0
    domains_per_store: Positive = 5
    domain_check_s: Seconds = 30.0
    domain_recheck_s: Seconds = 600.0
    domain_pending_limit_s: Seconds = 7 * 86400.0

    def store_tls(self) -> str:
        return store_tls(self.tls_mode, self.tls_issuer)

    def wakes_on_visit(self) -> frozenset[Plan]:
        return frozenset(Plan(p) for p in self.wake_on_visit_plans.split(",") if p)

    def auto_sleep_limits(self) -> dict[Plan, timedelta]:
        return parse_limits(self.auto_sleep_after)
