"""The durable pull consumer: bounded concurrency, per-store locks, ack/nak."""

import asyncio
import contextlib
import logging
import random
from collections.abc import Callable, Coroutine
from typing import Any, Final

import msgspec
from nats.aio.msg import Msg
from nats.js import JetStreamContext
from prometheus_client import Counter, Gauge

from services.contracts.backups import BackupStore
from services.contracts.commands import Command, CreateStore, DeleteStore, ReconcileStore
from services.contracts.events import StepState
from services.contracts.phases import Phase
from services.contracts.streams import PROVISIONER
from services.contracts.subjects import is_reconcile_subject
from services.contracts.wire import decode_command
from services.provisioner.errors import PermanentError, ProvisionError, classify
from services.provisioner.locking import Generations, Handled, StoreLock
from services.provisioner.provision import Provisioner
from services.provisioner.selfheal import SelfHealer
from services.runtime.backoff import BackoffPolicy
from services.runtime.first import first_done
from services.runtime.shutdown import sleep_or_stop

log = logging.getLogger(__name__)

LockFactory = Callable[[str], StoreLock]

FETCH_WAIT_S: Final = 1.0
# Well inside the consumer's ack wait, so a long apply is never redelivered.
HEARTBEAT_S: Final = PROVISIONER.ack_wait_s / 4
# A failed command waits in JetStream (a nak with this delay) for its next delivery.
RETRY: Final = BackoffPolicy(base_s=1.0, cap_s=60.0)

IN_FLIGHT: Final = Gauge("urumi_provisioner_in_flight", "Commands being handled now")
OUTCOMES: Final = Counter("urumi_provisioner_commands", "Commands handled", ["outcome"])


class LockLostError(Exception):
    """Another replica took the store's lock while we worked."""


