"""Transactional outbox relay: publish committed commands, mark them sent on ack.

A crash between commit and publish loses nothing (rows stay unsent); a crash
between publish and mark re-publishes, and JetStream drops the copy because
`Nats-Msg-Id` is the command id.
"""

import asyncio
import logging
from datetime import timedelta

from nats.js import JetStreamContext

from services.gateway import metrics
from services.gateway import repository as repo
from services.gateway.db import Database
from services.runtime.shutdown import sleep_or_stop

log = logging.getLogger(__name__)

BATCH = 200
IDLE_POLL_S = 1.0
KEEP_SENT = timedelta(days=1)


class OutboxRelay:
    def __init__(self, db: Database) -> None:
        self.db = db
        self.wake = asyncio.Event()

    async def flush(self, js: JetStreamContext) -> int:
        rows = await repo.unsent_outbox(self.db.reader, BATCH)
        metrics.OUTBOX_PENDING.set(len(rows))
        sent: list[int] = []
        try:
            for row in rows:
                ack = await js.publish(
                    row["subject"],
                    row["payload"],
                    timeout=5,
                    headers={"Nats-Msg-Id": row["command_id"]},
                )
                sent.append(row["id"])
                metrics.COMMANDS_PUBLISHED.inc()
                log.info(
                    "command published",
                    extra={
                        "command_id": row["command_id"],
                        "subject": row["subject"],
                        "stream_seq": ack.seq,
                        "duplicate": bool(ack.duplicate),
                    },
                )
        finally:
            if sent:
                async with self.db.transaction() as conn:
                    await repo.mark_sent(conn, sent)
        return len(rows)

    async def run(self, js: JetStreamContext, stop: asyncio.Event) -> None:
        delay = 0.2
        while not stop.is_set():
            self.wake.clear()
            try:
                if await self.flush(js) >= BATCH:
                    continue
                delay = 0.2
                await self._prune()
            except Exception as exc:
                log.warning("outbox publish failed; will retry", extra={"error": repr(exc)})
                await sleep_or_stop(stop, delay)
                delay = min(delay * 2, 5.0)
                continue
            await _wait_any(self.wake, stop, IDLE_POLL_S)

    async def _prune(self) -> None:
        async with self.db.transaction() as conn:
            await repo.prune_outbox(conn, repo.now() - KEEP_SENT)


async def _wait_any(wake: asyncio.Event, stop: asyncio.Event, seconds: float) -> None:
    waiters = {asyncio.create_task(wake.wait()), asyncio.create_task(stop.wait())}
    _, pending = await asyncio.wait(waiters, timeout=seconds, return_when=asyncio.FIRST_COMPLETED)
    for task in pending:
        task.cancel()
