"""/api/v1/me and /api/v1/tickets: who am I, and a websocket ticket for the notifier
(a tenant's; /api/v1/admin/tickets: the platform's own events, for the admin)."""

from datetime import UTC, datetime

from litestar import Controller, get, post
from litestar.di import NamedDependency, Provide
from litestar.exceptions import HTTPException

from services.contracts.store import Plan
from services.contracts.subjects import PLATFORM
from services.gateway.auth import require_admin
from services.gateway.deps import GatewayDeps
from services.gateway.models import Me, TenantView, TicketView
from services.gateway.openapi_errors import errors
from services.gateway.store_service import StoreService
from services.runtime.tickets import sign_ticket


class SessionController(Controller):
    path = "/api/v1"
    tags = ["session"]

    @get(
        "/me",
        summary="The tenant behind the token, its quota, and the plans whose sleeping "
        "stores wake on a shopper's visit",
        responses=errors(403),
    )
    async def me(
        self,
        tenant: NamedDependency[TenantView],
        store_service: NamedDependency[StoreService],
        deps: NamedDependency[GatewayDeps],
    ) -> Me:
        count = await store_service.live_count(tenant)
        waking = deps.settings.wakes_on_visit()
        return Me(
            tenant=tenant.id,
            max_stores=tenant.max_stores,
            store_count=count,
            wake_on_visit_plans=[p for p in Plan if p in waking],
        )

    @post(
        "/tickets",
        status_code=201,
        summary="A short-lived ticket for the live websocket",
        responses=errors(403, 503),
    )
    async def ticket(
        self, tenant: NamedDependency[TenantView], deps: NamedDependency[GatewayDeps]
    ) -> TicketView:
        return _ticket(deps, tenant.id)

    @post(
        "/admin/tickets",
        status_code=201,
        summary="A ticket for the platform's own live events (fleet upgrades)",
        dependencies={"admin": Provide(require_admin)},
        responses=errors(503),
    )
    async def admin_ticket(
        self, admin: NamedDependency[str], deps: NamedDependency[GatewayDeps]
    ) -> TicketView:
        return _ticket(deps, PLATFORM)


def _ticket(deps: GatewayDeps, tenant: str) -> TicketView:
    """A ticket for `tenant`'s events (`PLATFORM`: the platform's own)."""
    settings = deps.settings
    if not settings.ticket_secret:
        raise HTTPException(
            status_code=503, detail="live updates are not configured (URUMI_TICKET_SECRET)"
        )
    issued = datetime.now(UTC).timestamp()
    return TicketView(
        ticket=sign_ticket(settings.ticket_secret, tenant, settings.ticket_ttl_s, issued),
        expires_at=datetime.fromtimestamp(issued + settings.ticket_ttl_s, UTC),
        url=settings.notifier_url,
    )
