"""The process's one live feed: a single ordered consumer, fanned out by tenant.

One ephemeral ordered JetStream consumer on ``urumi.evt.>`` per notifier process,
started at the stream's end. Each message's subject names its tenant; its ``event``
frame is built once, as text, around the message's bytes, and framed once as a
websocket message; the same objects go to every registered socket of that tenant
(a dict tenant → set of sinks). A socket whose session has caught up and keeps up
gets the framed bytes written straight to its transport (``direct.py``): one
write per socket per event and nothing else. Any other socket gets one deque
append, and its session's writer sends it later.

A sink registers with ``position`` as its ``target``: every event after
``target`` reaches the sink, in order, once; everything up to ``target`` is the
session's catch-up (its snapshot / ``after`` replay, ``catchup.py``). Registering
and fanning out never await, so no event can fall between the two.

After a NATS restart nats-py recreates the ordered consumer from the last stream
sequence it delivered + 1, so the shared feed resumes without a gap; a sequence
not above ``position`` is dropped, so it never repeats either. Replicas each have
their own hub and share nothing.
"""

import asyncio
import logging
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Final

import msgspec
from nats.aio.msg import Msg
from nats.js import JetStreamContext
from nats.js.api import ConsumerConfig, DeliverPolicy

from services.contracts import subjects, wire
from services.contracts.frames import raw_event_frame
from services.contracts.streams import EVENTS
from services.notifier.direct import DirectWriter, text_frame
from services.notifier.metrics import DIRECT_WRITES, EVENT_FRAMES
from services.notifier.snapshot import stream_bounds

log = logging.getLogger(__name__)

# The server removes the consumer this long after the process is gone.
INACTIVE_THRESHOLD_S: Final = 30.0


class ClientTooSlowError(Exception):
    """The client fell a whole queue behind."""


class Sink:
    """One socket's way in from the hub: written directly, or a bounded queue.

    ``offer`` never waits. While the session has a ``DirectWriter`` installed
    (``go_direct``: caught up, nothing queued) a frame is written to the socket at
    once. Otherwise, or when the socket is closing or behind, it is queued as
    ``(seq, frame text)`` for the session's writer, and the direct way stays off
    until the writer has emptied the queue again: frames leave in order. A full
    queue means the client (or its catch-up) is a whole queue behind, and the
    socket is closed as too slow; what is queued is dropped and the client resumes
    from its last seq.
    """

    def __init__(self, target: int, maxsize: int) -> None:
        self.target = target
        # The last seq written to the socket, and when (loop time): the writer's
        # pings and the resume hint in a closing reason.
        self.sent = 0
        self.sent_at = 0.0
        self._maxsize = maxsize
        self._frames: deque[tuple[int, str]] = deque()
        self._ready = asyncio.Event()
        self._direct: DirectWriter | None = None
        self.overflow = asyncio.Event()

    def go_direct(self, writer: DirectWriter) -> None:
        """Take frames straight to the socket from now on, if none wait in the queue.

        Never after an overflow: the queue it dropped is a gap the socket must not
        skip over (the session closes it, and the client resumes from its last seq).
        """
        if not self._frames and not self.overflow.is_set():
            self._direct = writer

    def offer(self, seq: int, text: str, framed: bytes, now: float) -> bool:
        """True when written to the socket now; otherwise queued (or dropped)."""
        direct = self._direct
        if direct is not None:
            if seq <= self.sent:  # a snapshot cut beyond the hub's position has it
                return False
            if direct.write(framed):
                self.sent, self.sent_at = seq, now
                return True
            self._direct = None
        if self.overflow.is_set():
            return False
        if len(self._frames) >= self._maxsize:
            self._frames.clear()
            self.overflow.set()
            self._ready.set()
            return False
        self._frames.append((seq, text))
        self._ready.set()
        return False

    async def get(self) -> tuple[int, str]:
        """The next queued frame; cancel-safe (nothing is taken until it returns)."""
        while not self._frames:
            if self.overflow.is_set():
                raise ClientTooSlowError
            self._ready.clear()
            await self._ready.wait()
        if self.overflow.is_set():
            raise ClientTooSlowError
        return self._frames.popleft()


class Hub:
    def __init__(self, js: JetStreamContext) -> None:
        self._js = js
        self._tenants: dict[str, set[Sink]] = {}
        self._sub: JetStreamContext.PushSubscription | None = None
        self._lock = asyncio.Lock()
        # The stream sequence of the last event fanned out (or skipped).
        self.position = 0

    async def start(self) -> None:
        """Subscribe once, at the stream's end; later calls return at once."""
        if self._sub is not None:
            return
        async with self._lock:
            if self._sub is not None:
                return
            bounds = await stream_bounds(self._js)
            self.position = bounds.last_seq
            self._sub = await self._js.subscribe(
                subjects.EVENTS_ALL,
                stream=EVENTS.name,
                cb=self._on_msg,
                ordered_consumer=True,
                config=ConsumerConfig(
                    deliver_policy=DeliverPolicy.BY_START_SEQUENCE,
                    opt_start_seq=bounds.last_seq + 1,
                    inactive_threshold=INACTIVE_THRESHOLD_S,
                ),
            )

    async def close(self) -> None:
        sub, self._sub = self._sub, None
        if sub is not None:
            try:
                await sub.unsubscribe()
            except Exception as exc:
                log.debug("hub unsubscribe failed", extra={"error": str(exc)})

    @contextmanager
    def register(self, tenant: str, maxsize: int) -> Iterator[Sink]:
        """A sink that gets every event of ``tenant`` after ``sink.target``."""
        sink = Sink(self.position, maxsize)
        self._tenants.setdefault(tenant, set()).add(sink)
        try:
            yield sink
        finally:
            sinks = self._tenants.get(tenant)
            if sinks is not None:
                sinks.discard(sink)
                if not sinks:
                    del self._tenants[tenant]

    async def _on_msg(self, msg: Msg) -> None:
        # No await in here: registering and fanning out stay atomic.
        seq = msg.metadata.sequence.stream
        if seq <= self.position:
            return
        self.position = seq
        sinks = self._tenants.get(_tenant(msg.subject))
        if not sinks:
            return
        try:
            # Once per event, not per socket: skip what a client could not decode.
            wire.decode_bus_event(msg.data)
        except msgspec.DecodeError:
            log.warning("undecodable event skipped", extra={"subject": msg.subject})
            return
        text = raw_event_frame(seq, msg.data)
        framed = text_frame(text.encode())
        now = asyncio.get_running_loop().time()
        written = 0
        for sink in sinks:
            written += sink.offer(seq, text, framed, now)
        EVENT_FRAMES.inc(written)
        DIRECT_WRITES.inc(written)  # offer() is True only for a direct write


def _tenant(subject: str) -> str:
    # urumi.evt.<tenant>.<store>.<kind>
    parts = subject.split(".", 3)
    return parts[2] if len(parts) > 3 else ""
