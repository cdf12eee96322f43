"""A store on its own domain: the name rules, the DNS records that prove it is
the tenant's, and the status each domain goes through (published on the bus as
`DomainStatus`, subject `urumi.evt.<tenant>.<store>.domain`)."""

import re
from datetime import datetime
from enum import StrEnum
from typing import Annotated, Final

import idna
import msgspec

# The TXT record proving ownership is `<CHALLENGE_LABEL>.<domain>`.
CHALLENGE_LABEL: Final = "_urumi-challenge"
DOMAIN_MAX: Final = 253
_LABEL: Final = re.compile(r"^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$")

DomainName = Annotated[
    str,
    msgspec.Meta(
        max_length=DOMAIN_MAX,
        description="A DNS name of at least two labels (e.g. shop.example.com); "
        "an internationalised name is taken in its ASCII (IDNA) form.",
        examples=["shop.example.com"],
    ),
]


class DomainState(StrEnum):
    PENDING_DNS = "pending-dns"  # the CNAME and TXT records are not (yet) as asked
    VERIFYING = "verifying"  # proven the tenant's: the store is being re-applied with it
    ISSUING_CERTIFICATE = "issuing-certificate"  # routed; its certificate is not issued yet
    ACTIVE = "active"  # the store answers on it (with its certificate when TLS is on)
    FAILED = "failed"  # `reason` says why and what to do


class DnsRecord(msgspec.Struct, frozen=True):
    """A record the tenant sets at their DNS provider."""

    type: str  # CNAME | TXT
    name: str
    value: str


class DomainStatus(msgspec.Struct, frozen=True, tag="domain-status", tag_field="type"):
    """A store's own domain changed state (or was removed: `removed`); written by
    the gateway only."""

    tenant: str
    store: str
    domain: str
    state: DomainState
    at: datetime
    reason: str = ""
    records: list[DnsRecord] = []
    removed: bool = False


def challenge_name(domain: str) -> str:
    return f"{CHALLENGE_LABEL}.{domain}"


def records_for(domain: str, target_host: str, token: str) -> list[DnsRecord]:
    """What to set at the DNS provider: the domain as an alias of the store's
    platform host, and the token proving the domain is the tenant's."""
    return [
        DnsRecord(type="CNAME", name=domain, value=target_host),
        DnsRecord(type="TXT", name=challenge_name(domain), value=token),
    ]


# Documents (in the OpenAPI schema) names `normalized_domain` accepts as given:
# 1-63 letters, digits and inner hyphens per label, never "--" as its 3rd and 4th
# characters (IDNA reserves that), a top label of letters. Internationalised
# names and a trailing dot are accepted too; they are not in this pattern.
_DOC_LABEL = (
    r"[A-Za-z0-9]([A-Za-z0-9]|[A-Za-z0-9-]([A-Za-z0-9]([A-Za-z0-9-]{0,59}[A-Za-z0-9])?"
    r"|-[A-Za-z0-9]([A-Za-z0-9-]{0,58}[A-Za-z0-9])?))?"
)
DOMAIN_DOC_PATTERN: Final = rf"^({_DOC_LABEL}\.)+[A-Za-z]{{2,63}}$"


def normalized_domain(value: str) -> str:
    """`value` in the form the platform keeps: lowercase, ASCII (IDNA), no
    trailing dot. ValueError saying what is wrong otherwise."""
    text = value.strip().rstrip(".")
    if not text:
        raise ValueError("must be a domain name such as shop.example.com")
    try:
        ascii_name = idna.encode(text, uts46=True).decode()
    except idna.IDNAError as exc:
        raise ValueError(f"'{value}' is not a valid domain name: {exc}") from None
    problem = _name_problem(ascii_name)
    if problem:
        raise ValueError(f"'{value}' {problem}")
    return ascii_name


def _name_problem(name: str) -> str | None:
    labels = name.split(".")
    if len(labels) < 2:
        return "must have at least two labels, e.g. shop.example.com"
    bad = next((label for label in labels if not _LABEL.fullmatch(label)), None)
    if bad is not None:
        return (
            f"has the label '{bad}': each label is 1-63 of a-z, 0-9 and '-', "
            "not starting or ending with '-'"
        )
    if labels[-1].isdigit():
        return "is an IP address or ends in a number; give a domain name"
    return None


def platform_problem(domain: str, base_domain: str) -> str | None:
    """Why `domain` (normalized) cannot be a store's own domain on a platform
    serving stores under `base_domain`, or None."""
    base = base_domain.lower().rstrip(".")
    if domain == base or domain.endswith(f".{base}"):
        return (
            f"'{domain}' is the platform's own domain ({base}); stores already answer "
            f"there, so give a domain of your own"
        )
    return None


# The watcher reports each own domain's certificate as a condition of this type
# on the store's status (True once cert-manager's Certificate is Ready).
CERTIFICATE_CONDITION_PREFIX: Final = "DomainCertificate/"


def certificate_condition_type(domain: str) -> str:
    return f"{CERTIFICATE_CONDITION_PREFIX}{domain}"
