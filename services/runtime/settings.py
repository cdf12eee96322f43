"""Typed settings from `URUMI_*` environment variables.

`Settings` holds what every service reads (NATS, streams, logging, HTTP, shutdown);
each service extends it in its own `settings.py` with only the fields it uses. A
variable two services need is declared by both under the same name, so one
environment (the chart's ConfigMap, `urumi dev`) serves all four; a service
ignores the variables it does not declare. A bad value stops start-up naming the
variable.
"""

import os
from collections.abc import Iterator, Mapping
from typing import Annotated, Any, ClassVar, Final, Literal, TypeVar

import msgspec

ENV_PREFIX: Final = "URUMI_"

Port = Annotated[int, msgspec.Meta(ge=0, le=65535)]
Positive = Annotated[int, msgspec.Meta(ge=1)]
Seconds = Annotated[float, msgspec.Meta(gt=0)]
# Store TLS: "none"; "http01", a cert-manager certificate per store through
# tls_issuer; "wildcard", the ingress controller's default certificate.
# "" keeps what tls_issuer alone meant: http01 when it is set, else none.
TlsMode = Literal["", "none", "http01", "wildcard"]


class Settings(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """The fields every service reads; the base of each service's settings."""

    # Fields whose values never appear in a repr, hence in no log line or traceback.
    secret_fields: ClassVar[frozenset[str]] = frozenset()

    nats_url: str = "nats://127.0.0.1:4222"
    # Whether this process creates/updates the JetStream streams or waits for them,
    # and how many NATS servers keep a copy of each stream and bucket.
    manage_streams: bool = True
    jetstream_replicas: Annotated[int, msgspec.Meta(ge=1, le=5)] = 1
    log_level: str = "INFO"
    http_host: str = "127.0.0.1"
    http_port: Port = 8080
    shutdown_grace_s: Seconds = 20.0

    def __repr__(self) -> str:
        shown = ", ".join(f"{name}={value!r}" for name, value in self._redacted())
        return f"{type(self).__name__}({shown})"

    def __rich_repr__(self) -> list[tuple[str, Any]]:
        # msgspec's own would show every value to rich's pretty-printer.
        return list(self._redacted())

    def _redacted(self) -> Iterator[tuple[str, object]]:
        for name in self.__struct_fields__:
            value = getattr(self, name)
            yield name, "<redacted>" if name in self.secret_fields and value else value


def store_tls(tls_mode: TlsMode, tls_issuer: str) -> str:
    """The store TLS mode in effect (see `TlsMode`)."""
    return tls_mode or ("http01" if tls_issuer else "none")


S = TypeVar("S", bound=Settings)


class SettingsError(Exception):
    """A variable that cannot be used; the message names it."""


def env_name(field: str) -> str:
    return ENV_PREFIX + field.upper()


def env_names(kind: type[Settings]) -> frozenset[str]:
    """The variables `kind` reads."""
    return frozenset(env_name(field) for field in kind.__struct_fields__)


def load_settings(kind: type[S], environ: Mapping[str, str] | None = None) -> S:
    """`kind` from the variables it declares; the others are some other service's."""
    env = os.environ if environ is None else environ
    raw = {name: env[env_name(name)] for name in kind.__struct_fields__ if env_name(name) in env}
    try:
        return msgspec.convert(raw, kind, strict=False)
    except msgspec.ValidationError as exc:
        raise SettingsError(_explain(str(exc))) from None


def _explain(error: str) -> str:
    """Turn msgspec's `... - at `$.field`` into a message naming the variable."""
    head, _, where = error.partition(" - at `$.")
    field = where.rstrip("`")
    return f"{env_name(field)}: {head}" if field else error
