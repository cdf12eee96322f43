"""Several notifier processes on one port (``URUMI_NOTIFIER_WORKERS``).

A fan-out runs on one core: every caught-up socket costs one ``send`` in the
process's one loop (``hub.py``, ``docs/benchmarks.md`` "Live latency"). With
``notifier_workers`` = N the first process starts N - 1 more, each a whole
notifier (its own NATS connection, hub and sessions) sharing nothing but the
listening port: every one binds it with SO_REUSEPORT and the kernel spreads new
connections over them, so a change's fan-out is split over N cores. A client
that reconnects with ``after=`` may land on another process; its catch-up makes
that gap-free exactly as across replicas (``session.py``).

The first process stops the others when it stops (each closes its sockets with
1012, as on any restart). If one exits on its own the first process stops
everything and exits non-zero, so the container or ``urumi dev`` sees a failed
notifier instead of one serving with part of its processes gone.
"""

import asyncio
import ctypes
import logging
import os
import signal
import socket
import subprocess
import sys
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager

log = logging.getLogger(__name__)
_PR_SET_PDEATHSIG = 1


def bind(host: str, port: int, reuse_port: bool) -> socket.socket:
    """The listening socket; with ``reuse_port`` other processes may bind it too."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if reuse_port:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        sock.bind((host, port))
    except OSError:
        sock.close()
        raise
    return sock


def worker_env(port: int) -> dict[str, str]:
    """The environment of a further process: the same settings, the bound port,
    sharing it, and starting no processes of its own."""
    return {
        **os.environ,
        "URUMI_HTTP_PORT": str(port),
        "URUMI_NOTIFIER_WORKERS": "1",
        "URUMI_NOTIFIER_REUSE_PORT": "true",
    }


def _command() -> list[str]:
    return [sys.executable, "-m", "services.cli.main", "notifier"]


def _die_with_parent() -> None:
    """In the child before exec: SIGTERM it when the first process dies, even by
    SIGKILL, so no orphan keeps serving the port (Linux's PR_SET_PDEATHSIG)."""
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


class Workers:
    """The further processes: started, watched, stopped."""

    def __init__(self, count: int, port: int) -> None:
        self._procs: list[subprocess.Popen[bytes]] = [
            subprocess.Popen(_command(), env=worker_env(port), preexec_fn=_die_with_parent)
            for _ in range(count)
        ]

    @property
    def pids(self) -> list[int]:
        return [p.pid for p in self._procs]

    async def exited(self) -> int:
        """Returns (with its exit code) when any of them exits."""
        while True:
            for proc in self._procs:
                code = proc.poll()
                if code is not None:
                    return code
            await asyncio.sleep(0.5)

    async def stop(self, grace_s: float) -> None:
        for proc in self._procs:
            if proc.poll() is None:
                proc.terminate()
        await asyncio.to_thread(_wait_all, self._procs, grace_s)


def _wait_all(procs: Sequence["subprocess.Popen[bytes]"], grace_s: float) -> None:
    for proc in procs:
        try:
            proc.wait(grace_s)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@asynccontextmanager
async def started(
    count: int, port: int, stop: asyncio.Event, grace_s: float
) -> AsyncIterator[None]:
    """``count`` further processes on ``port`` while the block runs.

    If one exits by itself, ``stop`` is set and the block ends in SystemExit(1).
    """
    if count < 1:
        yield
        return
    workers = Workers(count, port)
    log.info("notifier workers started", extra={"pids": workers.pids, "port": port})
    failed: list[int] = []

    async def watch() -> None:
        failed.append(await workers.exited())
        log.error("a notifier worker exited; stopping", extra={"code": failed[0]})
        stop.set()

    watcher = asyncio.create_task(watch())
    try:
        yield
    finally:
        watcher.cancel()
        await workers.stop(grace_s)
    if failed:
        raise SystemExit(1)
