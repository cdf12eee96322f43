"""The hub's fan-out and a socket's sink, without NATS: messages are built by hand."""

import asyncio
from datetime import UTC, datetime
from typing import Any, cast

import pytest
from nats.aio.msg import Msg
from nats.js import JetStreamContext
from websockets.client import ClientProtocol
from websockets.frames import Frame, Opcode
from websockets.protocol import State
from websockets.uri import parse_uri

from services.contracts import subjects, wire
from services.contracts.events import Event, KubeEvent, StoreStatus
from services.contracts.frames import EventFrame, decode_frame, encode_frame, raw_event_frame
from services.contracts.phases import Phase
from services.notifier.direct import DirectWriter, text_frame
from services.notifier.hub import ClientTooSlowError, Hub, Sink

NOW = datetime(2025, 1, 1, tzinfo=UTC)


def status(tenant: str, phase: Phase = Phase.READY) -> StoreStatus:
    return StoreStatus(tenant, "shop", phase, 1, NOW)


def message(seq: int, event: Event, data: bytes | None = None) -> Msg:
    kind = subjects.EventKind.STATUS if isinstance(event, StoreStatus) else subjects.EventKind.KUBE
    reply = f"$JS.ACK.URUMI_EVENTS.hub.1.{seq}.{seq}.1700000000000000000.0"
    return Msg(
        cast(Any, None),
        subject=subjects.event_subject(event.tenant, event.store, kind),
        reply=reply,
        data=wire.encode(event) if data is None else data,
    )


def drain(sink: Sink) -> list[int]:
    seqs = []
    while sink._frames:
        seqs.append(sink._frames.popleft()[0])
    return seqs


@pytest.mark.parametrize(
    "event",
    [
        status("acme"),
        KubeEvent("acme", "shop", "store-shop", "Pod", "web-0", "Normal", "Pulled", "ü ✓", NOW),
    ],
)
def test_raw_event_frame_is_the_encoded_frame(event: Event) -> None:
    raw = raw_event_frame(9, wire.encode(event))
    assert raw == encode_frame(EventFrame(seq=9, event=event))
    assert decode_frame(raw) == EventFrame(seq=9, event=event)


async def test_fan_out_by_tenant_after_the_target() -> None:
    hub = Hub(cast(JetStreamContext, None))
    hub.position = 10
    with hub.register("acme", 8) as a, hub.register("acme", 8) as b:
        with hub.register("acme2", 8) as lookalike:
            assert a.target == b.target == 10
            await hub._on_msg(message(11, status("acme")))
            await hub._on_msg(message(12, status("other")))
            await hub._on_msg(message(13, status("acme2")))
            await hub._on_msg(message(11, status("acme")))  # a repeat: dropped
            await hub._on_msg(message(14, status("acme"), data=b'{"type":"from-the-future"}'))
            with hub.register("acme", 8) as late:
                assert late.target == 14
                await hub._on_msg(message(15, status("acme", Phase.DEGRADED)))
            assert drain(late) == [15]
        assert drain(lookalike) == [13]
        assert hub.position == 15
        # Every socket gets the very same string, built once.
        assert all(x[1] is y[1] for x, y in zip(a._frames, b._frames, strict=True))
        assert decode_frame(a._frames[0][1]) == EventFrame(seq=11, event=status("acme"))
        assert drain(a) == drain(b) == [11, 15]
    assert hub._tenants == {}


async def test_sink_overflow_closes_and_wakes_a_waiting_writer() -> None:
    sink = Sink(0, 2)
    waiter = asyncio.create_task(sink.get())
    await asyncio.sleep(0)
    sink.offer(1, "a", b"", 0.0)
    assert await waiter == (1, "a")
    waiter = asyncio.create_task(sink.get())
    await asyncio.sleep(0)
    for seq in (2, 3, 4):
        sink.offer(seq, "x", b"", 0.0)
    assert sink.overflow.is_set()
    # A full queue, then one more: the writer raises rather than send stale frames.
    with pytest.raises(ClientTooSlowError):
        await waiter
    with pytest.raises(ClientTooSlowError):
        await sink.get()


