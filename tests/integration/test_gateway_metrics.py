"""The gateway's POST → ready histogram, scraped from /metrics of a gateway process
fed by real NATS, as Prometheus would see it."""

from datetime import datetime, timedelta
from typing import Any

import httpx
from nats.js import JetStreamContext
from prometheus_client.parser import text_string_to_metric_families

from services.contracts.events import StoreStatus
from services.contracts.phases import Phase
from services.contracts.subjects import EventKind, event_subject
from services.contracts.wire import encode
from services.devtools.natsserver import NatsServer
from tests.fixtures.processes import StartService
from tests.fixtures.waiting import eventually
from tests.integration.gateway_support import auth, gateway_env, new_tenant

HISTOGRAM = "urumi_gateway_store_ready_seconds"


async def ready_samples(api: str, engine: str, plan: str) -> dict[str, float]:
    """The histogram's samples for one engine and plan: `count`, `sum`, `le=<bound>`."""
    async with httpx.AsyncClient(base_url=api) as http:
        text = (await http.get("/metrics")).text
    out: dict[str, float] = {}
    for family in text_string_to_metric_families(text):
        if family.name != HISTOGRAM:
            continue
        for s in family.samples:
            if (s.labels.get("engine"), s.labels.get("plan")) != (engine, plan):
                continue
            suffix = s.name.removeprefix(HISTOGRAM)
            key = f"le={s.labels['le']}" if suffix == "_bucket" else suffix.lstrip("_")
            out[key] = s.value
    return out


async def test_post_to_first_ready_is_observed_once_per_store_by_engine_and_plan(
    nats_server: NatsServer,
    start_service: StartService,
    js: JetStreamContext,
    gateway_database: str,
) -> None:
    gateway = start_service("gateway", gateway_env(nats_server.url, gateway_database))
    token = await new_tenant(gateway.base_url, "acme")
    async with httpx.AsyncClient(base_url=gateway.base_url, headers=auth(token)) as acme:
        created = await acme.post(
            "/api/v1/stores", json={"id": "timed", "engine": "medusa", "plan": "medium"}
        )
        assert created.status_code == 202, created.text
        await acme.post("/api/v1/stores", json={"id": "slow", "plan": "small"})
        posted = datetime.fromisoformat(created.json()["created_at"])

        async def report(phase: Phase, after_s: int) -> None:
            status = StoreStatus("acme", "timed", phase, 1, posted + timedelta(seconds=after_s))
            await js.publish(event_subject("acme", "timed", EventKind.STATUS), encode(status))

        async def projected(n: int) -> dict[str, Any] | None:
            events = (await acme.get("/api/v1/stores/timed/events")).json()["items"]
            body: dict[str, Any] = (await acme.get("/api/v1/stores/timed")).json()
            return body if len(events) == n and body["phase"] == "ready" else None

        await report(Phase.PROVISIONING, 10)
        await report(Phase.READY, 150)
        await eventually(lambda: projected(2))
        first = await ready_samples(gateway.base_url, "medusa", "medium")
        assert (first["count"], first["sum"]) == (1, 150)
        assert (first["le=120.0"], first["le=180.0"]) == (0, 1)

        # A pod lost and back is not a new POST → ready.
        await report(Phase.DEGRADED, 200)
        await report(Phase.READY, 260)
        await eventually(lambda: projected(4))
        assert await ready_samples(gateway.base_url, "medusa", "medium") == first
    # A store that is not ready yet is not in it.
    assert await ready_samples(gateway.base_url, "woocommerce", "small") == {}
