"""The gateway killed between its database commit and the publish: the store row
and its command are committed (NATS unreachable from this gateway, so the relay
cannot publish), the process is SIGKILLed, and the restarted gateway's outbox
relay delivers the command: the store ends `ready`, provisioned once."""

import asyncio
import functools
import sqlite3
from pathlib import Path

from services.devtools.natsserver import free_port
from tests.faults.platform import (
    PlatformHarness,
    assert_no_leak,
    commands_drained,
    new_id,
    progress_events,
    provision_check,
)
from tests.fixtures.waiting import eventually
from tests.integration.provisioner_support import ProgressLog


def outbox_rows(database: Path, store: str) -> list[tuple[str, str | None]]:
    """(command_id, sent_at) of the store's commands, read beside the running gateway."""
    with sqlite3.connect(f"file:{database}?mode=ro", uri=True) as db:
        rows = db.execute(
            "SELECT command_id, sent_at FROM outbox WHERE subject LIKE ? ORDER BY id",
            (f"%.{store}",),
        ).fetchall()
    return [(str(command_id), sent_at) for command_id, sent_at in rows]


async def test_gateway_killed_between_commit_and_publish(platform: PlatformHarness) -> None:
    p = platform
    assert p.nc is not None
    log = await ProgressLog().start(p.nc)
    database = p.stack.root / "urumi.db"
    port = p.stack.ports["gateway"]
    p.stack.running("gateway")[0].kill()
    cut_off = await asyncio.to_thread(
        functools.partial(
            p.stack.add, "gateway", port=port, URUMI_NATS_URL=f"nats://127.0.0.1:{free_port()}"
        )
    )

    store = new_id("crash")
    created = await p.create(store)
    assert created["phase"] == "pending"
    [(command_id, sent_at)] = outbox_rows(database, store)
    assert sent_at is None
    await asyncio.sleep(2)
    assert not log.of(store), "published by a gateway that cannot reach NATS?"
    cut_off.kill()

    await asyncio.to_thread(functools.partial(p.stack.add, "gateway", port=port))
    await p.wait_phase([store], "ready", within=120)
    await eventually(
        lambda: commands_drained(p.js), 60, interval=0.5, what="the command handled and acked"
    )
    [(sent_command, sent_at)] = outbox_rows(database, store)
    assert (sent_command, sent_at is not None) == (command_id, True)
    events = await progress_events(p.js, p.tenant)
    assert {e.command_id for e in events if e.store == store} == {command_id}
    assert not provision_check(events, store)

    assert_no_leak(await p.leak_scan())
