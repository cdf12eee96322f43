"""What the gateway's handlers use, as one typed object Litestar injects.

`create_app` builds one `GatewayDeps`; handlers and guards name it as a parameter
(`deps: GatewayDeps`) and Litestar's dependency injection hands it over, so the
type checker sees every field where `app.state` would be an untyped bag.
"""

import asyncio
from dataclasses import dataclass, field
from typing import Any

from litestar import Request
from litestar.datastructures import State
from nats.aio.client import Client

from services.contracts.ids import store_url
from services.gateway.outbox import OutboxRelay
from services.gateway.ratelimit import Limiter
from services.gateway.settings import GatewaySettings
from services.gateway.sql import Backend
from services.gateway.token_cache import TOKEN_CACHE_S, TokenCache
from services.runtime.releases import Catalog, load_catalog

# The request as handlers and guards take it: they read its headers and name the
# audit actor and target on its per-request state, never app-wide state.
AnyRequest = Request[Any, Any, State]


@dataclass(eq=False)
class GatewayDeps:
    settings: GatewaySettings
    db: Backend
    outbox: OutboxRelay
    limiter: Limiter
    # The engine releases stores may run (the shipped catalog unless given).
    releases: Catalog = field(default_factory=load_catalog)
    # Set once NATS answers (the API serves before it does); None until then.
    nc: Client | None = None
    # Tenants of tokens seen lately (auth.py says for how long, and why).
    tokens: TokenCache = field(default_factory=lambda: TokenCache(TOKEN_CACHE_S))
    # Set when a fleet upgrade starts or changes, so the driver looks at once.
    fleet_wake: asyncio.Event = field(default_factory=asyncio.Event)
    # Set when a domain is added, so its records are looked up at once.
    domain_wake: asyncio.Event = field(default_factory=asyncio.Event)
    # The own domains stores answer on (domain → store), as of the last domain
    # pass: a sleeping store's Ingress sends them to the asleep page too.
    routed_domains: dict[str, str] = field(default_factory=dict)

    def store_url(self, store_id: str) -> str:
        """Where the store will be served: the URL a new store row carries."""
        s = self.settings
        return store_url(store_id, s.base_domain, tls=s.store_tls() != "none", port=s.store_port)
