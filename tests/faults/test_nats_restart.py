"""SIGKILL NATS in the middle of a burst (stores still being created through the
API while it is away), start it again on the same store directory: no command
lost or left on the queue, none applied twice, and both status consumers (the
gateway's projector and the notifier's live feed) catch up to `ready`."""

import asyncio
import json
from collections.abc import Iterable
from datetime import datetime
from pathlib import Path

import httpx
from kubernetes_asyncio.client import ApiClient

from services.contracts import streams
from services.contracts.events import StepState
from services.contracts.ids import namespace_for
from services.contracts.wire import decode_command
from tests.faults.platform import (
    LiveFeed,
    PlatformHarness,
    assert_no_leak,
    commands_drained,
    new_id,
    progress_events,
    provision_check,
    stream_messages,
    unacked_commands,
)
from tests.fixtures.waiting import eventually
from tests.integration.provisioner_support import ProgressLog


async def test_nats_sigkilled_mid_burst(platform: PlatformHarness, kube: ApiClient) -> None:
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
        await eventually(mid_burst, 120, interval=0.5, what="two stores done, more under way")
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
        # Even commands nats-server stranded in the kill (see queue_audit.py).
        try:
            await eventually(
                lambda: commands_drained(p.js),
                150,
                interval=0.5,
                what="every command handled and acked",
            )
        except AssertionError as exc:
            raise AssertionError(await _diagnosis(p, await unacked_commands(p.js))) from exc
        await eventually(
            lambda: all(feed.phases.get(s) == "ready" for s in stores),
            60,
            interval=0.5,
            what="the notifier's live feed shows every store ready",
        )
    finally:
        await feed.stop()

    assert acked, "no store was done before the kill"
    events = await progress_events(p.js, p.tenant)
    # Even if the unclean stop brings a command it had removed back onto the queue,
    # the provisioner knows it handled it and does not apply it again.
    problems = [e for s in stores for e in provision_check(events, s, s not in acked)]
    assert not problems, (problems, await _diagnosis(p, {e.split(":")[0] for e in problems}))
    for store in stores:
        versions = p.secrets.versions.get(namespace_for(store), set())
        assert len(versions) == 1, f"{store}: Secret versions {versions}"

    assert_no_leak(await p.leak_scan())
    # The only watcher, if it lost its lease to the outage (it may lapse while NATS
    # is away), is active again at once: a renewal that landed unanswered must not
    # make it wait a whole TTL for its own key to expire.
    for lost, regained in lease_gaps(p.root / "logs" / "watcher-0.log"):
        assert regained - lost <= 3.0, f"standby for {regained - lost:.1f}s after NATS returned"


async def _diagnosis(p: PlatformHarness, stores: Iterable[str]) -> str:
    """What a failed run needs to be understood from CI output alone."""
    events = await progress_events(p.js, p.tenant)
    consumer = await p.js.consumer_info(streams.PROVISIONER.stream, streams.PROVISIONER.durable)
    left = [
        (m.seq, decode_command(m.data).store)
        for m in await stream_messages(p.js, streams.COMMANDS.name)
    ]
    lines = [
        f"consumer: {consumer.delivered} {consumer.ack_floor} pending={consumer.num_pending} "
        f"ack_pending={consumer.num_ack_pending} redelivered={consumer.num_redelivered}",
        f"left on the queue: {left}",
    ]
    log = (p.root / "logs" / "provisioner-0.log").read_text().splitlines()
    for store in sorted(stores):
        tail = [f"{e.step}/{e.state}" for e in events if e.store == store][-6:]
        lines.append(f"{store} events: {tail}")
        lines += [line[:300] for line in log if store in line and '"progress"' not in line][-8:]
    return "\n".join(lines)


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
