"""One websocket connection: authenticate, start (snapshot or resume), then stream.

The frame protocol is in ``services.contracts.frames`` and ``docs/websocket.md``.

Hand-over from catch-up to the shared feed: the session registers with the hub
first, which fixes ``sink.target`` (the hub's position then) and delivers every
event after it to the sink. Only then is the start chosen (snapshot cut at the
stream's end, or ``after + 1``) and ``catchup.replay`` sends the tenant's events
from the start through ``target``. Then the sink's frames follow, skipping those
at or below the last seq sent (a snapshot cut beyond ``target`` already covers
them). Replay covers ``[start, target]``, the sink ``(target, ∞)``: no gap, no
repeat, in order. Once that queue is empty the writer lets the hub write to the
socket directly (``Sink.go_direct``), and it wakes only for pings or when the
socket falls behind and frames queue up again.
"""

import asyncio
import logging
from contextlib import aclosing
from typing import Any, NamedTuple, cast

from litestar import WebSocket
from nats.errors import Error as NatsError
from nats.js import JetStreamContext

from services.contracts.frames import (
    CLOSE_BAD_REQUEST,
    CLOSE_INTERNAL,
    CLOSE_RESTARTING,
    CLOSE_TOO_SLOW,
    CLOSE_UNAUTHORIZED,
    Error,
    Frame,
    Hello,
    Ping,
    Snapshot,
    encode_frame,
    parse_after,
    resume_start,
    too_slow_message,
)
from services.notifier.catchup import replay
from services.notifier.direct import DIRECT_SCOPE_KEY, DirectWriter
from services.notifier.hub import ClientTooSlowError, Hub, Sink
from services.notifier.metrics import CLOSES, EVENT_FRAMES, FRAMES, SOCKETS
from services.notifier.settings import NotifierSettings
from services.notifier.snapshot import last_statuses, stream_bounds
from services.runtime.first import first_done
from services.runtime.tickets import TicketError, verify_ticket

log = logging.getLogger(__name__)


class Ending(NamedTuple):
    code: int
    message: str
    cause: str


def _finished(task: "asyncio.Task[Any]") -> bool:
    return task.done() and not task.cancelled()


class StalledError(Exception):
    """One frame could not be written for a whole stall interval."""


