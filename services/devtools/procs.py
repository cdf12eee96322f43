"""Run Urumi services as child processes (dev stack, e2e and fault tests)."""

import os
import subprocess
import sys
import threading
import time
from collections.abc import Mapping
from pathlib import Path
from typing import IO

import httpx


class ServiceProcess:
    """One `urumi <service>` child; logs go to a file or, prefixed, to our stdout."""

    def __init__(
        self,
        service: str,
        env: Mapping[str, str],
        http_port: int,
        log: Path | None = None,
        prefix: str | None = None,
    ) -> None:
        self.service = service
        self.env = {**os.environ, **env, "URUMI_HTTP_PORT": str(http_port)}
        self.http_port = http_port
        self.log = log
        self.prefix = prefix or service
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.http_port}"

    def start(self) -> None:
        cmd = [sys.executable, "-m", "services.cli.main", self.service]
        if self.log is not None:
            self.log.parent.mkdir(parents=True, exist_ok=True)
            with self.log.open("ab") as out:
                self.proc = subprocess.Popen(cmd, env=self.env, stdout=out, stderr=out)
            return
        self.proc = subprocess.Popen(
            cmd, env=self.env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
        )
        assert self.proc.stdout is not None
        threading.Thread(target=self._relay, args=(self.proc.stdout,), daemon=True).start()

    def _relay(self, stream: IO[bytes]) -> None:
        for line in iter(stream.readline, b""):
            sys.stdout.write(f"{self.prefix:>11} | {line.decode(errors='replace')}")
            sys.stdout.flush()

    def wait_ready(self, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc is None or self.proc.poll() is not None:
                raise RuntimeError(f"{self.service} exited early; {self._log_hint()}")
            try:
                if httpx.get(f"{self.base_url}/readyz", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        raise TimeoutError(f"{self.service} not ready after {timeout}s; {self._log_hint()}")

    def _log_hint(self) -> str:
        if self.log is None or not self.log.exists():
            return "see its output above"
        tail = self.log.read_text(errors="replace").splitlines()[-20:]
        return "last log lines:\n" + "\n".join(tail)

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def stop(self, timeout: float = 20.0) -> int | None:
        """SIGTERM and wait: the graceful path."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        return self.proc.returncode

    def kill(self) -> None:
        """SIGKILL, as a crash would."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
