"""`follow` (urumi stores watch / create --wait) against a real notifier on real NATS.

The gateway is stood in for by a two-route app (a store view and a ticket): what is
under test is the websocket path, not the gateway.
"""

import asyncio
import contextlib
import io
import sys
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from litestar import Litestar, get, post
from nats.js import JetStreamContext

from services.cli import watch
from services.contracts.events import StepState, StoreProgress, StoreStatus
from services.contracts.phases import Phase
from services.devtools.natsserver import free_port
from services.notifier.metrics import FRAMES
from services.runtime.http import serve
from services.runtime.tickets import sign_ticket
from tests.fixtures.waiting import eventually
from tests.integration.test_notifier_ws import (
    SECRET,
    Notifier,
    kube,
    publish,
    running_notifier,
    status,
)

NOW = datetime(2025, 1, 1, tzinfo=UTC)


def view(store: str, phase: Phase, generation: int = 1) -> dict[str, Any]:
    return {
        "id": store,
        "tenant": "acme",
        "engine": "woocommerce",
        "plan": "small",
        "display_name": "",
        "phase": phase.value,
        "generation": generation,
        "url": "",
        "reason": "",
        "message": "",
        "conditions": [],
        "created_at": NOW.isoformat(),
        "updated_at": NOW.isoformat(),
    }


@contextlib.asynccontextmanager
async def stub_gateway(notifier: Notifier, phase: Phase, generation: int = 1) -> AsyncIterator[str]:
    @get("/api/v1/stores/shop", sync_to_thread=False)
    def store() -> dict[str, Any]:
        return view("shop", phase, generation)

    @post("/api/v1/tickets", sync_to_thread=False)
    def ticket() -> dict[str, Any]:
        return {"ticket": sign_ticket(SECRET, "acme", 60), "url": notifier.url, "expires_at": ""}

    port = free_port()
    stop = asyncio.Event()
    app = Litestar([store, ticket], openapi_config=None)
    task = asyncio.create_task(serve(app, "127.0.0.1", port, stop))
    base = f"http://127.0.0.1:{port}"

    async def answering() -> bool:
        async with httpx.AsyncClient(base_url=base) as http:
            return (await http.get("/api/v1/stores/shop")).status_code == 200

    try:
        await eventually(answering, within=10, what="the stub gateway answering")
        yield base
    finally:
        stop.set()
        await task


@pytest.fixture
async def notifier(js: JetStreamContext) -> AsyncIterator[Notifier]:
    async with running_notifier(js, ping_interval_s=5.0) as n:
        yield n


async def _follow_with_output(
    api: str, store: str, monkeypatch: pytest.MonkeyPatch
) -> tuple["asyncio.Task[int]", io.StringIO]:
    out = io.StringIO()
    monkeypatch.setattr(sys, "stdout", out)
    snapshots = FRAMES.labels("snapshot")
    before = snapshots._value.get()
    task = asyncio.create_task(watch.follow(api, "token", store, until_settled=True))

    async def past_the_snapshot() -> bool:
        return bool(snapshots._value.get() > before)

    # Events published from here on arrive as events, not folded into the snapshot.
    await eventually(past_the_snapshot, within=10, what="follow connected, snapshot sent")
    return task, out


async def test_follow_until_ready(
    js: JetStreamContext, notifier: Notifier, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with stub_gateway(notifier, Phase.PENDING) as api:
        task, out = await _follow_with_output(api, "shop", monkeypatch)
        await publish(js, status("acme", "shop", Phase.PROVISIONING))
        await publish(
            js,
            StoreProgress("acme", "shop", 1, "c", "render", StepState.SUCCEEDED, NOW, "9 objects"),
        )
        await publish(js, kube("acme", "shop", "pulled wordpress"))
        await publish(js, status("acme", "other", Phase.FAILED))  # another store: ignored
        await publish(js, status("acme", "shop", Phase.READY))
        assert await asyncio.wait_for(task, 10) == 0
    text = out.getvalue()
    assert "● pending" in text
    assert "● provisioning" in text
    assert "render" in text
    assert "9 objects" in text
    assert "pulled wordpress" in text
    assert "other" not in text
    assert text.rstrip().endswith("shop is ready: http://shop.example")


async def test_follow_of_a_changed_store_waits_for_its_new_generation(
    js: JetStreamContext, notifier: Notifier, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`urumi stores update --wait`: the store was ready at generation 1; that is
    not the end of the change, only generation 2 being ready is."""
    await publish(js, status("acme", "shop", Phase.READY, generation=1))
    async with stub_gateway(notifier, Phase.PROVISIONING, generation=2) as api:
        task, out = await _follow_with_output(api, "shop", monkeypatch)
        await publish(js, status("acme", "shop", Phase.READY, generation=1))  # a late echo
        await asyncio.sleep(0.5)
        assert not task.done(), out.getvalue()
        await publish(js, status("acme", "shop", Phase.READY, generation=2))
        assert await asyncio.wait_for(task, 10) == 0
    assert out.getvalue().rstrip().endswith("shop is ready: http://shop.example")


async def test_follow_until_failed_shows_reason_and_next_step(
    js: JetStreamContext, notifier: Notifier, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with stub_gateway(notifier, Phase.PROVISIONING) as api:
        task, out = await _follow_with_output(api, "shop", monkeypatch)
        failed = StoreStatus(
            "acme", "shop", Phase.FAILED, 1, NOW, reason="ImagePullBackOff", message="no image"
        )
        await publish(js, failed)
        assert await asyncio.wait_for(task, 10) == 1
    text = out.getvalue()
    assert "shop failed: ImagePullBackOff — no image" in text
    assert "What to do:" in text


async def test_follow_settled_store_returns_at_once(
    notifier: Notifier, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with stub_gateway(notifier, Phase.DELETED) as api:
        out = io.StringIO()
        monkeypatch.setattr(sys, "stdout", out)
        assert await watch.follow(api, "t", "shop", until_settled=True) == 0
    assert "shop is deleted" in out.getvalue()
