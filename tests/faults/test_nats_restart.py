"""SIGKILL NATS in the middle of a burst (stores still being created through the
API while it is away), start it again on the same store directory: no command
lost, none applied twice, and both status consumers (the gateway's projector and
the notifier's live feed) catch up to `ready`."""

import asyncio
import json
from datetime import datetime
from pathlib import Path

import httpx
from kubernetes_asyncio.client import ApiClient

from services.contracts import streams
from services.contracts.commands import CreateStore
from services.contracts.events import StepState
from services.contracts.ids import namespace_for
from services.contracts.wire import decode_command
from tests.faults.platform import (
    LiveFeed,
    Platform,
    assert_no_leak,
    commands_drained,
    new_id,
    poll,
    progress_events,
    provision_check,
    stream_messages,
    unacked_commands,
)
from tests.integration.provisioner_support import ProgressLog


async def test_nats_sigkilled_mid_burst(platform: Platform, kube: ApiClient) -> None:
    p = platform
    assert p.nc is not None
    log = await ProgressLog().start(p.nc)
    feed = LiveFeed(p.api, p.token).start()

    def finished() -> set[str]:
        return {
            e.store for e in log.events if e.step == "provision" and e.state == StepState.SUCCEEDED
        }

    def mid_burst() -> bool:
        started = {e.store for e in log.events if e.state == StepState.STARTED}
        return len(finished()) >= 2 and bool(started - finished())

    burst = [new_id(f"nats{i:02d}") for i in range(12)]
    await asyncio.gather(*(p.create(s) for s in burst))
    try:
        await poll(lambda: asyncio.sleep(0, mid_burst()), 120, "two stores done, more under way")
        done = finished()
        acked = done - await unacked_commands(p.js)  # off the work queue: never runs again
        p.stack.nats.kill()

        # NATS away: the gateway still answers and takes new stores into its outbox.
        late = [new_id(f"late{i}") for i in range(3)]
        for store in late:
            await p.create(store)
        async with httpx.AsyncClient(base_url=p.api) as http:
            assert (await http.get("/readyz")).status_code == 200
        # Longer than a JetStream publish's timeout (5 s): in-flight steps fail.
        await asyncio.sleep(7)
        await asyncio.to_thread(p.stack.nats.start)

        stores = burst + late
        # In-flight commands that lost NATS come back after the ack wait (60 s).
        await p.wait_phase(stores, "ready", within=240)
        await _drained_or_only_done_work_left(p, stores)
        await poll(
            lambda: asyncio.sleep(0, all(feed.phases.get(s) == "ready" for s in stores)),
            60,
            "the notifier's live feed shows every store ready",
        )
    finally:
        await feed.stop()

    assert acked, "no store was done before the kill"
    events = await progress_events(p.js, p.tenant)
    problems = [e for s in stores for e in provision_check(events, s, s not in acked)]
    assert not problems, problems
    for store in stores:
        versions = p.secrets.versions.get(namespace_for(store), set())
        assert len(versions) == 1, f"{store}: Secret versions {versions}"

    assert_no_leak(await p.leak_scan())
    # The only watcher, if it lost its lease to the outage (it may lapse while NATS
    # is away), is active again at once: a renewal that landed unanswered must not
    # make it wait a whole TTL for its own key to expire.
    for lost, regained in lease_gaps(p.root / "logs" / "watcher-0.log"):
        assert regained - lost <= 3.0, f"standby for {regained - lost:.1f}s after NATS returned"


async def _drained_or_only_done_work_left(p: Platform, stores: list[str]) -> None:
    """Every command handled and acked; or else every command still on the queue
    created a store that is ready at that command's generation.

    Known gap, seen about once in five runs: after NATS is SIGKILLed, a command
    delivered just before the kill and nak'd (or left unacked) just after the
    restart is sometimes never redelivered by nats-server 2.15, not even after the
    ack wait, so it stays on the work queue although its store is ready.
    """
    try:
        await poll(lambda: commands_drained(p.js), 120, "every command handled and acked")
        return
    except AssertionError:
        left = await stream_messages(p.js, streams.COMMANDS.name)
    for m in left:
        command = decode_command(m.data)
        assert isinstance(command, CreateStore), f"{m.subject}: a {type(command).__name__} left"
        assert command.store in stores, m.subject
        view = await p.store(command.store)
        assert (view["phase"], view["generation"]) == ("ready", command.generation), view


def lease_gaps(log: Path) -> list[tuple[float, float]]:
    """(lost, regained) timestamps of each time the watcher stood down."""
    gaps: list[tuple[float, float]] = []
    lost: float | None = None
    for line in log.read_text().splitlines():
        entry = json.loads(line) if line.startswith("{") else {}
        at = datetime.fromisoformat(entry["ts"]).timestamp() if entry else 0.0
        if entry.get("msg") == "lease lost: standby":
            lost = at
        elif entry.get("msg") == "lease acquired: active" and lost is not None:
            gaps.append((lost, at))
            lost = None
    assert lost is None, "the watcher never became active again"
    return gaps
