"""What every benchmark shares: statistics, tables, the machine, the platform.

The statistics and table helpers are pure (unit-tested in
``tests/unit/test_bench_stats.py``); the rest starts real processes on loopback.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import math
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

import httpx

from services.devtools.stack import Stack

REPO = Path(__file__).resolve().parents[1]
TENANT = "bench"

# -- statistics (pure) ---------------------------------------------------------------


def percentile(values: Sequence[float], p: float) -> float:
    """The p-th percentile (0..100) by linear interpolation between closest ranks.

    The same definition as numpy's default ("linear"); NaN for no values.
    """
    if not 0 <= p <= 100:
        raise ValueError(f"percentile must be within 0..100, not {p}")
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = (len(ordered) - 1) * p / 100
    low = math.floor(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


class Summary(NamedTuple):
    n: int
    p50: float
    p95: float
    p99: float
    max: float
    mean: float


def summarize(values: Sequence[float]) -> Summary:
    if not values:
        return Summary(0, math.nan, math.nan, math.nan, math.nan, math.nan)
    return Summary(
        n=len(values),
        p50=percentile(values, 50),
        p95=percentile(values, 95),
        p99=percentile(values, 99),
        max=max(values),
        mean=sum(values) / len(values),
    )


def ms(seconds: float) -> str:
    """Seconds as milliseconds for a table cell: '12.3', '1,234', or '-' for NaN."""
    if math.isnan(seconds):
        return "-"
    value = seconds * 1000
    return f"{value:,.0f}" if value >= 100 else f"{value:.1f}"


def secs(seconds: float) -> str:
    return "-" if math.isnan(seconds) else f"{seconds:.2f}"


def table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """A Markdown table, columns padded to line up in a terminal too.

    Cells are ``str()``-ed; numbers are right-aligned, text left-aligned.
    """
    cells = [[str(c) for c in row] for row in rows]
    for row in cells:
        if len(row) != len(headers):
            raise ValueError(f"row has {len(row)} cells, headers have {len(headers)}: {row}")
    widths = [max([len(h), *(len(r[i]) for r in cells)]) for i, h in enumerate(headers)]
    numeric = [bool(cells) and all(_is_number(r[i]) for r in cells) for i in range(len(headers))]

    def line(parts: Sequence[str]) -> str:
        padded = [
            p.rjust(w) if num else p.ljust(w)
            for p, w, num in zip(parts, widths, numeric, strict=True)
        ]
        return "| " + " | ".join(padded) + " |"

    rule = [
        ("-" * (w - 1) + ":") if num else "-" * w for w, num in zip(widths, numeric, strict=True)
    ]
    return "\n".join([line(list(headers)), line(rule), *(line(r) for r in cells)])


def _is_number(text: str) -> bool:
    if text == "-":
        return True
    try:
        float(text.replace(",", "").rstrip("%x"))
    except ValueError:
        return False
    return True


# -- the machine ----------------------------------------------------------------------


def loadavg() -> str:
    one, five, fifteen = os.getloadavg()
    return f"{one:.2f} {five:.2f} {fifteen:.2f}"


def machine() -> dict[str, str]:
    """What docs/benchmarks.md records with every result."""
    mem_kb = _meminfo().get("MemTotal", 0)
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
    ).stdout.strip()
    return {
        "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "commit": commit or "?",
        "cores": str(os.cpu_count() or 0),
        "memory": f"{mem_kb / 1024 / 1024:.1f} GiB",
        "load": loadavg(),
    }


def _meminfo() -> dict[str, int]:
    out: dict[str, int] = {}
    with contextlib.suppress(OSError), open("/proc/meminfo") as f:
        for line in f:
            key, _, rest = line.partition(":")
            out[key] = int(rest.split()[0])
    return out


def header(title: str) -> str:
    m = machine()
    return (
        f"## {title}\n"
        f"date {m['date']} · commit {m['commit']} · {m['cores']} cores · {m['memory']} · "
        f"load average {m['load']} (at start)"
    )


def rss_mb(pid: int) -> float:
    """Resident set size of one process (VmRSS in /proc/<pid>/status), MiB."""
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return math.nan


def raise_nofile(wanted: int) -> int:
    """Raise this process's open-file limit toward `wanted` (children inherit it)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
    if soft < target:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
        except (ValueError, OSError):
            # root may raise the hard limit too
            with contextlib.suppress(ValueError, OSError):
                resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, wanted))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


# -- the platform ---------------------------------------------------------------------


