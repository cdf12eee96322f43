"""/api/v1/fleet-upgrades: the platform admin upgrades every store of an engine,
in waves, and pauses, resumes or cancels it."""

from typing import Annotated

from litestar import Controller, get, post
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath, JSONBody, QueryParameter

from services.contracts.fleet import FleetSummary
from services.gateway.auth import require_admin
from services.gateway.deps import AnyRequest
from services.gateway.fleet_plan import Control
from services.gateway.fleet_service import FleetService
from services.gateway.models import FleetDetail, FleetList, StartFleetRequest
from services.gateway.openapi_errors import errors


class FleetController(Controller):
    path = "/api/v1/fleet-upgrades"
    tags = ["fleet upgrades (admin)"]
    dependencies = {"admin": Provide(require_admin)}

    @post(
        "/",
        status_code=202,
        summary="Upgrade every store of an engine to a release, in waves",
        description="Every live store of `engine` whose release is older than `to_release` "
        "joins, oldest first, in waves of `wave` stores. A wave starts when the one before "
        "it is done (each store `ready` at the new release, failed, or deleted); a store "
        "whose upgrade fails rolls back by itself, and more than `max_failures` failed "
        "stores halt the fleet. 409 when another fleet upgrade of the engine is active or "
        "no store is behind.",
        responses=errors(400, 409, 413, 422),
    )
    async def start(
        self,
        request: AnyRequest,
        data: JSONBody[StartFleetRequest],
        admin: NamedDependency[str],
        fleet_service: NamedDependency[FleetService],
    ) -> FleetSummary:
        fleet = await fleet_service.start(admin, data)
        request.state.audit_target = f"fleet:{fleet.id}"
        return fleet

    @get("/", summary="Fleet upgrades, newest first", responses=errors(400))
    async def list_fleets(
        self,
        admin: NamedDependency[str],
        fleet_service: NamedDependency[FleetService],
        limit: Annotated[int, QueryParameter(ge=1, le=500)] = 50,
    ) -> FleetList:
        return FleetList(items=await fleet_service.all(limit))

    @get("/{fleet_id:str}", summary="One fleet upgrade and its stores", responses=errors(404))
    async def get_fleet(
        self,
        fleet_id: FromPath[str],
        admin: NamedDependency[str],
        fleet_service: NamedDependency[FleetService],
    ) -> FleetDetail:
        return await fleet_service.get(fleet_id)

    @post(
        "/{fleet_id:str}/pause",
        status_code=200,
        summary="Start no new wave until resumed (the one in flight finishes)",
        responses=errors(404, 409),
    )
    async def pause(
        self,
        request: AnyRequest,
        fleet_id: FromPath[str],
        admin: NamedDependency[str],
        fleet_service: NamedDependency[FleetService],
    ) -> FleetSummary:
        request.state.audit_target = f"fleet:{fleet_id}"
        return await fleet_service.control(fleet_id, Control.PAUSE)

    @post(
        "/{fleet_id:str}/resume",
        status_code=200,
        summary="Resume a paused fleet upgrade",
        responses=errors(404, 409),
    )
    async def resume(
        self,
        request: AnyRequest,
        fleet_id: FromPath[str],
        admin: NamedDependency[str],
        fleet_service: NamedDependency[FleetService],
    ) -> FleetSummary:
        request.state.audit_target = f"fleet:{fleet_id}"
        return await fleet_service.control(fleet_id, Control.RESUME)

    @post(
        "/{fleet_id:str}/cancel",
        status_code=200,
        summary="Stop at the end of the wave in flight",
        responses=errors(404, 409),
    )
    async def cancel(
        self,
        request: AnyRequest,
        fleet_id: FromPath[str],
        admin: NamedDependency[str],
        fleet_service: NamedDependency[FleetService],
    ) -> FleetSummary:
        request.state.audit_target = f"fleet:{fleet_id}"
        return await fleet_service.control(fleet_id, Control.CANCEL)
