"""`/healthz`, `/readyz` and `/metrics` for every service."""

from collections.abc import Callable

from litestar import Response, get
from litestar.handlers import HTTPRouteHandler
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest


class Health:
    """Named readiness checks; the process is ready when all pass."""

    def __init__(self) -> None:
        self._checks: dict[str, Callable[[], bool]] = {}

    def add(self, name: str, check: Callable[[], bool]) -> None:
        self._checks[name] = check

    def report(self) -> dict[str, bool]:
        return {name: bool(check()) for name, check in self._checks.items()}


def health_handlers(health: Health) -> list[HTTPRouteHandler]:
    @get("/healthz", include_in_schema=False, sync_to_thread=False)
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @get("/readyz", include_in_schema=False, sync_to_thread=False)
    def readyz() -> Response[dict[str, object]]:
        checks = health.report()
        ok = all(checks.values())
        return Response({"ready": ok, "checks": checks}, status_code=200 if ok else 503)

    @get("/metrics", include_in_schema=False, sync_to_thread=False)
    def metrics() -> Response[bytes]:
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)

    return [healthz, readyz, metrics]