@dataclass
class BenchPlatform:
    """A running stack (and devcluster, when asked for) plus the bench tenant."""

    stack: Stack
    token: str
    kubeconfig: str
    root: Path
    cluster_pid: int | None = None  # the devcluster supervisor
    node: Any = None  # the RealNode, when asked for
    proxy: Any = None  # the bench.kubeproxy our services talk through, when asked for

    def cluster_pids(self) -> dict[str, int]:
        """The devcluster's components (apiserver, etcd, …, kwok) by name."""
        return child_pids(self.cluster_pid) if self.cluster_pid else {}

    @property
    def api(self) -> str:
        return self.stack.api_url

    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    def pids(self) -> dict[str, int]:
        """Process id of each service replica (and nats-server), by a readable name."""
        out: dict[str, int] = {}
        counts: dict[str, int] = {}
        for proc in self.stack.procs:
            if proc.proc is None or not proc.alive():
                continue
            n = counts.get(proc.service, 0)
            counts[proc.service] = n + 1
            out[proc.service if n == 0 else f"{proc.service}-{n}"] = proc.proc.pid
        nats_pid = _nats_pid(self.stack)
        if nats_pid:
            out["nats-server"] = nats_pid
        return out


def _nats_pid(stack: Stack) -> int | None:
    proc: Any = getattr(stack.nats, "proc", None) or getattr(stack.nats, "_proc", None)
    pid = getattr(proc, "pid", None)
    return pid if isinstance(pid, int) else None


# A simulated node big enough for every store of a 100-store burst at once (the
# default node, 32 cpu, fits ~50 small stores; the rest would be Unschedulable).
CLUSTER_ARGS = ["--node-cpu", "512", "--node-memory", "4Ti", "--node-pods", "5000"]

# Generous limits: the benchmarks measure the platform, not the guard rails.
BENCH_ENV = {
    "URUMI_RATE_LIMIT_PER_MINUTE": "1000000",
    "URUMI_LOG_LEVEL": "WARNING",
}


@contextlib.contextmanager
def platform(
    *,
    cluster: bool,
    services: tuple[str, ...] = ("notifier", "gateway", "provisioner", "watcher"),
    env: dict[str, str] | None = None,
    max_stores: int = 100_000,
    keep: bool = False,
    real_node: bool = False,
    kube_proxy: bool = False,
) -> Iterator[BenchPlatform]:
    """NATS, optionally a devcluster (with a real node: stores land there), the
    services as processes; a tenant with a token. With `kube_proxy` the services
    reach the devcluster through `bench.kubeproxy`, which counts their requests.

    Everything lives in a fresh temporary directory, removed afterwards unless `keep`.
    """
    root = Path(tempfile.mkdtemp(prefix="urumi-bench-"))
    devcluster: Any = None
    node: Any = None
    proxy: Any = None
    kubeconfig, renderer = "", "urumi-render"
    try:
        if cluster:
            from services.devtools.devcluster import DevCluster
            from services.devtools.renderer import render_binary

            devcluster = DevCluster(root / "devcluster", extra_args=CLUSTER_ARGS)
            devcluster.start(timeout=300)
            kubeconfig, renderer = str(devcluster.kubeconfig), str(render_binary())
        if kube_proxy:
            from bench.kubeproxy import Proxy

            proxy = Proxy(devcluster.state_dir, devcluster.kubeconfig, root)
        if real_node:
            node, node_env = _real_node(devcluster, root)
            env = {**node_env, **(env or {})}
        stack = Stack(
            root / "stack",
            kubeconfig=str(proxy.kubeconfig) if proxy is not None else kubeconfig,
            renderer=renderer,
            services=services,
            log_dir=root / "logs",
            extra_env={**BENCH_ENV, **(env or {})},
        )
        stack.start(timeout=120)
        try:
            token = stack.create_tenant(TENANT, max_stores=max_stores, name="Benchmarks")
            pid = devcluster.pid if devcluster is not None else None
            yield BenchPlatform(stack, token, kubeconfig, root, pid, node, proxy)
        finally:
            stack.stop()
    finally:
        if proxy is not None:
            proxy.stop()
        if node is not None:
            node.stop()
        if devcluster is not None:
            devcluster.stop()
        if keep:
            print(f"(kept {root})")
        else:
            shutil.rmtree(root, ignore_errors=True)


def _real_node(devcluster: Any, root: Path) -> tuple[Any, dict[str, str]]:
    """A real node joined to `devcluster`, and the settings that put stores on it."""
    from services.devtools.realnode import RealNode

    node = RealNode(devcluster, root / "realnode")
    node.start()
    return node, node.provisioner_env(root / "realnode-values")


