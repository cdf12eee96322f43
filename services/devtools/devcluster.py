"""Launcher for the devcluster: a real Kubernetes control plane without containers.

`deploy/devcluster/build.sh` builds (once, cached under ``~/.cache/urumi``) a
``devcluster`` binary from the Kubernetes Go modules (embedded etcd,
kube-apiserver, kube-controller-manager, kube-scheduler), plus ``kwok`` (which
simulates the node and the pods: no container ever runs) and ``helm``.

    bin_dir = ensure_built()
    cluster = DevCluster(Path("/tmp/dc"))
    cluster.start()          # blocks until /readyz is ok and the node is Ready
    cluster.kubeconfig       # admin kubeconfig (system:masters)
    cluster.stop()

Used by the test fixtures and by ``urumi dev``. Imports nothing from other services.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import shutil
import signal
import ssl
import subprocess
import sys
import time
from collections.abc import Mapping
from pathlib import Path
from types import TracebackType
from typing import IO, Any

REPO_ROOT = Path(__file__).resolve().parents[2]
DEVCLUSTER_DIR = REPO_ROOT / "deploy" / "devcluster"
BUILD_SCRIPT = DEVCLUSTER_DIR / "build.sh"

#: A cold build of all three binaries on 2 cores takes ~15 min; allow plenty.
BUILD_TIMEOUT = 60 * 60.0


class DevClusterError(RuntimeError):
    """The devcluster could not be built, started or reached."""


def _go_env() -> dict[str, str]:
    env = dict(os.environ)
    if shutil.which("go", path=env.get("PATH")) is None and "GO" not in env:
        for candidate in (Path("/usr/local/go/bin/go"), Path.home() / "go" / "bin" / "go"):
            if candidate.exists():
                env["GO"] = str(candidate)
                env["PATH"] = f"{candidate.parent}{os.pathsep}{env.get('PATH', '')}"
                break
    return env


def ensure_built(*, timeout: float = BUILD_TIMEOUT, quiet: bool = False) -> Path:
    """Build devcluster, kwok and helm if needed; return the bin directory.

    build.sh prints progress on stderr (passed through unless ``quiet``) and the
    bin directory on its last stdout line. A cached build returns in well under
    a second.
    """
    if not BUILD_SCRIPT.exists():
        raise DevClusterError(f"{BUILD_SCRIPT} not found")
    try:
        proc = subprocess.run(
            ["bash", str(BUILD_SCRIPT)],
            cwd=DEVCLUSTER_DIR,
            env=_go_env(),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE if quiet else None,
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        raise DevClusterError(f"{BUILD_SCRIPT} did not finish within {timeout:.0f}s") from exc
    out = proc.stdout.decode(errors="replace").strip().splitlines()
    if proc.returncode != 0 or not out:
        err = proc.stderr.decode(errors="replace")[-4000:] if proc.stderr else ""
        raise DevClusterError(
            f"{BUILD_SCRIPT} failed (exit {proc.returncode}){': ' + err if err else ''}"
        )
    bin_dir = Path(out[-1])
    for name in ("devcluster", "kwok", "helm"):
        if not (bin_dir / name).exists():
            raise DevClusterError(f"{BUILD_SCRIPT} printed {bin_dir}, but {name} is not there")
    return bin_dir


def helm_binary() -> Path:
    """The helm binary built beside devcluster (builds if needed)."""
    return ensure_built() / "helm"


def _tail(path: Path, lines: int = 40) -> str:
    try:
        data = path.read_bytes()
    except OSError as exc:
        return f"({exc})"
    return "\n".join(data.decode(errors="replace").splitlines()[-lines:])


class DevCluster:
    """One devcluster supervisor process (``devcluster up --dir STATE_DIR``).

    State directory layout (written by the supervisor):
    ``kubeconfig`` (appears only when the cluster is ready), ``ports.json``,
    ``pki/``, ``etcd/``, ``logs/<component>.log``, ``kwok/stages/``, and
    ``devcluster.log`` (the supervisor's own output, written by this class).
    """

    def __init__(
        self,
        state_dir: Path,
        *,
        apiserver_port: int | None = None,
        bin_dir: Path | None = None,
        nodes: int = 1,
        extra_args: list[str] | None = None,
    ) -> None:
        self.state_dir = Path(state_dir).resolve()
        self.apiserver_port = apiserver_port
        self.nodes = nodes
        self.extra_args = list(extra_args or [])
        self._bin_dir = bin_dir
        self._proc: subprocess.Popen[bytes] | None = None
        self._external_kubeconfig: Path | None = None

    @classmethod
    def external(cls, kubeconfig: Path) -> DevCluster:
        """Wrap a cluster someone else runs; start() and stop() do nothing."""
        cluster = cls(Path(kubeconfig).resolve().parent)
        cluster._external_kubeconfig = Path(kubeconfig).resolve()
        return cluster

    # -- paths -------------------------------------------------------------
    @property
    def kubeconfig(self) -> Path:
        if self._external_kubeconfig is not None:
            return self._external_kubeconfig
        return self.state_dir / "kubeconfig"

    @property
    def log_path(self) -> Path:
        return self.state_dir / "devcluster.log"

    @property
    def logs_dir(self) -> Path:
        return self.state_dir / "logs"

    @property
    def ports(self) -> dict[str, int]:
        """Ports from STATE_DIR/ports.json: apiserver, etcd_client, etcd_peer,
        controller_manager, scheduler, kwok."""
        data: dict[str, int] = json.loads((self.state_dir / "ports.json").read_text())
        return data

    @property
    def server(self) -> str:
        return f"https://127.0.0.1:{self.ports['apiserver']}"

    @property
    def bin_dir(self) -> Path:
        if self._bin_dir is None:
            self._bin_dir = ensure_built()
        return self._bin_dir

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc is not None else None

    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    # -- lifecycle -----------------------------------------------------------
    def start(self, timeout: float = 180.0) -> None:
        """Start the cluster; return once the API is healthy and the node Ready."""
        if self._external_kubeconfig is not None or self.running():
            return
        bin_dir = self.bin_dir
        self.state_dir.mkdir(parents=True, exist_ok=True)
        with contextlib.suppress(FileNotFoundError):
            self.kubeconfig.unlink()
        cmd = [
            str(bin_dir / "devcluster"),
            "up",
            "--dir",
            str(self.state_dir),
            "--kwok",
            str(bin_dir / "kwok"),
            "--nodes",
            str(self.nodes),
            "--timeout",
            f"{max(int(timeout), 10)}s",
        ]
        if self.apiserver_port:
            cmd += ["--apiserver-port", str(self.apiserver_port)]
        cmd += self.extra_args
        with self.log_path.open("ab") as out:
            self._proc = subprocess.Popen(
                cmd,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        deadline = time.monotonic() + timeout
        last_error = "kubeconfig not written yet"
        while time.monotonic() < deadline:
            code = self._proc.poll()
            if code is not None:
                self._proc = None
                raise DevClusterError(
                    f"devcluster exited with code {code} while starting; "
                    f"log {self.log_path}:\n{_tail(self.log_path)}"
                )
            if self.kubeconfig.exists():
                try:
                    self._check_ready()
                    return
                except (OSError, DevClusterError, ValueError) as exc:
                    last_error = str(exc)
            time.sleep(0.2)
        self.stop()
        raise DevClusterError(
            f"devcluster not ready after {timeout:.0f}s ({last_error}); "
            f"log {self.log_path}:\n{_tail(self.log_path)}"
        )

    def stop(self, timeout: float = 45.0) -> None:
        """SIGTERM the supervisor (it stops every component) and wait."""
        proc, self._proc = self._proc, None
        if proc is None or proc.poll() is not None:
            return
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            # Components die with it (they run with PDEATHSIG=SIGKILL).
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()

    def __enter__(self) -> DevCluster:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # -- health ----------------------------------------------------------------
    def request(
        self, path: str, method: str = "GET", body: bytes | None = None, content_type: str = ""
    ) -> tuple[int, bytes]:
        """One HTTPS request to the apiserver as the cluster admin."""
        pki = self.state_dir / "pki"
        ctx = ssl.create_default_context(cafile=str(pki / "ca.crt"))
        ctx.load_cert_chain(str(pki / "admin.crt"), str(pki / "admin.key"))
        conn = http.client.HTTPSConnection(
            "127.0.0.1", self.ports["apiserver"], context=ctx, timeout=10
        )
        headers = {"Content-Type": content_type} if content_type else {}
        try:
            conn.request(method, path, body=body, headers=headers)
            resp = conn.getresponse()
            return resp.status, resp.read()
        finally:
            conn.close()

    def _check_ready(self) -> None:
        status, body = self.request("/readyz")
        if status != 200:
            raise DevClusterError(f"/readyz: {status} {body[:200]!r}")
        status, body = self.request("/api/v1/nodes")
        if status != 200:
            raise DevClusterError(f"list nodes: {status} {body[:200]!r}")
        nodes: list[Mapping[str, Any]] = json.loads(body).get("items", [])
        if not nodes or not all(_node_ready(n) for n in nodes):
            raise DevClusterError("node not Ready yet")


def _node_ready(node: Mapping[str, Any]) -> bool:
    conditions = node.get("status", {}).get("conditions", [])
    return any(c.get("type") == "Ready" and c.get("status") == "True" for c in conditions)


def main(argv: list[str] | None = None, out: IO[str] | None = None) -> int:
    """``python -m services.devtools.devcluster [build|up DIR]`` for quick manual use."""
    args = sys.argv[1:] if argv is None else argv
    stream = out or sys.stdout
    if not args or args[0] == "build":
        print(ensure_built(), file=stream)
        return 0
    if args[0] == "up" and len(args) == 2:
        cluster = DevCluster(Path(args[1]))
        cluster.start()
        print(f"export KUBECONFIG={cluster.kubeconfig}", file=stream, flush=True)
        stop_signals = {signal.SIGINT, signal.SIGTERM}
        signal.pthread_sigmask(signal.SIG_BLOCK, stop_signals)
        try:
            signal.sigwait(stop_signals)
        finally:
            cluster.stop()
        return 0
    print("usage: python -m services.devtools.devcluster [build | up DIR]", file=sys.stderr)
    return 2


if __name__ == "__main__":
    raise SystemExit(main())
