"""One active watcher: a lease held as a key in a NATS KV bucket with a TTL.

- acquire: `create(key)` succeeds only when no live value exists (none yet, the
  holder deleted it on shutdown, or the bucket's max age expired it);
- renew: every ttl/4, `update(key, last=revision)` (compare-and-swap): a
  renewal that finds another revision means someone else holds it now;
- a holder that cannot renew for ttl - margin steps down by itself, before a
  standby can see the key expire, so two actives overlap only by clock skew;
- a standby tries `create()` every second: it takes over at most
  ttl + 1 s (+ the server's expiry tick) after the holder's last renewal;
- a holder that stepped down while NATS was away takes its key back as soon as
  NATS answers, if the key still names it.
"""

import asyncio
import contextlib
import logging
import os
import socket
import time
import uuid

from nats.js.errors import KeyNotFoundError, KeyWrongLastSequenceError
from nats.js.kv import KeyValue

from services.runtime.shutdown import sleep_or_stop
from services.watcher import metrics

log = logging.getLogger(__name__)

KEY = "active"


def holder_id() -> str:
    return f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:8]}"


class Lease:
    def __init__(self, kv: KeyValue, ttl_s: float, holder: str | None = None) -> None:
        self.kv = kv
        self.ttl_s = ttl_s
        self.holder = holder or holder_id()
        self.changed = asyncio.Event()  # set on every gain or loss
        self.term = 0  # how many times this process became active
        self._revision: int | None = None
        self._renewed_at = 0.0
        self._last_ok = 0.0  # last KV round trip that worked, active or not

    @property
    def margin_s(self) -> float:
        return min(2.0, self.ttl_s / 4)

    def active(self) -> bool:
        fresh = time.monotonic() - self._renewed_at < self.ttl_s - self.margin_s
        return self._revision is not None and fresh

    def healthy(self) -> bool:
        """Talking to the bucket (as the active one or a standby)."""
        return time.monotonic() - self._last_ok < self.ttl_s

    async def run(self, stop: asyncio.Event) -> None:
        """Acquire or renew until `stop` (checked, not only cancelled: Python 3.11's
        wait_for inside nats-py can swallow a cancel that lands with a reply)."""
        while not stop.is_set():
            was = self.active()
            await self.step()
            if self.active() != was:
                self.changed.set()
            await sleep_or_stop(stop, self.ttl_s / 4 if self.active() else 1.0)

    async def step(self) -> None:
        try:
            if self._revision is None:
                await self._acquire()
            else:
                await self._renew()
        except (asyncio.CancelledError, KeyboardInterrupt):
            raise
        except Exception as exc:
            log.warning("lease round trip failed", extra={"error": str(exc)})
        if self._revision is not None and not self.active():
            self._lose("could not renew in time")

    async def _acquire(self) -> None:
        try:
            revision = await self.kv.create(KEY, self.holder.encode())
        except KeyWrongLastSequenceError:
            self._last_ok = time.monotonic()
            # Still our key from before an outage made us step down: nobody can have
            # taken it since, so take it back now rather than wait for it to expire.
            recovered = await self._still_ours()
            if recovered is None:
                return
            revision = recovered
        self._gain(revision)

    async def _renew(self) -> None:
        try:
            revision = await self.kv.update(KEY, self.holder.encode(), last=self._revision)
        except KeyWrongLastSequenceError:
            self._last_ok = time.monotonic()
            # A renewal that timed out here may still have reached the server (NATS
            # away, then back): the key moved on, but still names us.
            recovered = await self._still_ours()
            if recovered is None:
                self._lose("another watcher holds the lease")
                return
            revision = recovered
        self._gain(revision)

    async def _still_ours(self) -> int | None:
        """Renew from the key's current revision if it holds our id; None if not."""
        try:
            entry = await self.kv.get(KEY)
        except KeyNotFoundError:
            return None
        if entry.value != self.holder.encode() or entry.revision is None:
            return None
        try:
            return await self.kv.update(KEY, self.holder.encode(), last=entry.revision)
        except KeyWrongLastSequenceError:
            return None

    def _gain(self, revision: int) -> None:
        now = time.monotonic()
        if self._revision is None:
            self.term += 1
            log.info("lease acquired: active", extra={"holder": self.holder, "term": self.term})
        self._revision, self._renewed_at, self._last_ok = revision, now, now
        metrics.ACTIVE.set(1)

    def _lose(self, why: str) -> None:
        log.warning("lease lost: standby", extra={"holder": self.holder, "why": why})
        self._revision = None
        metrics.ACTIVE.set(0)
        self.changed.set()

    async def release(self) -> None:
        """On a clean stop: delete the key so a standby takes over at once."""
        if self._revision is None:
            return
        revision, self._revision = self._revision, None
        metrics.ACTIVE.set(0)
        with contextlib.suppress(Exception):
            await self.kv.delete(KEY, last=revision)
