"""Typed settings from `URUMI_*` environment variables.

One Struct for every service keeps the names in one documented place; each
service reads the fields it needs. A bad value stops start-up naming the variable.
"""

import os
from collections.abc import Mapping
from typing import Annotated, Final, Literal

import msgspec

ENV_PREFIX: Final = "URUMI_"

Port = Annotated[int, msgspec.Meta(ge=0, le=65535)]
Positive = Annotated[int, msgspec.Meta(ge=1)]
Seconds = Annotated[float, msgspec.Meta(gt=0)]


class Settings(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    nats_url: str = "nats://127.0.0.1:4222"
    # Whether this process creates/updates the JetStream streams or waits for them,
    # and how many NATS servers keep a copy of each stream and bucket.
    manage_streams: bool = True
    jetstream_replicas: Annotated[int, msgspec.Meta(ge=1, le=5)] = 1
    log_level: str = "INFO"
    http_host: str = "127.0.0.1"
    http_port: Port = 8080
    shutdown_grace_s: Seconds = 20.0
    # gateway
    database: str = ".urumi/urumi.db"
    # postgresql://user:password@host/db: PostgreSQL instead of the SQLite file above,
    # which several gateway replicas can share.
    database_url: str = ""
    admin_token: str = ""
    rate_limit_per_minute: Positive = 600
    max_body_bytes: Positive = 64 * 1024
    base_domain: str = "127.0.0.1.nip.io"
    # The port the ingress serves stores on, named in their URLs (0: the
    # scheme's default; the devcluster's real node serves on a loopback port).
    store_port: Port = 0
    notifier_url: str = "ws://127.0.0.1:8082/ws"
    dashboard_dir: str = ""
    credentials_timeout_s: Seconds = 5.0
    # gateway signs, notifier verifies
    ticket_secret: str = ""
    ticket_ttl_s: Seconds = 300.0
    # provisioner and watcher
    kubeconfig: str = ""
    provision_concurrency: Positive = 8
    provision_deadline_s: Seconds = 900.0
    ingress_class: str = "nginx"
    tls_issuer: str = ""
    # Store TLS: "none"; "http01", a cert-manager certificate per store through
    # tls_issuer; "wildcard", the ingress controller's default certificate.
    # "" keeps what tls_issuer alone meant: http01 when it is set, else none.
    tls_mode: Literal["", "none", "http01", "wildcard"] = ""
    helm_binary: str = "helm"
    charts_dir: str = ""
    # gateway and provisioner: an operator's engine releases, merged over the
    # catalog shipped beside the charts (services/runtime/releases.py).
    releases_file: str = ""
    watcher_pod_grace_s: Seconds = 120.0  # a stuck pod fails a provisioning store after this
    watcher_resync_s: Seconds = 5.0  # re-evaluate every store (time-based rules)
    watcher_watch_timeout_s: Positive = 300  # server-side end of each watch request
    watcher_events_per_s: Seconds = 1.0  # Kubernetes Events forwarded per store, sustained
    watcher_events_burst: Positive = 20
    # Self-healing: besides the drift it sees, the watcher asks for every store's
    # re-apply once per resync period (spread over it, at most resync_per_s a
    # second); the provisioner stops restoring a store restored fight_limit times
    # within fight_window_s, and says so.
    selfheal_resync_s: Seconds = 3600.0
    selfheal_resync_per_s: Seconds = 0.5
    selfheal_fight_limit: Positive = 5
    selfheal_fight_window_s: Seconds = 600.0
    # provisioner: where the ingress controller runs (the only namespace allowed to
    # reach a store's web tier) and an optional directory of operator overrides for
    # store charts (images, storage class, network policy): `all.yaml` for every
    # engine, `<engine>.yaml` for one (it wins); per-store values win over both.
    ingress_namespace: str = "ingress-nginx"
    store_values_dir: str = ""
    # notifier
    socket_queue: Positive = 256
    ping_interval_s: Seconds = 20.0

    def store_tls(self) -> str:
        """The store TLS mode in effect (see `tls_mode`)."""
        return self.tls_mode or ("http01" if self.tls_issuer else "none")


SECRET_FIELDS: Final = frozenset({"admin_token", "ticket_secret", "database_url"})


class SettingsError(Exception):
    """A variable that cannot be used; the message names it."""


def env_name(field: str) -> str:
    return ENV_PREFIX + field.upper()


def load_settings(environ: Mapping[str, str] | None = None) -> Settings:
    env = os.environ if environ is None else environ
    fields = set(Settings.__struct_fields__)
    raw = {name: env[env_name(name)] for name in fields if env_name(name) in env}
    try:
        return msgspec.convert(raw, Settings, strict=False)
    except msgspec.ValidationError as exc:
        raise SettingsError(_explain(str(exc))) from None


def _explain(error: str) -> str:
    """Turn msgspec's `... - at `$.field`` into a message naming the variable."""
    head, _, where = error.partition(" - at `$.")
    field = where.rstrip("`")
    return f"{env_name(field)}: {head}" if field else error
