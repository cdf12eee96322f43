"""`urumi stores backup ID --wait`: the new backup's states as they happen, from
the notifier's websocket like every other `--wait` (services/cli/watch.py).

The socket is opened before the backup is asked for. Its snapshot holds the
stores' statuses, not their backups' (docs/websocket.md), so a report made
before the socket opened would be lost; opened first, every report of the new
backup is an event after its start, and reconnecting with `after=` loses none.
"""

import asyncio
import contextlib
import sys
from collections.abc import Callable
from typing import Any, Final

import httpx

from services.cli.watch import Connection, Printer, human_size, tenant_events, with_gateway
from services.contracts.backups import BackupState, BackupStatus
from services.contracts.frames import Frame

FINAL: Final = (BackupState.SUCCEEDED, BackupState.FAILED)
# A started backup as the gateway answers it (services.gateway.models.BackupView).
Started = dict[str, Any]


def outcome(report: BackupStatus) -> str:
    """The last line: where the backup is, or what to do about its failure."""
    store, backup = report.store, report.backup
    if report.state is BackupState.SUCCEEDED:
        return (
            f"✓ {backup} of {store} succeeded: {human_size(report.size_bytes)} in object "
            f"storage; `urumi stores restore {store} --backup {backup}` returns the store to it"
        )
    why = report.message or "no reason given"
    return (
        f"✗ {backup} of {store} failed: {why}\n"
        f"  What to do: back it up again (`urumi stores backup {store} --wait`); if it "
        f"fails again, contact support with the store id and the backup id {backup}."
    )


async def wait_for_backup(
    api_url: str,
    token: str,
    store: str,
    start: Callable[[], Started],
    show: Callable[[Started], None],
) -> int:
    """Open the socket, `start` the backup (`show` its answer), then print each
    change of it until it succeeded (0) or failed (1)."""

    async def work(http: httpx.AsyncClient) -> int:
        printer = Printer(sys.stdout, store)
        async with contextlib.aclosing(Connection(api_url, http, printer).frames()) as frames:
            await anext(frames)  # hello: from here on, every event reaches this socket
            started = await asyncio.to_thread(start)
            show(started)
            shown = (BackupState(started["state"]), started.get("message", ""))
            async for frame in frames:
                for report in _reports(frame, store, started["id"]):
                    if (report.state, report.message) != shown:
                        printer.event(report)
                        shown = (report.state, report.message)
                    if report.state in FINAL:
                        print(outcome(report), flush=True)
                        return 0 if report.state is BackupState.SUCCEEDED else 1
        return 1  # not reached: frames() ends only by an exception

    return await with_gateway(api_url, token, work)


def _reports(frame: Frame, store: str, backup: str) -> list[BackupStatus]:
    """The reports of the backup `backup` of `store` in `frame`."""
    return [
        e
        for e in tenant_events(frame)
        if isinstance(e, BackupStatus) and (e.store, e.backup) == (store, backup)
    ]
