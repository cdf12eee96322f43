"""The seam between a socket's catch-up and the shared live feed, on real NATS.

Events published while a socket is catching up must reach it exactly once, in
order: none lost between the replay and the hub, none sent twice.
"""

import asyncio
from dataclasses import replace

import websockets
from nats.js import JetStreamContext
from websockets.asyncio.client import ClientConnection

from services.contracts.frames import (
    CLOSE_INTERNAL,
    CLOSE_TOO_SLOW,
    Error,
    EventFrame,
    Hello,
    Snapshot,
)
from services.contracts.phases import Phase
from services.contracts.streams import EVENTS
from services.devtools.natsserver import NatsServer
from services.notifier.metrics import CLOSES
from tests.fixtures.waiting import eventually
from tests.integration.test_notifier_ws import (
    assert_quiet,
    kube,
    open_session,
    progress,
    publish,
    recv,
    recv_events,
    running_notifier,
    status,
)


async def publish_mix(js: JetStreamContext, n: int, tag: str) -> list[int]:
    """``n`` acme events interleaved with other tenants'; the acme seqs."""
    mine = []
    for i in range(n):
        await publish(js, kube("other", "shop", f"{tag}-{i}"))
        mine.append(await publish(js, progress("acme", "shop", f"{tag}-{i}")))
        await publish(js, status("acme2", "shop", Phase.READY))
    return mine


# 200 of these (12 MiB) are far more than loopback's socket buffers hold: a catch-up to
# a client that is not reading yet blocks in its sends, part-way through.
BIG = "x" * 60 * 1024  # under the stream's 64 KiB message limit


async def publish_big_backlog(js: JetStreamContext, n: int) -> list[int]:
    return [await publish(js, kube("acme", "shop", f"backlog-{i} {BIG}")) for i in range(n)]


async def connect_not_reading(url: str) -> ClientConnection:
    """A socket past its hello that reads nothing more until asked (max_queue=1:
    the client stops taking bytes off the connection)."""
    ws = await websockets.connect(url, max_queue=1, max_size=2**20)
    assert isinstance(await recv(ws), Hello)
    return ws


async def test_events_published_during_catch_up_arrive_once_in_order(
    js: JetStreamContext,
) -> None:
    before = await publish(js, status("acme", "shop", Phase.PENDING))
    backlog = await publish_big_backlog(js, 200)
    async with running_notifier(js, ping_interval_s=5.0, socket_queue=4096) as n:
        # The hub starts with this socket, at the stream's end: the backlog is the
        # catch-up's, and what follows is the hub's, buffered until the hand-over.
        ws = await connect_not_reading(n.ws_url("acme", after=before))
        during = await publish_mix(js, 20, "during")
        frames = await recv_events(ws, len(backlog) + 20)
        assert [f.seq for f in frames] == backlog + during
        await assert_quiet(ws)
        live = await publish(js, kube("acme", "shop", "live"))
        assert [f.seq for f in await recv_events(ws, 1)] == [live]
        await ws.close()


async def read_until(ws: ClientConnection, last: int) -> list[int]:
    seqs: list[int] = []
    while not seqs or seqs[-1] < last:
        frame = await recv(ws, 10)
        assert isinstance(frame, EventFrame), frame
        seqs.append(frame.seq)
    return seqs