class CommandConsumer:
    def __init__(
        self,
        js: JetStreamContext,
        provisioner: Provisioner,
        locks: LockFactory,
        generations: Generations,
        concurrency: int,
        healer: SelfHealer,
    ) -> None:
        self.js = js
        self.provisioner = provisioner
        self.healer = healer
        self.locks = locks
        self.generations = generations
        self.concurrency = concurrency
        self.tasks: set[asyncio.Task[None]] = set()
        self.bound = False
        self._slot_free = asyncio.Event()

    async def run(self, stop: asyncio.Event, grace_s: float) -> None:
        sub = await self.js.pull_subscribe_bind(
            durable=PROVISIONER.durable, stream=PROVISIONER.stream
        )
        self.bound = True
        try:
            while not stop.is_set():
                free = self.concurrency - len(self.tasks)
                if free <= 0:
                    await first_done(self._slot_free.wait(), stop.wait())
                    self._slot_free.clear()
                    continue
                for msg in await self._fetch(sub, free, stop):
                    self._start(msg)
        finally:
            self.bound = False
            await self._drain(grace_s)
            with contextlib.suppress(Exception):
                await sub.unsubscribe()

    async def _fetch(
        self, sub: JetStreamContext.PullSubscription, n: int, stop: asyncio.Event
    ) -> list[Msg]:
        try:
            return await sub.fetch(n, timeout=FETCH_WAIT_S)
        except TimeoutError:
            return []
        except Exception as exc:  # NATS reconnecting: wait, then ask again
            log.warning("fetch failed", extra={"error": str(exc)})
            await sleep_or_stop(stop, FETCH_WAIT_S)
            return []

    def _start(self, msg: Msg) -> None:
        task = asyncio.create_task(self.handle(msg))
        self.tasks.add(task)
        IN_FLIGHT.set(len(self.tasks))

        def done(t: asyncio.Task[None]) -> None:
            self.tasks.discard(t)
            IN_FLIGHT.set(len(self.tasks))
            self._slot_free.set()

        task.add_done_callback(done)

    async def _drain(self, grace_s: float) -> None:
        """Let in-flight commands finish; past the grace, give them back."""
        if not self.tasks:
            return
        _, pending = await asyncio.wait(set(self.tasks), timeout=grace_s)
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)

    async def handle(self, msg: Msg) -> None:
        try:
            cmd = decode_command(msg.data)
            if is_reconcile_subject(msg.subject) and not isinstance(cmd, ReconcileStore):
                # The watcher may publish there only: it must never create or delete.
                raise ValueError(f"a {type(cmd).__name__} on a reconcile subject")
        except (msgspec.DecodeError, msgspec.ValidationError, ValueError) as exc:
            # Never valid, never will be: do not let it loop.
            log.error(
                "undecodable command dropped", extra={"subject": msg.subject, "error": str(exc)}
            )
            OUTCOMES.labels("undecodable").inc()
            await msg.term()
            return
        lock = self.locks(cmd.store)
        if not await lock.acquire():
            log.info("store busy: retried shortly", extra={"store": cmd.store})
            OUTCOMES.labels("busy").inc()
            await msg.nak(delay=1.0 + random.uniform(0, 1.0))
            return
        heartbeat = asyncio.create_task(_heartbeat(msg))
        try:
            await self._locked(cmd, msg, lock)
        finally:
            heartbeat.cancel()
            await lock.release()

    async def _locked(self, cmd: Command, msg: Msg, lock: StoreLock) -> None:
        newest = await self.generations.newest(cmd.store)
        # A backup changes no generation: it runs whatever the store's is now.
        skip = (
            None if isinstance(cmd, BackupStore) else newest.skips(cmd.generation, cmd.command_id)
        )
        if skip is not None:
            log.info(
                f"{skip} command dropped",
                extra={
                    "store": cmd.store,
                    "generation": cmd.generation,
                    "newest": newest.generation,
                },
            )
            OUTCOMES.labels(skip).inc()
            await msg.ack_sync()
            return
        try:
            await _unless_lost(self._execute(cmd), lock)
        except asyncio.CancelledError:
            with contextlib.suppress(Exception):
                await msg.nak()  # shutting down: another replica takes it now
            raise
        except LockLostError:
            OUTCOMES.labels("lock-lost").inc()
            await msg.nak(delay=1.0)
        except PermanentError as exc:
            await self._failed(cmd, msg, str(exc))
        except Exception as exc:
            await self._retry(cmd, msg, classify(exc, "provision"))
        else:
            if not isinstance(cmd, BackupStore):
                await self.generations.record(cmd.store, Handled(cmd.generation, cmd.command_id))
            OUTCOMES.labels("done").inc()
            await msg.ack_sync()

    async def _execute(self, cmd: Command) -> None:
        if isinstance(cmd, CreateStore):
            await self.provisioner.create(cmd)
            await self.healer.remember(cmd)
        elif isinstance(cmd, DeleteStore):
            await self.provisioner.delete(cmd)
            await self.healer.forget(cmd.store)
        elif isinstance(cmd, BackupStore):
            await self.provisioner.backup(cmd)
        else:
            await self.healer.reconcile(cmd)

    async def _failed(self, cmd: Command, msg: Msg, message: str) -> None:
        log.warning("command failed", extra={"store": cmd.store, "error": message})
        if isinstance(cmd, BackupStore):  # a failed backup, not a failed store
            await self.provisioner.progress.step(cmd, "backup", StepState.FAILED, message)
            await self.provisioner.backup_failed(cmd, message)
            OUTCOMES.labels("failed").inc()
            await msg.ack_sync()
            return
        await self.provisioner.progress.step(
            cmd, _step(cmd), StepState.FAILED, message, phase=Phase.FAILED
        )
        await self.generations.record(cmd.store, Handled(cmd.generation, cmd.command_id))
        OUTCOMES.labels("failed").inc()
        await msg.ack_sync()

    async def _retry(self, cmd: Command, msg: Msg, error: ProvisionError) -> None:
        if isinstance(error, PermanentError):
            await self._failed(cmd, msg, str(error))
            return
        attempt = msg.metadata.num_delivered or 1
        delay = RETRY.delay(attempt)
        log.info(
            "command will be retried",
            extra={"store": cmd.store, "attempt": attempt, "delay_s": delay, "error": str(error)},
        )
        OUTCOMES.labels("retry").inc()
        with contextlib.suppress(Exception):  # NATS may be the thing that is down
            await self.provisioner.progress.step(
                cmd, _step(cmd), StepState.RETRYING, f"{error}; retrying in {delay:.0f}s"
            )
        await msg.nak(delay=delay)


def _step(cmd: Command) -> str:
    if isinstance(cmd, ReconcileStore):
        return "restore"
    if isinstance(cmd, BackupStore):
        return "backup"
    return "provision" if isinstance(cmd, CreateStore) else "delete"


async def _heartbeat(msg: Msg) -> None:
    while True:
        await asyncio.sleep(HEARTBEAT_S)
        with contextlib.suppress(Exception):
            await msg.in_progress()


async def _unless_lost(work: Coroutine[Any, Any, None], lock: StoreLock) -> None:
    task = asyncio.create_task(work)
    await first_done(task, lock.lost.wait())
    if task.cancelled():
        raise LockLostError()
    await task
