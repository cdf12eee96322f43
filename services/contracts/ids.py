"""Identifier rules shared by the API, the CLI, the dashboard and Kubernetes names."""

import re
from typing import Annotated, Final

import msgspec

STORE_ID_PATTERN: Final = r"^[a-z0-9]([a-z0-9-]*[a-z0-9])?$"
STORE_ID_MIN: Final = 3
STORE_ID_MAX: Final = 40
TENANT_ID_MAX: Final = 40

# Names that would collide with platform hosts, Kubernetes system namespaces or
# obvious impersonation targets once they become `<id>.<base_domain>`.
RESERVED_STORE_IDS: Final = frozenset(
    {
        "admin",
        "api",
        "app",
        "auth",
        "cdn",
        "dashboard",
        "default",
        "dev",
        "docs",
        "ftp",
        "help",
        "login",
        "mail",
        "nats",
        "ns",
        "platform",
        "root",
        "smtp",
        "static",
        "status",
        "support",
        "system",
        "test",
        "urumi",
        "www",
    }
)
RESERVED_PREFIXES: Final = ("kube-", "openshift-", "urumi-")

_ID_RE: Final = re.compile(STORE_ID_PATTERN)

StoreIdStr = Annotated[
    str,
    msgspec.Meta(
        min_length=STORE_ID_MIN,
        max_length=STORE_ID_MAX,
        pattern=STORE_ID_PATTERN,
        description=(
            "DNS-1123 label: 3-40 lowercase letters, digits or '-', starting and ending "
            "with a letter or digit; not a reserved name."
        ),
        examples=["acme-shop"],
    ),
]
TenantIdStr = Annotated[
    str,
    msgspec.Meta(
        min_length=1,
        max_length=TENANT_ID_MAX,
        pattern=STORE_ID_PATTERN,
        description="DNS-1123 label naming a tenant.",
        examples=["acme"],
    ),
]


def store_id_problem(value: object) -> str | None:
    """Why `value` is not a valid store id, or None when it is."""
    if not isinstance(value, str):
        return "must be a string"
    if not STORE_ID_MIN <= len(value) <= STORE_ID_MAX:
        return f"must be {STORE_ID_MIN}-{STORE_ID_MAX} characters long"
    if _ID_RE.fullmatch(value) is None:
        return (
            "must use only lowercase letters a-z, digits and '-', "
            "and start and end with a letter or digit"
        )
    if value in RESERVED_STORE_IDS or value.startswith(RESERVED_PREFIXES):
        return f"'{value}' is reserved"
    return None


def tenant_id_problem(value: object) -> str | None:
    """Why `value` is not a valid tenant id, or None when it is."""
    if not isinstance(value, str):
        return "must be a string"
    if not 1 <= len(value) <= TENANT_ID_MAX:
        return f"must be 1-{TENANT_ID_MAX} characters long"
    if _ID_RE.fullmatch(value) is None:
        return (
            "must use only lowercase letters a-z, digits and '-', "
            "and start and end with a letter or digit"
        )
    return None


def namespace_for(store_id: str) -> str:
    return f"store-{store_id}"


def host_for(store_id: str, base_domain: str) -> str:
    return f"{store_id}.{base_domain}"


def host_url(host: str, *, tls: bool = False, port: int = 0) -> str:
    """The URL of a host served by the ingress: on ``port`` when the ingress
    does not serve the scheme's default one."""
    scheme, default = ("https", 443) if tls else ("http", 80)
    suffix = f":{port}" if port and port != default else ""
    return f"{scheme}://{host}{suffix}"


def store_url(store_id: str, base_domain: str, *, tls: bool = False, port: int = 0) -> str:
    """Where a shopper reaches the store: its host through the ingress."""
    return host_url(host_for(store_id, base_domain), tls=tls, port=port)
