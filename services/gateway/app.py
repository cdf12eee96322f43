"""The gateway's Litestar application: wiring, lifespan, background loops."""

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager
from pathlib import Path
from typing import TypeVar

import msgspec
from litestar import Litestar, Router
from litestar.di import Provide
from litestar.exceptions import HTTPException, ValidationException
from litestar.middleware import DefineMiddleware
from litestar.openapi import OpenAPIConfig
from litestar.openapi.spec import Schema
from litestar.static_files import create_static_files_router

from services.contracts.domains import DOMAIN_DOC_PATTERN
from services.gateway import metrics, models, releases
from services.gateway.audit import AuditMiddleware
from services.gateway.auth import require_tenant
from services.gateway.auto_sleep_driver import run_auto_sleep
from services.gateway.backup_service import BackupService
from services.gateway.controllers.backups import BackupController
from services.gateway.controllers.domains import DomainController
from services.gateway.controllers.fleet import FleetController
from services.gateway.controllers.next_steps import next_steps
from services.gateway.controllers.releases import ReleaseController
from services.gateway.controllers.session import SessionController
from services.gateway.controllers.stores import store_controller
from services.gateway.controllers.tenants import TenantController
from services.gateway.db import Database
from services.gateway.deps import GatewayDeps
from services.gateway.domain_driver import run_domains
from services.gateway.domain_errors import DomainError
from services.gateway.domain_service import DomainService
from services.gateway.errors import (
    domain_handler,
    http_handler,
    internal_handler,
    validation_handler,
)
from services.gateway.fleet_driver import run_fleets
from services.gateway.fleet_service import FleetService
from services.gateway.models import AddDomainRequest
from services.gateway.outbox import OutboxRelay
from services.gateway.pg import PgDatabase
from services.gateway.projector import run_projector
from services.gateway.ratelimit import Limiter, LocalRateLimiter, RateLimiter
from services.gateway.settings import GatewaySettings
from services.gateway.sql import Backend
from services.gateway.store_hosts import StoreHostMiddleware
from services.gateway.store_service import StoreService
from services.gateway.tenant_service import TenantService
from services.gateway.token_cache import TokenCache
from services.runtime import bus
from services.runtime.health import Health, health_handlers
from services.runtime.releases import load_catalog
from services.runtime.shutdown import sleep_or_stop

log = logging.getLogger(__name__)

REPO_ROOT = Path(__file__).resolve().parents[2]
T = TypeVar("T")


async def _messaging(deps: GatewayDeps, stop: asyncio.Event) -> None:
    """Connect to NATS (retrying while it is down), then relay and project."""
    nc = await bus.connect(deps.settings.nats_url, "gateway", stop)
    deps.nc = nc
    js = nc.jetstream()
    ready = False
    while not stop.is_set():
        try:
            ready = await bus.prepare_streams(js, deps.settings, stop)
            break
        except Exception as exc:
            log.warning("stream setup failed; retrying", extra={"error": repr(exc)})
            await sleep_or_stop(stop, 1)
    try:
        if ready:  # else stopped while waiting: nothing to relay or project
            await asyncio.gather(
                deps.outbox.run(js, stop),
                run_projector(deps.db, js, stop, deps.outbox.wake),
                run_fleets(deps, stop),
                run_domains(deps, stop),
                run_auto_sleep(deps, stop),
            )
    finally:
        # Everything fetched was acked above; drain() would wait on pull
        # subscriptions' internal queues for its whole timeout.
        await nc.close()


def lifespan(deps: GatewayDeps) -> Callable[[Litestar], AbstractAsyncContextManager[None]]:
    """Open the database, run the messaging loops while the app serves."""

    @contextlib.asynccontextmanager
    async def running(_: Litestar) -> AsyncIterator[None]:
        await deps.db.open()
        stop = asyncio.Event()
        task = asyncio.create_task(_messaging(deps, stop))
        try:
            yield
        finally:
            stop.set()
            try:
                await asyncio.wait_for(task, timeout=10)
            except Exception as exc:
                log.warning("messaging stopped with an error", extra={"error": repr(exc)})
            await deps.db.close()

    return running


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
    in the schema, which Litestar does not derive from `forbid_unknown_fields`.
    Every such body in `models`, so a new one cannot be missed."""
    schemas = app.openapi_schema.components.schemas or {}
    for name, schema in schemas.items():
        body = getattr(models, name, None)
        if not (isinstance(body, type) and issubclass(body, msgspec.Struct)):
            continue
        if body.__struct_config__.forbid_unknown_fields and isinstance(schema, Schema):
            schema.additional_properties = False
    domain = schemas.get(AddDomainRequest.__name__)
    field = (domain.properties or {}).get("domain") if isinstance(domain, Schema) else None
    if isinstance(field, Schema):
        field.pattern = DOMAIN_DOC_PATTERN


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


def _provided(value: T) -> Provide:
    """`value` itself for every request that names it."""

    def provide() -> T:
        return value

    return Provide(provide, use_cache=True, sync_to_thread=False)


def dependencies(deps: GatewayDeps) -> dict[str, Provide]:
    """What handlers and guards may name as parameters."""
    stores = StoreService(deps)
    return {
        "deps": _provided(deps),
        "store_service": _provided(stores),
        "backup_service": _provided(BackupService(deps, stores)),
        "tenant_service": _provided(TenantService(deps)),
        "fleet_service": _provided(FleetService(deps)),
        "domain_service": _provided(DomainService(deps)),
        "tenant": Provide(require_tenant),
    }


def create_app(settings: GatewaySettings) -> Litestar:
    db = database(settings)
    catalog = load_catalog(settings.charts_dir, settings.releases_file)
    deps = GatewayDeps(
        settings,
        db,
        OutboxRelay(db),
        limiter(settings, db),
        releases=catalog,
        tokens=TokenCache(settings.token_cache_s),
    )
    health = Health()
    health.add("database", lambda: db.is_open)
    app = Litestar(
        route_handlers=[
            store_controller(StoreService(deps)),
            BackupController,
            DomainController,
            ReleaseController,
            TenantController,
            FleetController,
            SessionController,
            next_steps,
            *health_handlers(health),
            *_dashboard(settings),
        ],
        dependencies=dependencies(deps),
        exception_handlers={
            ValidationException: validation_handler,
            HTTPException: http_handler,
            DomainError: domain_handler,
            Exception: internal_handler,
        },
        middleware=[
            DefineMiddleware(StoreHostMiddleware, stores=StoreService(deps), deps=deps),
            DefineMiddleware(AuditMiddleware, db=db),
            metrics.HTTP.middleware,
        ],
        lifespan=[lifespan(deps)],
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
    releases.document(app.openapi_schema.components.schemas or {}, catalog)
    return app
