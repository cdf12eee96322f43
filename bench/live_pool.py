"""The bench's receiving sockets, spread over several client processes.

One client process reads every socket on one core; at 1,000 sockets it spent as
much CPU per status change as the notifier (docs/benchmarks.md, "Live latency"),
so the last socket's latency was partly the client's own queue. Here each client
process runs the sockets of ``bench.live`` on its own asyncio loop, and the bench
process only drives the changes: before a change every client is told which
phase to wait for, and after the PATCH each one hands back, per socket, when its
frame's bytes were read (``time.perf_counter()``, which is CLOCK_MONOTONIC on
Linux: the same clock in every process, so the bench subtracts its own t0).

Processes are spawned, not forked (the bench process has an event loop and
threads). Each child answers one command at a time over a pipe.
"""

from __future__ import annotations

import asyncio
import contextlib
import multiprocessing
import time
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from typing import Any

from bench.live import Socket, StatusSink, close_all, open_sockets


@dataclass
class Expected:
    """The phase a change's frame carries; the arrival time of it on each socket."""

    store: str = ""
    phase: str = ""
    index: int = -1
    arrivals: list[float] = field(default_factory=list)
    wanted: int = 0
    all_in: asyncio.Event = field(default_factory=asyncio.Event)


def arrival_sink(expected: Expected) -> StatusSink:
    """One socket's sink: when it read its first frame with the expected phase."""
    counted = -1

    def sink(store: str, phase: str, generation: int, at: float, reason: str) -> None:
        nonlocal counted
        if store != expected.store or phase != expected.phase or counted == expected.index:
            return
        counted = expected.index
        expected.arrivals.append(at)
        if len(expected.arrivals) >= expected.wanted:
            expected.all_in.set()

    return sink


@dataclass
class Collected:
    """One change, from every client: arrival times, frames read, sockets closed."""

    arrivals: list[float]
    frames: int
    closed: list[str]
    pings: int


class _Child:
    """The command loop of one client process."""

    def __init__(self, conn: Connection, store: str) -> None:
        self.conn = conn
        self.expected = Expected(store=store)
        self.sockets: list[Socket] = []

    async def serve(self) -> None:
        loop = asyncio.get_running_loop()
        commands: asyncio.Queue[tuple[Any, ...]] = asyncio.Queue()
        loop.add_reader(self.conn.fileno(), lambda: commands.put_nowait(self.conn.recv()))
        while True:
            cmd = await commands.get()
            reply = await self.handle(cmd)
            self.conn.send(reply)
            if cmd[0] == "close":
                loop.remove_reader(self.conn.fileno())
                return

    async def handle(self, cmd: tuple[Any, ...]) -> tuple[Any, ...]:
        name, args = cmd[0], cmd[1:]
        if name == "open":
            n, base, secret, tenant = args
            more, took, failed = await open_sockets(
                n, base, secret, tenant, lambda: arrival_sink(self.expected)
            )
            self.sockets += more
            return (len(more), took, failed)
        if name == "expect":
            exp = self.expected
            exp.phase, exp.index = args
            # A socket the server closed gets nothing more: waiting for it would
            # only add the whole `within` to every change (and its CPU to the figures).
            exp.arrivals, exp.wanted = [], sum(1 for s in self.sockets if not s.closed)
            exp.all_in.clear()
            return (sum(s.frames for s in self.sockets), sum(s.pings for s in self.sockets))
        if name == "collect":
            (within,) = args
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.expected.all_in.wait(), within)
            frames = sum(s.frames for s in self.sockets)
            pings = sum(s.pings for s in self.sockets)
            closed = [s.closed for s in self.sockets if s.closed]
            return (self.expected.arrivals, frames, closed, pings)
        if name == "cpu":
            return (time.process_time(),)
        if name == "close":
            await close_all(self.sockets)
            return ()
        raise ValueError(f"unknown command {name!r}")


def _child_main(conn: Connection, store: str) -> None:
    asyncio.run(_Child(conn, store).serve())


class ClientPool:
    """``n`` client processes; sockets are dealt out evenly over them."""

    def __init__(self, n: int, store: str) -> None:
        if n < 1:
            raise ValueError(f"--clients must be at least 1, not {n}")
        ctx = multiprocessing.get_context("spawn")
        self._conns: list[Connection] = []
        self._procs: list[Any] = []
        for _ in range(n):
            ours, theirs = ctx.Pipe()
            proc = ctx.Process(target=_child_main, args=(theirs, store), daemon=True)
            proc.start()
            theirs.close()
            self._conns.append(ours)
            self._procs.append(proc)
        self.sockets = 0
        self._frames_before = 0
        self._pings_before = 0

    @property
    def pids(self) -> list[int]:
        return [p.pid for p in self._procs]

    async def _call(self, i: int, *cmd: Any) -> tuple[Any, ...]:
        conn = self._conns[i]
        conn.send(cmd)
        reply: tuple[Any, ...] = await asyncio.to_thread(conn.recv)
        return reply

    async def _all(self, *cmd: Any) -> list[tuple[Any, ...]]:
        return await asyncio.gather(*(self._call(i, *cmd) for i in range(len(self._conns))))

    async def open(
        self, n: int, base: str, secret: str, tenant: str
    ) -> tuple[int, float, list[str]]:
        """Open ``n`` more sockets over the clients: (opened, seconds, failures)."""
        k = len(self._conns)
        shares = [n // k + (1 if i < n % k else 0) for i in range(k)]
        started = time.perf_counter()
        replies = await asyncio.gather(
            *(self._call(i, "open", s, base, secret, tenant) for i, s in enumerate(shares))
        )
        opened = sum(r[0] for r in replies)
        self.sockets += opened
        failed = [f for r in replies for f in r[2]]
        return opened, time.perf_counter() - started, failed

    async def expect(self, phase: str, index: int) -> None:
        """Every client waits for ``phase`` from now on (returns once all know)."""
        replies = await self._all("expect", phase, index)
        self._frames_before = sum(r[0] for r in replies)
        self._pings_before = sum(r[1] for r in replies)

    async def collect(self, within: float) -> Collected:
        """Each socket's arrival time of the expected frame (waiting up to ``within``)."""
        replies = await self._all("collect", within)
        arrivals = [a for r in replies for a in r[0]]
        frames = sum(r[1] for r in replies) - self._frames_before
        pings = sum(r[3] for r in replies) - self._pings_before
        return Collected(arrivals, frames, [c for r in replies for c in r[2]], pings)

    async def cpu_seconds(self) -> float:
        """CPU time all the client processes have used so far."""
        return float(sum(r[0] for r in await self._all("cpu")))

    async def close(self) -> None:
        try:
            await asyncio.wait_for(self._all("close"), 60)
        finally:
            for proc in self._procs:
                proc.join(5)
                if proc.is_alive():
                    proc.terminate()
