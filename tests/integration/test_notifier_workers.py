"""Several notifier processes on one port (URUMI_NOTIFIER_WORKERS), as `urumi
notifier` runs them: every socket still gets every change once, in order, whichever
process it landed on, and across reconnects that land on another one."""

import asyncio
import os
import signal

import websockets
from nats.js import JetStreamContext
from websockets.asyncio.client import ClientConnection

from services.contracts.frames import CLOSE_RESTARTING, EventFrame, Snapshot
from services.contracts.phases import Phase
from services.devtools.natsserver import NatsServer
from services.devtools.procs import ServiceProcess
from services.runtime.tickets import sign_ticket
from tests.fixtures.processes import StartService
from tests.fixtures.waiting import eventually
from tests.integration.test_notifier_ws import (
    SECRET,
    assert_quiet,
    kube,
    open_session,
    publish,
    recv,
    status,
)


def _children(pid: int) -> list[int]:
    with open(f"/proc/{pid}/task/{pid}/children") as f:
        return [int(p) for p in f.read().split()]


def _sockets(pid: int) -> int:
    """TCP sockets the process holds (the listening one and its connections)."""
    fds = os.listdir(f"/proc/{pid}/fd")
    links = []
    for fd in fds:
        try:
            links.append(os.readlink(f"/proc/{pid}/fd/{fd}"))
        except OSError:
            continue
    return sum(1 for link in links if link.startswith("socket:"))


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rpartition(")")[2].split()[0] != "Z"
    except OSError:
        return False


def url(proc: ServiceProcess, after: int | None = None) -> str:
    base = f"ws://127.0.0.1:{proc.http_port}/ws?ticket={sign_ticket(SECRET, 'acme', 60)}"
    return base if after is None else f"{base}&after={after}"


async def start_two(nats_server: NatsServer, start_service: StartService) -> ServiceProcess:
    env = {
        "URUMI_NATS_URL": nats_server.url,
        "URUMI_TICKET_SECRET": SECRET,
        "URUMI_NOTIFIER_WORKERS": "2",
        "URUMI_PING_INTERVAL_S": "5",
    }
    proc = await asyncio.to_thread(start_service, "notifier", env)
    assert proc.proc is not None
    pid = proc.proc.pid
    # The second process serves the port once it answers too.
    await eventually(lambda: len(_children(pid)) == 1)
    return proc


async def open_fresh(proc: ServiceProcess, n: int) -> list[ClientConnection]:
    sockets = []
    for _ in range(n):
        ws, _ = await open_session(url(proc))
        assert isinstance(await recv(ws), Snapshot)
        sockets.append(ws)
    return sockets


async def read_seqs(ws: ClientConnection, n: int) -> list[int]:
    seqs = []
    for _ in range(n):
        frame = await recv(ws)
        assert isinstance(frame, EventFrame), frame
        seqs.append(frame.seq)
    return seqs


async def test_every_socket_on_either_process_gets_every_change_in_order(
    js: JetStreamContext, nats_server: NatsServer, start_service: StartService
) -> None:
    proc = await start_two(nats_server, start_service)
    assert proc.proc is not None
    first, second = proc.proc.pid, _children(proc.proc.pid)[0]
    # Wait until the second process listens: then connections are spread over both.
    await eventually(lambda: _sockets(second) >= 2)
    held = _sockets(first), _sockets(second)
    sockets = await open_fresh(proc, 32)
    # The kernel spread the connections over both processes (SO_REUSEPORT).
    assert _sockets(first) > held[0]
    assert _sockets(second) > held[1]
    seqs = []
    for i in range(10):
        seqs.append(await publish(js, status("acme", "shop", Phase.DEGRADED, generation=i)))
        await publish(js, kube("other", "shop", f"not acme's {i}"))
    got = await asyncio.gather(*(read_seqs(ws, len(seqs)) for ws in sockets))
    assert all(g == seqs for g in got)
    for ws in sockets:
        await assert_quiet(ws, 0.1)
        await ws.close()


async def test_reconnects_landing_on_either_process_miss_nothing(
    js: JetStreamContext, nats_server: NatsServer, start_service: StartService
) -> None:
    """A client that keeps reconnecting with after=<last seq> while events keep
    coming gets every one once, in order, whichever process serves each socket."""
    proc = await start_two(nats_server, start_service)
    published = [await publish(js, kube("acme", "shop", "before"))]
    received: list[int] = []
    ws, _ = await open_session(url(proc, after=published[0] - 1))
    for round_ in range(12):
        received += await read_seqs(ws, len(published) - len(received))
        await ws.close()
        # Published while no socket is open: the next one's catch-up has them.
        published += [await publish(js, kube("acme", "shop", f"{round_}-{i}")) for i in range(3)]
        ws, hello = await open_session(url(proc, after=received[-1]))
        assert hello.resumed
    received += await read_seqs(ws, len(published) - len(received))
    assert received == published
    await assert_quiet(ws)
    await ws.close()


async def close_code(ws: ClientConnection) -> int | None:
    """Read until the server closes the socket: its close code."""
    try:
        while True:
            await recv(ws)
    except websockets.ConnectionClosed as closed:
        return closed.rcvd.code if closed.rcvd is not None else None


async def test_stopping_the_notifier_stops_every_process_and_closes_with_1012(
    js: JetStreamContext, nats_server: NatsServer, start_service: StartService
) -> None:
    proc = await start_two(nats_server, start_service)
    assert proc.proc is not None
    worker = _children(proc.proc.pid)[0]
    sockets = await open_fresh(proc, 16)
    assert await asyncio.to_thread(proc.stop) == 0
    assert [await close_code(ws) for ws in sockets] == [CLOSE_RESTARTING] * len(sockets)
    assert not _alive(worker)


async def test_a_killed_notifier_leaves_no_process_on_the_port(
    nats_server: NatsServer, start_service: StartService
) -> None:
    proc = await start_two(nats_server, start_service)
    assert proc.proc is not None
    worker = _children(proc.proc.pid)[0]
    proc.kill()
    await eventually(lambda: not _alive(worker))


async def test_a_worker_that_dies_stops_the_notifier(
    nats_server: NatsServer, start_service: StartService
) -> None:
    """Not a notifier quietly serving with a process less: it exits non-zero."""
    proc = await start_two(nats_server, start_service)
    assert proc.proc is not None
    os.kill(_children(proc.proc.pid)[0], signal.SIGKILL)
    code = await asyncio.to_thread(proc.proc.wait, 30)
    assert code == 1
