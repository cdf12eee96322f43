"""The hub's fan-out and a socket's sink, without NATS: messages are built by hand."""

import asyncio
from datetime import UTC, datetime
from typing import Any, cast

import pytest
from nats.aio.msg import Msg
from nats.js import JetStreamContext

from services.contracts import subjects, wire
from services.contracts.events import Event, KubeEvent, StoreStatus
from services.contracts.frames import EventFrame, decode_frame, encode_frame, raw_event_frame
from services.contracts.phases import Phase
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