async def test_sockets_opened_under_steady_traffic_miss_nothing(js: JetStreamContext) -> None:
    """Fresh (snapshot) and resumed sockets opened while events keep coming."""
    first = await publish(js, status("acme", "shop", Phase.PENDING))
    published = [first]
    async with running_notifier(js, ping_interval_s=5.0, socket_queue=4096) as n:
        stop = asyncio.Event()

        async def publisher() -> None:
            i = 0
            while not stop.is_set():
                published.extend(await publish_mix(js, 1, f"p{i}"))
                i += 1

        task = asyncio.create_task(publisher())
        opened: list[tuple[ClientConnection, int]] = []
        for k in range(12):
            await asyncio.sleep(0.05)
            # Alternate: fresh sockets, and resumes from somewhere in the past.
            after = None if k % 2 == 0 else published[len(published) * k // 13]
            ws, hello = await open_session(n.ws_url("acme", after=after))
            assert hello.resumed == (after is not None)
            if after is None:
                snap = await recv(ws)
                assert isinstance(snap, Snapshot)
            opened.append((ws, hello.seq))
        await asyncio.sleep(0.2)
        stop.set()
        await task
        last = published[-1]
        for ws, start in opened:
            seqs = await read_until(ws, last)
            assert seqs == [s for s in published if s > start]
            await ws.close()


async def test_catch_up_falling_a_queue_behind_is_too_slow(js: JetStreamContext) -> None:
    before = await publish(js, status("acme", "shop", Phase.PENDING))
    backlog = await publish_big_backlog(js, 200)
    async with running_notifier(js, ping_interval_s=5.0, socket_queue=4) as n:
        ws = await connect_not_reading(n.ws_url("acme", after=before))
        frames = await recv_events(ws, 1)  # the catch-up is under way...
        await asyncio.sleep(0.5)  # ...and then stuck on a client that reads no more
        too_slow = CLOSES.labels("too_slow")
        closed_before = too_slow._value.get()
        await publish_mix(js, 6, "flood")  # more than the 4-frame queue

        async def overflowed() -> bool:
            return bool(too_slow._value.get() > closed_before)

        await eventually(overflowed, within=30, what="the hub overflowing the socket's queue")
        while isinstance(frame := await recv(ws), EventFrame):
            frames.append(frame)
        assert [f.seq for f in frames] == backlog[: len(frames)] != backlog
        assert isinstance(frame, Error)
        assert frame.code == CLOSE_TOO_SLOW
        assert frame.message.endswith(f"after={frames[-1].seq}")


async def publish_retrying(js: JetStreamContext, n: int) -> list[int]:
    """Publish once NATS answers again (the client reconnects by itself)."""
    for _ in range(100):
        try:
            return await publish_mix(js, n, "after-restart")
        except Exception:
            await asyncio.sleep(0.2)
    raise AssertionError("NATS did not come back")


async def test_live_socket_misses_nothing_across_a_nats_restart(
    js: JetStreamContext, nats_server: NatsServer
) -> None:
    """The hub's ordered consumer is lost with NATS; nats-py recreates it from the
    last stream sequence it delivered + 1, and the open socket sees every event."""
    async with running_notifier(js, ping_interval_s=5.0) as n:
        ws, _ = await open_session(n.ws_url("acme"))
        assert isinstance(await recv(ws), Snapshot)
        before = await publish_mix(js, 3, "before")
        assert [f.seq for f in await recv_events(ws, 3)] == before
        nats_server.kill()
        await asyncio.sleep(1)
        await asyncio.to_thread(nats_server.start)
        after = await publish_retrying(js, 5)
        seqs: list[int] = []
        while len(seqs) < len(after):
            frame = await recv(ws, 30)  # the lost consumer is noticed within 2 heartbeats
            assert isinstance(frame, EventFrame), frame
            seqs.append(frame.seq)
        assert seqs == after
        await assert_quiet(ws)
        await ws.close()


async def test_catch_up_failing_on_the_bus_closes_with_1011(js: JetStreamContext) -> None:
    before = await publish(js, status("acme", "shop", Phase.PENDING))
    await publish(js, status("acme", "shop", Phase.READY))
    async with running_notifier(js, ping_interval_s=5.0) as n:
        first, _ = await open_session(n.ws_url("acme"))  # starts the shared feed
        # nats-server now refuses the catch-up its consumer: the stream is full of them.
        info = await js.stream_info(EVENTS.name)
        await js.update_stream(replace(info.config, max_consumers=info.state.consumer_count))
        ws, hello = await open_session(n.ws_url("acme", after=before))
        assert hello.resumed
        error = await recv(ws)
        assert isinstance(error, Error)
        assert error.code == CLOSE_INTERNAL
        assert "reconnect with after=" in error.message
        await first.close()
