"""Writing one shared, already framed websocket message straight to a socket.

The hub fans an event out to every socket of its tenant in one synchronous loop.
Going through each session's writer task and the ASGI ``send`` costs, per socket
and frame, a task wake-up, two timers, the ASGI layers and the websocket framing
(``docs/benchmarks.md``, "Live latency"). A server-to-client text frame is the
same bytes for every socket (no mask, no per-socket compression: see
``services/runtime/http.py``), so the hub frames it once and writes those bytes
to each caught-up socket's transport: one ``transport.write`` per socket.

This needs uvicorn's websocket protocol object (its transport and its websocket
state), which only the ASGI ``send`` callable uvicorn passes to the app leads to.
Under any other server ``direct_writer`` returns None and every frame goes the
awaited ASGI way, which is also the way for catch-up and for sockets that fall
behind.
"""

from typing import Final

from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol
from websockets.frames import Frame, Opcode
from websockets.protocol import State

# Where the app puts a websocket session's DirectWriter (or None) in the ASGI scope.
DIRECT_SCOPE_KEY: Final = "urumi.direct"


def text_frame(payload: bytes) -> bytes:
    """One unmasked, unfragmented text frame (a server's frame) around ``payload``."""
    return Frame(Opcode.TEXT, payload).serialize(mask=False)


class DirectWriter:
    """One socket's transport, written to without awaiting."""

    __slots__ = ("_conn", "_high", "_transport")

    def __init__(self, protocol: WebSocketsSansIOProtocol) -> None:
        self._transport = protocol.transport
        self._conn = protocol.conn
        # Above this asyncio pauses uvicorn's writes (its `send` then waits): a
        # client that is not keeping up goes back to the session's bounded queue.
        self._high = self._transport.get_write_buffer_limits()[1]

    def write(self, frame: bytes) -> bool:
        """False, writing nothing, when the socket is closing or is behind."""
        transport = self._transport
        if (
            self._conn.state is not State.OPEN
            or transport.is_closing()
            or transport.get_write_buffer_size() > self._high
        ):
            return False
        transport.write(frame)
        return True


def direct_writer(asgi_send: object) -> DirectWriter | None:
    """The direct way to the socket behind uvicorn's ASGI ``send``, if it is one."""
    protocol = getattr(asgi_send, "__self__", None)
    if isinstance(protocol, WebSocketsSansIOProtocol):
        return DirectWriter(protocol)
    return None
