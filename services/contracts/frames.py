"""The notifier's websocket frame protocol (version 1), shared by the notifier and
its clients (`urumi stores watch`, the dashboard's `js/live.js` twin).

Connect: ``GET /ws?ticket=<ticket>[&after=<stream seq>]`` where the ticket comes from
the gateway's ``POST /api/v1/tickets``. Every frame is one JSON text message with a
``type`` field. The server sends:

``hello``     always first: ``{"type":"hello","version":1,"tenant":"acme",
              "seq":N,"resumed":bool,"ping_interval_s":20.0}``. ``seq`` is the
              stream position the session starts after. ``resumed`` is true when
              ``after`` was honoured: every event after it follows, in order, once,
              and no snapshot is sent. It is false for a fresh connection, or when
              ``after`` is older than what the stream still keeps (or newer than its
              end): then a ``snapshot`` follows and the client must replace its state.
``snapshot``  ``{"type":"snapshot","seq":N,"statuses":[StoreStatus…]}``: the last
              status of every store of the tenant that is not deleted, as of stream
              position N. Events after N follow as ``event`` frames.
``event``     ``{"type":"event","seq":S,"event":StoreStatus|StoreProgress|KubeEvent|DomainStatus}``;
              ``seq`` is the JetStream stream sequence, strictly increasing within a
              connection. Remember the last one and reconnect with ``after=<seq>``.
``ping``      ``{"type":"ping","seq":S}`` every ``ping_interval_s``; ``seq`` is the last
              event sequence sent. A client that hears nothing for two intervals
              should treat the connection as dead and reconnect.
``error``     ``{"type":"error","code":4008,"message":"…"}`` just before the server
              closes the socket with that code.

Close codes: 4001 ticket missing, invalid or expired (get a new ticket); 4400 bad
``after``; 4008 client too slow (reconnect with ``after=<last seq>``); 1012 the
notifier is restarting (reconnect with ``after``); 1011 the event bus failed
(reconnect with ``after``). Messages from the client are ignored.
"""

from typing import Final

import msgspec

from services.contracts.events import StoreStatus, TenantEvent

VERSION: Final = 1

CLOSE_UNAUTHORIZED: Final = 4001
CLOSE_BAD_REQUEST: Final = 4400
CLOSE_TOO_SLOW: Final = 4008
CLOSE_RESTARTING: Final = 1012
CLOSE_INTERNAL: Final = 1011


class Hello(msgspec.Struct, frozen=True, tag="hello", tag_field="type"):
    tenant: str
    seq: int
    resumed: bool
    ping_interval_s: float
    version: int = VERSION


class Snapshot(msgspec.Struct, frozen=True, tag="snapshot", tag_field="type"):
    seq: int
    statuses: list[StoreStatus]


class EventFrame(msgspec.Struct, frozen=True, tag="event", tag_field="type"):
    seq: int
    event: TenantEvent


class Ping(msgspec.Struct, frozen=True, tag="ping", tag_field="type"):
    seq: int


class Error(msgspec.Struct, frozen=True, tag="error", tag_field="type"):
    code: int
    message: str


Frame = Hello | Snapshot | EventFrame | Ping | Error

_encoder: Final = msgspec.json.Encoder()
_decoder: Final = msgspec.json.Decoder(Frame)


def encode_frame(frame: Frame) -> str:
    return _encoder.encode(frame).decode()


def raw_event_frame(seq: int, event_json: bytes) -> str:
    """The ``event`` frame of an event as it is on the bus, without decoding it.

    Byte for byte what ``encode_frame(EventFrame(seq, event))`` gives when
    ``event_json`` is ``wire.encode(event)``: built once per event, sent to every
    socket of the tenant.
    """
    return f'{{"type":"event","seq":{seq},"event":{event_json.decode()}}}'


def decode_frame(data: str | bytes) -> Frame:
    frame: Frame = _decoder.decode(data)
    return frame


def too_slow_message(last_seq: int) -> str:
    return f"too slow; reconnect with after={last_seq}"


def parse_after(raw: str | None) -> int | None:
    """The ``after`` query value: None when absent; ValueError when not a seq."""
    if raw is None or raw == "":
        return None
    if not raw.isdigit() or len(raw) > 19:
        raise ValueError("after must be a stream sequence (a non-negative integer)")
    return int(raw)


def resume_start(after: int | None, first_seq: int, last_seq: int) -> int | None:
    """The stream sequence to replay from, or None when a snapshot is needed.

    A resume is exact only if nothing after ``after`` has aged out of the stream
    (``after >= first_seq - 1``) and ``after`` is not beyond the stream's end
    (which would mean the stream was recreated and the client's numbers are stale).
    """
    if after is None or after > last_seq:
        return None
    if after < first_seq - 1:
        return None
    return after + 1
