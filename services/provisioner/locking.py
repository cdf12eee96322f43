"""Per-store mutual exclusion across replicas, and the newest command handled.

Both live in NATS KV: `create` takes a lock only if nobody holds it, and
`update(..., last=rev)` (compare-and-swap) refreshes it only while it is still
ours. A holder that dies stops refreshing, and the bucket TTL frees the key.
"""

import asyncio
import contextlib
import logging
import time
from dataclasses import dataclass
from typing import Final

from nats.js.errors import APIError, KeyNotFoundError, KeyWrongLastSequenceError
from nats.js.kv import KeyValue

from services.contracts.streams import PROVISIONER_LOCKS

log = logging.getLogger(__name__)

LOCK_TTL_S: Final = PROVISIONER_LOCKS.ttl_s
REFRESH_S: Final = LOCK_TTL_S / 3
WRONG_LAST_SEQUENCE: Final = 10071  # JetStream's error code for a failed compare-and-swap


class StoreLock:
    """One holder's lock on one store; `lost` is set if it stops being ours."""

    def __init__(self, kv: KeyValue, store: str, owner: str) -> None:
        self.kv = kv
        self.store = store
        self.owner = owner.encode()
        self.lost = asyncio.Event()
        self._rev = 0
        self._refresher: asyncio.Task[None] | None = None
        self._released = False

    async def acquire(self) -> bool:
        """Take the lock now, or return False when another holder has it."""
        try:
            self._rev = await self.kv.create(self.store, self.owner)
        except KeyWrongLastSequenceError:
            return False
        self._refresher = asyncio.create_task(self._refresh(), name=f"lock-{self.store}")
        return True

    async def _refresh(self) -> None:
        confirmed = time.monotonic()
        # Not `while True`: Python 3.11's wait_for (inside nats-py's requests) can
        # swallow a cancel that lands as the reply arrives, and a refresher that
        # outlived its release kept a store locked for good (found by the NATS drill).
        while not self._released:
            await asyncio.sleep(REFRESH_S)
            if self._released:
                return
            try:
                self._rev = await self.kv.update(self.store, self.owner, last=self._rev)
                confirmed = time.monotonic()
            except KeyWrongLastSequenceError:
                if await self._still_ours():
                    confirmed = time.monotonic()
                    continue
                log.warning("store lock taken over", extra={"store": self.store})
                self.lost.set()
                return
            except Exception as exc:  # NATS briefly away: keep trying until the TTL
                if time.monotonic() - confirmed >= LOCK_TTL_S:
                    log.warning("store lock expired", extra={"store": self.store})
                    self.lost.set()
                    return
                log.info(
                    "store lock refresh failed", extra={"store": self.store, "error": str(exc)}
                )

    async def _still_ours(self) -> bool:
        """After a refresh that timed out but was applied, the key holds our id at a
        newer revision: adopt it rather than give up a lock that is still ours."""
        try:
            entry = await self.kv.get(self.store)
        except Exception:
            return False
        if entry.value != self.owner or entry.revision is None:
            return False
        self._rev = entry.revision
        return True

    async def release(self) -> None:
        self._released = True
        if self._refresher is not None:
            self._refresher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._refresher
        if self._rev and not self.lost.is_set():
            with contextlib.suppress(Exception):
                await self._delete_ours()
        self._rev = 0

    async def _delete_ours(self) -> None:
        """Only our revision: never delete a lock someone else took since. A refresh
        that landed unanswered left us an old revision: adopt the newer one first,
        or the store stays locked until the TTL."""
        try:
            await self.kv.delete(self.store, last=self._rev)
        except APIError as exc:  # nats-py's delete does not map it to KeyWrongLastSequence
            if exc.err_code != WRONG_LAST_SEQUENCE or not await self._still_ours():
                raise
            await self.kv.delete(self.store, last=self._rev)


@dataclass(frozen=True)
class Handled:
    """The newest command handled for a store (applied, deleted, or failed)."""

    generation: int = 0
    command_id: str = ""

    @classmethod
    def parse(cls, value: bytes | None) -> "Handled":
        generation, _, command_id = (value or b"0").decode().partition(" ")
        return cls(int(generation), command_id)

    def encode(self) -> bytes:
        return f"{self.generation} {self.command_id}".encode()

    def skips(self, generation: int, command_id: str) -> str | None:
        """Why a command need not run: `stale` (a newer one was handled) or
        `duplicate` (this very one was: a redelivery after its ack was lost)."""
        if generation < self.generation:
            return "stale"
        if (generation, command_id) == (self.generation, self.command_id):
            return "duplicate"
        return None


class Generations:
    """The newest handled command per store, in a KV bucket without TTL."""

    def __init__(self, kv: KeyValue) -> None:
        self.kv = kv

    async def newest(self, store: str) -> Handled:
        try:
            entry = await self.kv.get(store)
        except KeyNotFoundError:  # also covers a deleted key
            return Handled()
        return Handled.parse(entry.value)

    async def record(self, store: str, handled: Handled) -> None:
        """Raise the stored generation to `handled`'s (never lower it)."""
        while True:
            try:
                entry = await self.kv.get(store)
                current, rev = Handled.parse(entry.value), entry.revision or 0
            except KeyNotFoundError:
                current, rev = Handled(), 0
            if handled.generation <= current.generation:
                return
            try:
                if rev:
                    await self.kv.update(store, handled.encode(), last=rev)
                else:
                    await self.kv.create(store, handled.encode())
                return
            except KeyWrongLastSequenceError:
                continue  # raced another writer: re-read and decide again
