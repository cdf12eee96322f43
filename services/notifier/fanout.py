"""One socket's live feed: an ordered JetStream consumer into a bounded queue.

Design: one ephemeral ordered consumer per socket, filtered by NATS itself on
``urumi.evt.<tenant>.>`` and started at the socket's own stream position.

Why per socket and not one subscription per tenant shared by its sockets: every
socket starts at a different place (a snapshot position, or the ``after`` it
resumes from), so a shared subscription would need a per-socket replay consumer
plus a seam where replay hands over to the shared feed without a gap or a repeat.
A per-socket consumer gives that ordering, once, for free; the ordered consumer
recreates itself from its last stream sequence after a NATS restart; and the
server holds no state we would lose when a replica dies. The cost, one ephemeral
in-memory consumer per socket on the NATS server, is small next to a socket.

Slow clients: frames go to a queue of ``socket_queue`` entries drained by the
socket's writer. While the consumer still has a backlog on the server (catching
up after ``after``, or a burst) the callback waits for room, and JetStream flow
control then holds the rest on the server, so a fast client catches up at full
speed in bounded memory. Once live, the callback never waits: a full queue means
the client reads slower than events arrive, and the socket is closed as too slow.
Each socket has its own subscription task, so nothing here can slow another.
"""

import asyncio
import logging
from typing import Final

import msgspec
from nats.aio.msg import Msg
from nats.js import JetStreamContext
from nats.js.api import ConsumerConfig, DeliverPolicy

from services.contracts import subjects, wire
from services.contracts.frames import EventFrame
from services.contracts.streams import EVENTS

log = logging.getLogger(__name__)

# A consumer whose socket is gone is removed by the server after this long.
INACTIVE_THRESHOLD_S: Final = 30.0


class ClientTooSlowError(Exception):
    """The client fell a whole queue behind while live."""


class Feed:
    """Events of one tenant from stream sequence ``start`` on, for one socket."""

    def __init__(self, js: JetStreamContext, tenant: str, start: int, maxsize: int) -> None:
        self._js = js
        self._tenant = tenant
        self._start = start
        self._queue: asyncio.Queue[EventFrame] = asyncio.Queue(maxsize)
        self._overflow = asyncio.Event()
        self._sub: JetStreamContext.PushSubscription | None = None

    async def __aenter__(self) -> "Feed":
        self._sub = await self._js.subscribe(
            subjects.tenant_events(self._tenant),
            stream=EVENTS.name,
            cb=self._on_msg,
            ordered_consumer=True,
            config=ConsumerConfig(
                deliver_policy=DeliverPolicy.BY_START_SEQUENCE,
                opt_start_seq=self._start,
                inactive_threshold=INACTIVE_THRESHOLD_S,
            ),
        )
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._sub is not None:
            try:
                await asyncio.shield(self._sub.unsubscribe())
            except Exception as exc_:
                log.debug("feed unsubscribe failed", extra={"error": str(exc_)})

    async def get(self) -> EventFrame:
        """The next frame; raises ClientTooSlowError as soon as the client fell behind.

        What is still queued is dropped: the client resumes from its last seq.
        Overflow needs a full queue, so a get() waiting on an empty one cannot miss
        it. No task per frame: this runs once per socket for every event, and
        bench/live_latency.py found two tasks and an asyncio.wait here to be a
        third of the notifier's time at 1,000 sockets.
        """
        if self._overflow.is_set():
            raise ClientTooSlowError
        frame = await self._queue.get()
        if self._overflow.is_set():
            raise ClientTooSlowError
        return frame

    async def wait_overflow(self) -> None:
        await self._overflow.wait()

    async def _on_msg(self, msg: Msg) -> None:
        if self._overflow.is_set():
            return
        frame = _frame(msg)
        if frame is None:
            return
        if msg.metadata.num_pending > 0:
            await self._queue.put(frame)
            return
        try:
            self._queue.put_nowait(frame)
        except asyncio.QueueFull:
            self._overflow.set()


def _frame(msg: Msg) -> EventFrame | None:
    try:
        event = wire.decode_event(msg.data)
    except msgspec.DecodeError:
        # A newer producer's event type, or garbage: skip rather than break the feed.
        log.warning("undecodable event skipped", extra={"subject": msg.subject})
        return None
    return EventFrame(seq=msg.metadata.sequence.stream, event=event)
