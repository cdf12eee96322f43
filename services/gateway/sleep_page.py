"""The page a sleeping store's host answers with. Pure: a Host header and the
store row in, an HTTP answer out (`store_hosts` serves it).

While a store is asleep the provisioner points its Ingress at the gateway
(through an ExternalName Service in the store's namespace), so the ingress
controller sends the shopper's request here with the store's own Host."""

import html
from collections.abc import Mapping
from typing import Final, NamedTuple

from services.contracts.ids import store_id_problem
from services.contracts.phases import Phase
from services.gateway.models import StoreView

# How long a client should wait before asking again: a sleeping store stays so
# until its owner wakes it; a waking one asks again every few seconds.
ASLEEP_RETRY_S: Final = 3600
WAKING_RETRY_S: Final = 5
# The waking page asks for itself every few seconds and reloads once the store
# answers (anything but a 5xx: the shop, or its redirect to https or a login).
# Between the wake's apply and the store's readiness the ingress controller
# answers its own 502/503 pages, which refresh nothing: asking in the background
# keeps the visitor here instead. Without JavaScript, the meta refresh.
_RELOAD_WHEN_AWAKE = (
    "<script>(function ask(){setTimeout(function(){"
    'fetch(location.href,{cache:"no-store",redirect:"manual"}).then(function(r){'
    'if(r.type==="opaqueredirect"||r.status<500){location.reload()}else{ask()}},ask)'
    f"}},{WAKING_RETRY_S * 1000})}})()</script>"
    f'<noscript><meta http-equiv="refresh" content="{WAKING_RETRY_S}"></noscript>'
)


class Page(NamedTuple):
    status: int
    headers: list[tuple[str, str]]
    body: bytes


def host_name(host: str) -> str:
    """A Host header's name: lowercased, without its port or a final dot."""
    name = host.rsplit(":", 1)[0] if host.count(":") == 1 else host
    return name.lower().rstrip(".")


def store_of_host(
    host: str, base_domain: str, own_domains: Mapping[str, str] | None = None
) -> str | None:
    """The store id a request's Host names (`<id>.<base_domain>` or a store's
    own domain in `own_domains`, any port), or None when it names no store: the
    platform's own host, an address."""
    name = host_name(host)
    if own_domains and name in own_domains:
        return own_domains[name]
    suffix = f".{base_domain.lower()}"
    if not base_domain or not name.endswith(suffix):
        return None
    label = name.removesuffix(suffix)
    return label if store_id_problem(label) is None else None


def page(store_id: str, store: StoreView | None) -> Page:
    """What the store's host answers while the ingress sends it here: a store
    its visit did not wake is asleep until its owner wakes it."""
    if store is None or store.phase in (Phase.DELETING, Phase.DELETED):
        return _page(404, "No store here", f"There is no store at {store_id}.", retry_s=0)
    name = store.display_name or store.id
    if store.asleep:
        return _page(
            503,
            f"{name} is asleep",
            f"{name} is asleep for now; please come back later. If it is your store, wake it "
            f"from its page in the dashboard (Wake this store) or with "
            f"`urumi stores wake {store.id}`.",
            retry_s=ASLEEP_RETRY_S,
        )
    return _page(
        503,
        f"{name} is waking up",
        "It is starting again with all its data. This page opens the shop by itself "
        "once it answers, usually within a minute or two.",
        retry_s=WAKING_RETRY_S,
        head=_RELOAD_WHEN_AWAKE,
    )


def _page(status: int, title: str, text: str, retry_s: int, head: str = "") -> Page:
    body = (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f'<meta name="robots" content="noindex">{head}<title>{html.escape(title)}</title>'
        "<style>body{font:1.1rem/1.5 system-ui,sans-serif;max-width:36rem;margin:20vh auto;"
        "padding:0 1rem;color:#222}h1{font-size:1.6rem}</style></head><body>"
        f"<h1>{html.escape(title)}</h1><p>{html.escape(text)}</p></body></html>"
    )
    headers = [
        ("content-type", "text/html; charset=utf-8"),
        # Never cached: the store's own pages replace this one once it is awake.
        ("cache-control", "no-store"),
    ]
    if retry_s:
        headers.append(("retry-after", str(retry_s)))
    return Page(status, headers, body.encode())