class Session:
    def __init__(
        self,
        socket: WebSocket[Any, Any, Any],
        js: JetStreamContext,
        hub: Hub,
        settings: NotifierSettings,
        stop: asyncio.Event,
    ) -> None:
        self.socket = socket
        self.js = js
        self.hub = hub
        self.settings = settings
        self.stop = stop
        self._tenant = ""
        self._after: int | None = None
        self._direct: DirectWriter | None = cast(dict[str, Any], socket.scope).get(DIRECT_SCOPE_KEY)
        # A client that cannot take one frame in two ping intervals is not reading.
        self.stall_s = 2 * settings.ping_interval_s

    async def run(self) -> None:
        await self.socket.accept()
        SOCKETS.inc()
        try:
            if not await self._authorize():
                return
            await self.hub.start()
            with self.hub.register(self._tenant, self.settings.socket_queue) as sink:
                start = await self._open(sink)
                cause = await self._stream(sink, start)
            # Closed after unregistering: a stuck client holds nothing of the hub's,
            # and ``sink.sent`` is final.
            if cause is not None:
                await self._close(*_ending(cause, sink.sent))
        except Exception:
            log.exception("websocket session failed", extra={"tenant": self._tenant})
            reason = "event bus unavailable; reconnect with after=<last seq>"
            await self._close(CLOSE_INTERNAL, reason, "internal")
        finally:
            SOCKETS.dec()

    async def _authorize(self) -> bool:
        """The tenant from the ticket and the ``after`` asked for; False once closed."""
        params = self.socket.query_params
        try:
            self._tenant = verify_ticket(self.settings.ticket_secret, params.get("ticket") or "")
        except TicketError as exc:
            await self._close(CLOSE_UNAUTHORIZED, str(exc), "unauthorized")
            return False
        try:
            self._after = parse_after(params.get("after"))
        except ValueError as exc:
            await self._close(CLOSE_BAD_REQUEST, str(exc), "bad_request")
            return False
        return True

    async def _open(self, sink: Sink) -> int:
        """Send hello (+ snapshot); the first seq the session still owes the client."""
        bounds = await stream_bounds(self.js)
        start = resume_start(self._after, bounds.first_seq, bounds.last_seq)
        interval = self.settings.ping_interval_s
        if start is not None:
            sink.sent = start - 1
            await self._send(Hello(self._tenant, sink.sent, True, interval))
        else:
            sink.sent = bounds.last_seq
            statuses = await last_statuses(self.js, self._tenant, bounds.last_seq)
            await self._send(Hello(self._tenant, sink.sent, False, interval))
            await self._send(Snapshot(seq=sink.sent, statuses=statuses))
            start = sink.sent + 1
        sink.sent_at = asyncio.get_running_loop().time()
        return start

    async def _stream(self, sink: Sink, start: int) -> str | None:
        """Run until the client leaves (None) or the server must close (the cause)."""
        writer = asyncio.create_task(self._write(sink, start))
        reader = asyncio.create_task(self._read())
        stopper = asyncio.create_task(self.stop.wait())
        # The writer may be stuck in a send to a client that stopped reading.
        overflow = asyncio.create_task(sink.overflow.wait())
        await first_done(writer, reader, stopper, overflow)
        if _finished(reader):
            CLOSES.labels("client").inc()
            return None
        if _finished(stopper):
            return "restart"
        exc = writer.exception() if _finished(writer) else None
        if _finished(overflow) or isinstance(exc, ClientTooSlowError | StalledError):
            log.info("closing slow client", extra={"tenant": self._tenant, "seq": sink.sent})
            return "too_slow"
        if isinstance(exc, NatsError):
            raise exc  # the catch-up's consumer failed: the bus, not the client (1011)
        # The socket failed under the writer: the client is gone.
        CLOSES.labels("client").inc()
        return None

    async def _write(self, sink: Sink, start: int) -> None:
        """Catch-up, then the hub's frames; a ping whenever nothing was sent for an
        interval.

        With the queue empty the hub writes to the socket itself (``go_direct``)
        and ``sink.get()`` only returns when the socket fell behind and frames were
        queued again. A timed-out get() loses nothing (Sink.get is cancel-safe), so
        no task is needed per frame.
        """
        async with aclosing(replay(self.js, self._tenant, start, sink.target)) as missed:
            async for seq, text in missed:
                await self._send_event(sink, seq, text)
        loop = asyncio.get_running_loop()
        interval = self.settings.ping_interval_s
        while True:
            if self._direct is not None:
                sink.go_direct(self._direct)
            quiet = loop.time() - sink.sent_at
            if quiet >= interval:
                await self._send(Ping(seq=sink.sent))
                sink.sent_at = loop.time()
                continue
            try:
                async with asyncio.timeout(interval - quiet):
                    seq, text = await sink.get()
            except TimeoutError:
                continue
            if seq > sink.sent:
                await self._send_event(sink, seq, text)

    async def _send_event(self, sink: Sink, seq: int, text: str) -> None:
        try:
            async with asyncio.timeout(self.stall_s):
                await self.socket.send_data(text)
        except TimeoutError:
            raise StalledError from None
        sink.sent, sink.sent_at = seq, asyncio.get_running_loop().time()
        EVENT_FRAMES.inc()

    async def _read(self) -> None:
        """Drain (and ignore) client messages until it disconnects."""
        while True:
            message = await self.socket.receive()
            if message["type"] == "websocket.disconnect":
                return

    async def _send(self, frame: Frame) -> None:
        try:
            async with asyncio.timeout(self.stall_s):
                await self.socket.send_data(encode_frame(frame))
        except TimeoutError:
            raise StalledError from None
        FRAMES.labels(type(frame).__name__.lower()).inc()

    async def _close(self, code: int, message: str, cause: str) -> None:
        CLOSES.labels(cause).inc()
        try:
            async with asyncio.timeout(self.stall_s):
                await self.socket.send_data(encode_frame(Error(code=code, message=message)))
                # Close reasons are limited to 123 bytes by RFC 6455.
                await self.socket.close(code, message[:120])
        except Exception as exc:
            # A client that stopped reading gets its TCP connection dropped instead.
            log.debug("close not delivered", extra={"error": str(exc)})


def _ending(cause: str, last_seq: int) -> Ending:
    if cause == "restart":
        reason = f"notifier restarting; reconnect with after={last_seq}"
        return Ending(CLOSE_RESTARTING, reason, cause)
    return Ending(CLOSE_TOO_SLOW, too_slow_message(last_seq), cause)