def wait_http(url: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            if httpx.get(url, timeout=1).status_code < 500:
                return
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline:
            raise TimeoutError(f"{url} did not answer within {timeout}s")
        time.sleep(0.1)


class RssSampler:
    """Peak RSS of each process while running: sample every `interval` seconds."""

    def __init__(self, pids: dict[str, int], interval: float = 0.25) -> None:
        self.pids = pids
        self.interval = interval
        self.peak: dict[str, float] = dict.fromkeys(pids, 0.0)
        self._task: asyncio.Task[None] | None = None

    def sample(self) -> dict[str, float]:
        now = {name: rss_mb(pid) for name, pid in self.pids.items()}
        for name, value in now.items():
            if not math.isnan(value):
                self.peak[name] = max(self.peak[name], value)
        return now

    async def _run(self) -> None:
        while True:
            self.sample()
            await asyncio.sleep(self.interval)

    def __enter__(self) -> RssSampler:
        self._task = asyncio.get_running_loop().create_task(self._run())
        return self

    def __exit__(self, *exc: object) -> None:
        if self._task is not None:
            self._task.cancel()
        self.sample()


class Profiler:
    """`py-spy record` of one process while a block runs (when py-spy is installed).

    Writes collapsed stacks to `out`; `top()` sums them per function. py-spy is a
    tool for looking into a miss, not a dependency: `.venv/bin/pip install py-spy`.
    """

    def __init__(self, pid: int, out: Path, seconds: float, rate: int = 200) -> None:
        self.pid = pid
        self.out = out
        self.seconds = seconds
        self.rate = rate
        self._proc: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> Profiler:
        spy = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
        args = f"record --format raw --nonblocking --rate {self.rate} --pid {self.pid}"
        self._proc = subprocess.Popen(
            [spy, *args.split(), "--duration", str(int(self.seconds)), "--output", str(self.out)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        return self

    def __exit__(self, *exc: object) -> None:
        if self._proc is not None:
            try:
                self._proc.wait(self.seconds + 30)
            except subprocess.TimeoutExpired:
                self._proc.terminate()
                self._proc.wait()

    def top(self, n: int = 25) -> str:
        return top_functions(self.out.read_text() if self.out.exists() else "", n)


def top_functions(collapsed: str, n: int = 25) -> str:
    """Inclusive and self share of samples per function, from py-spy's raw format.

    Each line is ``frame;frame;…;leaf count``; a frame is ``func (file:line)``.
    """
    inclusive: dict[str, int] = {}
    own: dict[str, int] = {}
    total = 0
    for line in collapsed.splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count = int(count_text)
        total += count
        frames = [_frame_name(f) for f in stack.split(";")]
        for name in set(frames):
            inclusive[name] = inclusive.get(name, 0) + count
        own[frames[-1]] = own.get(frames[-1], 0) + count
    if not total:
        return "(no samples)"
    ranked = sorted(inclusive.items(), key=lambda kv: -kv[1])[:n]
    rows = [
        [name, f"{100 * c / total:.1f}%", f"{100 * own.get(name, 0) / total:.1f}%"]
        for name, c in ranked
    ]
    return table(["function", "inclusive", "self"], rows) + f"\n({total} samples)"


def _frame_name(frame: str) -> str:
    """``func (path/to/mod.py:12)`` → ``func (mod.py)``: lines merged per function."""
    func, _, where = frame.partition(" (")
    path = where.rstrip(")").rpartition(":")[0] or where.rstrip(")")
    parts = path.split("/")
    short = "/".join(parts[-2:]) if len(parts) > 1 else path
    return f"{func} ({short})"


def cpu_seconds(pid: int, tree: bool = False) -> float:
    """User + system CPU time a process has used so far (/proc/<pid>/stat);
    with `tree`, plus that of its children, reaped or still running (the
    provisioner's urumi-render, PostgreSQL's backends), and theirs."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rpartition(")")[2].split()
    except OSError:
        return math.nan
    # after the command: state is field 3, utime 14, stime 15, cutime 16, cstime 17
    ticks = int(fields[11]) + int(fields[12])
    if not tree:
        return ticks / os.sysconf("SC_CLK_TCK")
    ticks += int(fields[13]) + int(fields[14])
    # A child that exits between listing and reading counts as nothing here: its
    # time is in this process's cutime by the next reading.
    running = (cpu_seconds(child, tree=True) for child in children(pid))
    return ticks / os.sysconf("SC_CLK_TCK") + sum(s for s in running if not math.isnan(s))


def children(parent: int) -> list[int]:
    """Process ids of the direct children of `parent`."""
    found: list[int] = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                ppid = int(f.read().rpartition(")")[2].split()[1])
        except (OSError, ValueError, IndexError):
            continue
        if ppid == parent:
            found.append(int(entry))
    return found


def child_pids(parent: int) -> dict[str, int]:
    """Direct children of `parent` by name: `devcluster apiserver` → apiserver, kwok → kwok."""
    out: dict[str, int] = {}
    for pid in children(parent):
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                argv = f.read().split(b"\0")
        except OSError:
            continue
        exe = os.path.basename(argv[0].decode())
        name = argv[1].decode() if exe == "devcluster" and len(argv) > 1 else exe
        out[name] = pid
    return out
