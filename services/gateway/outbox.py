"""Transactional outbox relay: publish committed commands, mark them sent on ack.

A crash between commit and publish loses nothing (rows stay unsent); a crash
between publish and mark re-publishes, and JetStream drops the copy because
`Nats-Msg-Id` is the command id. On PostgreSQL every replica relays: each
claims rows no other replica holds (`FOR UPDATE SKIP LOCKED`), and a replica
that dies mid-batch releases its rows with its connection.
"""

import asyncio
import contextlib
import logging
import time
from datetime import timedelta

from nats.js import JetStreamContext
from nats.js.api import PubAck

from services.gateway import metrics
from services.gateway import repository as repo
from services.gateway.sql import Backend, OutboxBatch, Row
from services.runtime.backoff import Backoff, BackoffPolicy
from services.runtime.shutdown import sleep_or_stop

log = logging.getLogger(__name__)

BATCH = 200
IDLE_POLL_S = 1.0
KEEP_SENT = timedelta(days=1)
# Pruning scans the sent rows: once a minute is plenty for rows kept a day, and
# after every flush it cost each create a statement of its own.
PRUNE_EVERY_S = 60.0
# Rounds start at least this far apart: the creates in between share one read,
# one burst of publishes and one mark (at 200 creates/s each create had all
# three to itself). Each round also wakes an otherwise idle process, which on
# this machine costs more CPU than the round's own work: at 200 creates/s,
# rounds 0.1 s apart took about a tenth off the gateway's CPU per create against
# 0.02 s. A wake after a quiet spell starts a round at once, so a lone create's
# command waits for nothing.
COALESCE_S = 0.1
# How long a round's publishes may wait for JetStream's acknowledgements.
ACK_TIMEOUT_S = 5.0
# The relay's one database and one NATS: nothing to spread out.
RETRY = BackoffPolicy(base_s=0.2, cap_s=5.0, jitter=False)


class OutboxRelay:
    def __init__(self, db: Backend) -> None:
        self.db = db
        self.wake = asyncio.Event()
        self._pruned_at = -PRUNE_EVERY_S
        self._round_at = -COALESCE_S  # time.monotonic() when the last round began

    async def flush(self, js: JetStreamContext) -> int:
        async with self.db.claim_outbox(BATCH) as batch:
            metrics.OUTBOX_PENDING.set(len(batch.rows))
            # Raised after the batch closes, so what was published is marked sent.
            error = await _publish(js, batch)
        if error is not None:
            raise error
        return len(batch.rows)

    async def run(self, js: JetStreamContext, stop: asyncio.Event) -> None:
        backoff = Backoff(RETRY)
        # Stopping wakes the relay too, so its idle wait is on one event (no
        # tasks of its own per wake, as waiting on either event would need).
        forward = asyncio.create_task(_set_when(stop, self.wake))
        try:
            while not stop.is_set():
                self.wake.clear()
                self._round_at = time.monotonic()
                try:
                    if await self.flush(js) >= BATCH:
                        continue
                    backoff.succeeded()
                    await self.prune()
                except Exception as exc:
                    log.warning("outbox publish failed; will retry", extra={"error": repr(exc)})
                    await sleep_or_stop(stop, backoff.failed())
                    continue
                await self._idle()
        finally:
            forward.cancel()

    async def _idle(self) -> None:
        """Until woken, or `IDLE_POLL_S` without a wake; then until `COALESCE_S`
        after the last round began (at once if that has passed)."""
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(IDLE_POLL_S):
                await self.wake.wait()
        await asyncio.sleep(max(0.0, self._round_at + COALESCE_S - time.monotonic()))

    async def prune(self) -> None:
        """Drop rows sent more than `KEEP_SENT` ago, at most once every `PRUNE_EVERY_S`."""
        now = time.monotonic()
        if now - self._pruned_at < PRUNE_EVERY_S:
            return
        self._pruned_at = now
        async with self.db.transaction(exclusive=False) as conn:
            await repo.prune_outbox(conn, repo.now() - KEEP_SENT)


async def _set_when(stop: asyncio.Event, wake: asyncio.Event) -> None:
    await stop.wait()
    wake.set()


async def _publish(js: JetStreamContext, batch: OutboxBatch) -> Exception | None:
    """Publish the batch's rows in order, all sent before any acknowledgement is
    awaited; the rows acknowledged go to `batch.sent`, the first error is returned.
    A row that failed is published again later, after rows that followed it:
    commands carry their generation, and a consumer drops a stale one."""
    error: Exception | None = None
    for row, ack in zip(batch.rows, await _acks(js, batch.rows), strict=True):
        if isinstance(ack, Exception):
            error = error or ack
            continue
        batch.sent.append(row["id"])
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
    return error


async def _acks(js: JetStreamContext, rows: list[Row]) -> list[PubAck | Exception]:
    """Each row's acknowledgement or why it has none, in row order. The acks
    come back on one subscription (`publish_async`), not one request per row."""
    sent: list[asyncio.Future[PubAck] | Exception] = []
    for row in rows:
        payload, headers = bytes(row["payload"]), {"Nats-Msg-Id": row["command_id"]}
        try:
            sent.append(await js.publish_async(row["subject"], payload, headers=headers))
        except Exception as exc:
            sent.append(exc)
    futures = [f for f in sent if isinstance(f, asyncio.Future)]
    if futures:
        await asyncio.wait(futures, timeout=ACK_TIMEOUT_S)
    return [_outcome(f) for f in sent]


def _outcome(sent: asyncio.Future[PubAck] | Exception) -> PubAck | Exception:
    if isinstance(sent, Exception):
        return sent
    if not sent.done():
        sent.cancel()  # forgets it: a late ack finds no one waiting
        return TimeoutError(f"no acknowledgement from JetStream in {ACK_TIMEOUT_S:.0f} s")
    error = sent.exception()
    if error is None:
        return sent.result()
    return error if isinstance(error, Exception) else RuntimeError(repr(error))
