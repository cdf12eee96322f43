"""The notifier's hot loop alone: one frame written to N loopback sockets, per event loop.

    .venv/bin/python -m bench.fanout_loop [--sockets 1000] [--events 300] [--rounds 3]

The hub's direct writes (``services/notifier/direct.py``) cost one
``transport.write`` per socket per event, and nothing else per socket. This
measures that loop, with the same checks around each write, under asyncio's
selector loop and, when it is installed, uvloop, in a server process of its own, with the reading
side in another process (as the bench client is): CPU microseconds of the
writing process per socket write, which machine load changes far less than
latency. Rounds alternate the two loops. Traffic stays on 127.0.0.1.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import importlib
import multiprocessing
import os
import resource
from collections.abc import Callable
from multiprocessing.connection import Connection
from statistics import median
from typing import cast

from bench.common import loadavg, raise_nofile

FRAME = b"\x81\x7e\x01\x2c" + b"x" * 300  # a 300-byte unmasked text frame, as the hub sends
LOOPS: dict[str, Callable[[], asyncio.AbstractEventLoop]] = {"asyncio": asyncio.new_event_loop}
# uvloop for comparison only, not a dependency: `.venv/bin/pip install uvloop`.
with contextlib.suppress(ModuleNotFoundError):
    LOOPS["uvloop"] = importlib.import_module("uvloop").new_event_loop


class _Server(asyncio.Protocol):
    def __init__(
        self, transports: list[asyncio.WriteTransport], wanted: int, all_in: asyncio.Event
    ) -> None:
        self._transports, self._wanted, self._all_in = transports, wanted, all_in

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports implement WriteTransport without subclassing it.
        self._transports.append(cast(asyncio.WriteTransport, transport))
        if len(self._transports) >= self._wanted:
            self._all_in.set()


class _Reader(asyncio.Protocol):
    def __init__(self, counter: list[int], expected: int, done: asyncio.Event) -> None:
        self._counter, self._expected, self._done = counter, expected, done

    def data_received(self, data: bytes) -> None:
        self._counter[0] += len(data)
        if self._counter[0] >= self._expected:
            self._done.set()


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


async def _serve(sockets: int, events: int, pipe: Connection) -> float:
    transports: list[asyncio.WriteTransport] = []
    loop = asyncio.get_running_loop()
    all_in = asyncio.Event()
    server = await loop.create_server(lambda: _Server(transports, sockets, all_in), "127.0.0.1", 0)
    pipe.send(server.sockets[0].getsockname()[1])
    await all_in.wait()
    high = transports[0].get_write_buffer_limits()[1]
    spent = 0.0
    for _ in range(events):
        t0 = _cpu()
        for t in transports:  # the checks DirectWriter.write makes, then the write
            if not t.is_closing() and t.get_write_buffer_size() <= high:
                t.write(FRAME)
        spent += _cpu() - t0
        await asyncio.sleep(0.01)  # let the reader drain, as between status changes
    server.close()
    for t in transports:
        t.close()
    return spent * 1e6 / (sockets * events)


def _server_main(loop_name: str, sockets: int, events: int, pipe: Connection) -> None:
    raise_nofile(sockets + 256)
    with asyncio.Runner(loop_factory=LOOPS[loop_name]) as runner:
        pipe.send(runner.run(_serve(sockets, events, pipe)))


async def _read(port: int, sockets: int, expected: int) -> None:
    counter, done = [0], asyncio.Event()
    loop = asyncio.get_running_loop()
    for _ in range(sockets):
        await loop.create_connection(lambda: _Reader(counter, expected, done), "127.0.0.1", port)
    await asyncio.wait_for(done.wait(), 120)


def one_run(loop_name: str, sockets: int, events: int) -> float:
    """CPU µs of the writing process per socket write."""
    ours, theirs = multiprocessing.Pipe()
    server = multiprocessing.Process(target=_server_main, args=(loop_name, sockets, events, theirs))
    server.start()
    port = ours.recv()
    asyncio.run(_read(port, sockets, sockets * events * len(FRAME)))
    per_write: float = ours.recv()
    server.join(30)
    return per_write


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sockets", type=int, default=1000)
    parser.add_argument("--events", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    raise_nofile(args.sockets + 256)
    results: dict[str, list[float]] = {name: [] for name in LOOPS}
    print(f"pid {os.getpid()} · {args.sockets} sockets x {args.events} events", flush=True)
    for r in range(args.rounds):
        for name in LOOPS:
            load = loadavg()
            us = one_run(name, args.sockets, args.events)
            results[name].append(us)
            print(f"  round {r + 1} {name:8} {us:.2f} µs CPU per write (load {load})", flush=True)
    for name, values in results.items():
        print(
            f"{name:8} median {median(values):.2f} µs per write "
            f"(range {min(values):.2f}-{max(values):.2f}, {len(values)} runs)"
        )


if __name__ == "__main__":
    main()
