"""The gateway's Litestar application: wiring, lifespan, background loops."""

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from pathlib import Path

from litestar import Litestar, Router
from litestar.di import Provide
from litestar.exceptions import HTTPException, ValidationException
from litestar.openapi import OpenAPIConfig
from litestar.static_files import create_static_files_router
from nats.aio.client import Client

from services.contracts.ids import store_url
from services.gateway import metrics
from services.gateway.audit import AuditMiddleware
from services.gateway.auth import require_tenant
from services.gateway.controllers.session import SessionController
from services.gateway.controllers.stores import StoreController
from services.gateway.controllers.tenants import TenantController
from services.gateway.db import Database
from services.gateway.errors import http_handler, internal_handler, validation_handler
from services.gateway.models import CreateStoreRequest, CreateTenantRequest, UpdateStoreRequest
from services.gateway.outbox import OutboxRelay
from services.gateway.pg import PgDatabase
from services.gateway.projector import run_projector
from services.gateway.ratelimit import Limiter, LocalRateLimiter, RateLimiter
from services.gateway.settings import GatewaySettings
from services.gateway.sql import Backend
from services.runtime import bus
from services.runtime.health import Health, health_handlers

log = logging.getLogger(__name__)

REPO_ROOT = Path(__file__).resolve().parents[2]


async def _messaging(app: Litestar, stop: asyncio.Event) -> None:
    """Connect to NATS (retrying while it is down), then relay and project."""
    state = app.state
    nc: Client = await bus.connect(state.settings.nats_url, "gateway", stop)
    state.nc = nc
    js = nc.jetstream()
    while not stop.is_set():
        try:
            await bus.prepare_streams(js, state.settings)
            break
        except Exception as exc:
            log.warning("stream setup failed; retrying", extra={"error": repr(exc)})
            await asyncio.sleep(1)
    try:
        await asyncio.gather(state.outbox.run(js, stop), run_projector(state.db, js, stop))
    finally:
        # Everything fetched was acked above; drain() would wait on pull
        # subscriptions' internal queues for its whole timeout.
        await nc.close()


@contextlib.asynccontextmanager
async def lifespan(app: Litestar) -> AsyncIterator[None]:
    state = app.state
    await state.db.open()
    stop = asyncio.Event()
    task = asyncio.create_task(_messaging(app, stop))
    try:
        yield
    finally:
        stop.set()
        try:
            await asyncio.wait_for(task, timeout=10)
        except Exception as exc:
            log.warning("messaging stopped with an error", extra={"error": repr(exc)})
        await state.db.close()


def _dashboard(settings: GatewaySettings) -> list[Router]:
    directory = Path(settings.dashboard_dir) if settings.dashboard_dir else REPO_ROOT / "dashboard"
    if not directory.is_dir():
        return []
    return [
        create_static_files_router(
            path="/", directories=[directory], html_mode=True, include_in_schema=False
        )
    ]


def _document_closed_bodies(app: Litestar) -> None:
    """Request bodies refuse unknown fields (a typo must not pass silently); say so
    in the schema, which Litestar does not derive from `forbid_unknown_fields`."""
    schemas = app.openapi_schema.components.schemas or {}
    for body in (CreateStoreRequest, CreateTenantRequest, UpdateStoreRequest):
        schema = schemas.get(body.__name__)
        if schema is not None:
            schema.additional_properties = False


def database(settings: GatewaySettings) -> Backend:
    """PostgreSQL when `URUMI_DATABASE_URL` names one (several replicas may share
    it), else the SQLite file `URUMI_DATABASE` (one replica)."""
    if settings.database_url:
        return PgDatabase(settings.database_url)
    return Database(settings.database)


def limiter(settings: GatewaySettings, db: Backend) -> Limiter:
    """Shared buckets where replicas share the database; else in this process."""
    if isinstance(db, PgDatabase):
        return RateLimiter(db, settings.rate_limit_per_minute)
    return LocalRateLimiter(settings.rate_limit_per_minute)


def create_app(settings: GatewaySettings) -> Litestar:
    db = database(settings)
    health = Health()
    health.add("database", lambda: db.is_open)
    app = Litestar(
        route_handlers=[
            StoreController,
            TenantController,
            SessionController,
            *health_handlers(health),
            *_dashboard(settings),
        ],
        dependencies={"tenant": Provide(require_tenant)},
        exception_handlers={
            ValidationException: validation_handler,
            HTTPException: http_handler,
            Exception: internal_handler,
        },
        middleware=[AuditMiddleware, metrics.HTTP.middleware],
        lifespan=[lifespan],
        request_max_body_size=settings.max_body_bytes,
        openapi_config=OpenAPIConfig(
            title="Urumi API",
            version="1.0.0",
            path="/schema",
            description="Launch, watch and delete isolated e-commerce stores.",
        ),
        debug=False,
        logging_config=None,
    )
    _document_closed_bodies(app)
    app.state.settings = settings
    app.state.db = db
    app.state.nc = None
    app.state.outbox = OutboxRelay(db)
    app.state.limiter = limiter(settings, db)
    app.state.store_url = lambda store_id: store_url(
        store_id, settings.base_domain, tls=settings.store_tls() != "none", port=settings.store_port
    )
    return app