async def test_sink_get_is_cancel_safe() -> None:
    sink = Sink(0, 4)
    with pytest.raises(TimeoutError):
        async with asyncio.timeout(0.01):
            await sink.get()
    sink.offer(1, "a", b"", 0.0)
    assert await sink.get() == (1, "a")


class FakeDirect:
    """A DirectWriter stand-in: records what it is given, or refuses (socket behind)."""

    def __init__(self) -> None:
        self.written: list[bytes] = []
        self.refuse = False

    def write(self, frame: bytes) -> bool:
        if self.refuse:
            return False
        self.written.append(frame)
        return True


def direct_sink(target: int = 0, maxsize: int = 4) -> tuple[Sink, FakeDirect]:
    sink, direct = Sink(target, maxsize), FakeDirect()
    sink.go_direct(cast(DirectWriter, direct))
    return sink, direct


def test_direct_sink_writes_at_once_and_skips_what_was_sent() -> None:
    sink, direct = direct_sink()
    sink.sent = 5  # a snapshot cut at 5
    assert not sink.offer(5, "old", b"old", 1.0)
    assert sink.offer(6, "new", b"new", 2.0)
    assert direct.written == [b"new"]
    assert (sink.sent, sink.sent_at) == (6, 2.0)
    assert not sink._frames


async def test_a_socket_behind_queues_until_the_writer_has_caught_up() -> None:
    sink, direct = direct_sink()
    direct.refuse = True
    assert not sink.offer(1, "a", b"a", 0.0)
    direct.refuse = False
    # Once refused, frames queue behind the first (in order) even if the socket
    # could take them now, until the writer has emptied the queue.
    assert not sink.offer(2, "b", b"b", 0.0)
    sink.go_direct(cast(DirectWriter, direct))
    assert not sink.offer(3, "c", b"c", 0.0)
    assert [await sink.get() for _ in range(3)] == [(1, "a"), (2, "b"), (3, "c")]
    assert direct.written == []
    sink.sent = 3
    sink.go_direct(cast(DirectWriter, direct))
    assert sink.offer(4, "d", b"d", 0.0)
    assert direct.written == [b"d"]


def test_a_socket_behind_a_whole_queue_overflows() -> None:
    sink, direct = direct_sink(maxsize=2)
    direct.refuse = True
    for seq in (1, 2, 3):
        sink.offer(seq, "x", b"x", 0.0)
    assert sink.overflow.is_set()
    # The queue was dropped, not sent: writing on past that gap would hide it.
    direct.refuse = False
    sink.go_direct(cast(DirectWriter, direct))
    assert not sink.offer(4, "y", b"y", 0.0)
    assert direct.written == []


async def test_hub_frames_each_event_once_for_direct_sockets() -> None:
    hub = Hub(cast(JetStreamContext, None))
    with hub.register("acme", 8) as a, hub.register("acme", 8) as b:
        da, db = FakeDirect(), FakeDirect()
        a.go_direct(cast(DirectWriter, da))
        b.go_direct(cast(DirectWriter, db))
        await hub._on_msg(message(1, status("acme")))
    assert da.written[0] is db.written[0]
    assert da.written == [text_frame(raw_event_frame(1, wire.encode(status("acme"))).encode())]


@pytest.mark.parametrize("size", [0, 125, 126, 65535, 65536])
def test_text_frame_parses_as_a_websocket_client_reads_it(size: int) -> None:
    text = "é" * (size // 2) + "x" * (size % 2)
    client = ClientProtocol(parse_uri("ws://example/"), state=State.OPEN)
    client.receive_data(text_frame(text.encode()))
    [frame] = client.events_received()
    assert isinstance(frame, Frame)
    assert (frame.opcode, frame.fin, bytes(frame.data).decode()) == (Opcode.TEXT, True, text)
