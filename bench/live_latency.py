"""Live latency: a Kubernetes object change → every websocket client has the status.

    .venv/bin/python -m bench.live_latency [--sockets 1 100 1000 10000] [--changes 20]
        [--clients 2] [--notifier-workers 2] [--from-nats]

One store is created through the API and provisioned on a devcluster. Then, for
each socket count (sockets are added, never re-opened), the store's web pod is
flipped through the pods/status subresource, as a kubelet reports it: not ready
(CrashLoopBackOff) → the watcher says `degraded`; Ready again → `ready`. Latency
per socket and change: just before the PATCH is sent → the `store-status` frame
with the expected phase is read on that socket. The path measured is API server
write → watch → watcher → NATS → notifier (one shared feed per process, and
`--notifier-workers` processes on its one port, as `urumi dev` runs it) → websocket →
the read loops of `--clients` client processes (``bench/live_pool.py``: one
process reading all 10,000 sockets on one core was its own bottleneck). With
`--from-nats` there is no devcluster: each change is a status published to NATS as
the watcher publishes it, so the path is NATS → notifier → sockets alone.

Ready again is one status: the watcher counts the web pod's own Ready condition,
so it says `ready` on the pod's update. (Until issue 18 it waited for the
Deployment's status, one or two controller hops later, and published `degraded`
with reason NotReady in between: a →ready change crossed the notifier and the
sockets twice.) CrashLoopBackOff still waits for the Deployment to say it is no
longer available (its Available condition tolerates maxUnavailable pods down).
Per change the script prints when the API server answered the PATCH (it has
written the pod), when the expected status was published (a NATS subscriber
here: everything before the notifier), when the first socket had it, when the
last one did, and how many frames each socket got.
"""

from __future__ import annotations

import argparse
import asyncio
import math
import os
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from statistics import median
from typing import Any

import httpx
import msgspec
import nats
import nats.aio.client
import nats.aio.msg
from kubernetes_asyncio import client, config

from bench.common import (
    TENANT,
    BenchPlatform,
    Profiler,
    children,
    cpu_seconds,
    header,
    loadavg,
    ms,
    platform,
    raise_nofile,
    rss_mb,
    summarize,
    table,
)
from bench.live import Socket, socket_url, ticket_url
from bench.live_pool import ClientPool
from bench.provisioning_burst import Tracker
from services.contracts import subjects, wire
from services.contracts.events import Condition, StoreStatus
from services.contracts.phases import Phase
from services.contracts.subjects import EventKind

STORE = "live-bench"
COMPONENT_LABEL = "app.kubernetes.io/component"


@dataclass
class Change:
    """The change being measured: which phase is expected, since when."""

    phase: str = ""
    t0: float = 0.0
    # When the watcher's status with `phase` reached this process over NATS: the
    # part of the latency before the notifier.
    published: float = math.nan


class _Phase(msgspec.Struct):
    phase: str = ""


_decode_phase = msgspec.json.Decoder(_Phase).decode


async def watch_statuses(url: str, change: Change) -> nats.aio.client.Client:
    """Timestamp each status of the store as it is published (a plain NATS subscriber)."""

    async def on_status(msg: nats.aio.msg.Msg) -> None:
        at = time.perf_counter()
        if _decode_phase(msg.data).phase == change.phase and math.isnan(change.published):
            change.published = at

    nc = await nats.connect(url)
    await nc.subscribe(subjects.event_subject(TENANT, STORE, EventKind.STATUS), cb=on_status)
    return nc


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def not_ready(container: str, image: str) -> dict[str, Any]:
    waiting = {"reason": "CrashLoopBackOff", "message": "back-off 40s restarting failed container"}
    return {
        "conditions": [
            {"type": "Ready", "status": "False", "reason": "ContainersNotReady"},
            {"type": "ContainersReady", "status": "False", "reason": "ContainersNotReady"},
        ],
        "containerStatuses": [
            {
                "name": container,
                "image": image,
                "imageID": "",
                "ready": False,
                "restartCount": 3,
                "state": {"waiting": waiting},
            }
        ],
    }


def ready(container: str, image: str) -> dict[str, Any]:
    now = _now()
    return {
        "phase": "Running",
        "conditions": [
            {"type": "Ready", "status": "True", "lastTransitionTime": now},
            {"type": "ContainersReady", "status": "True", "lastTransitionTime": now},
        ],
        "containerStatuses": [
            {
                "name": container,
                "image": image,
                "imageID": "",
                "ready": True,
                "restartCount": 3,
                "state": {"running": {"startedAt": now}},
            }
        ],
    }


async def provision(plat: BenchPlatform, tracker: Tracker) -> None:
    async with httpx.AsyncClient(base_url=plat.api, headers=plat.headers()) as http:
        (await http.post("/api/v1/stores", json={"id": STORE})).raise_for_status()
    if not await tracker.wait_all([STORE], {"ready"}, 180):
        raise RuntimeError(f"{STORE} did not become ready: {tracker.seen}")


@dataclass
class Level:
    sockets: int
    connect_s: float
    degraded: list[float]
    recovered: list[float]
    published: list[float]  # per change: PATCH → the status on NATS
    patched: list[float]  # per change: PATCH sent → its answer (the API server wrote it)
    first: list[float]  # per change: PATCH → the first socket has it
    last: list[float]  # per change: PATCH → the last socket has it
    missing: int
    notifier_mb: float
    nats_mb: float
    load: str
    cpu_ms: dict[str, float]  # CPU time per change, by process
    idle_pct: float  # the notifier's CPU with the sockets open and no events
    failed: int  # sockets that did not open


Trigger = Callable[[str], Awaitable[None]]
Closer = Callable[[], Awaitable[None]]


async def patcher(plat: BenchPlatform, base: str) -> tuple[Trigger, Closer]:
    """Provision the store; then each change flips its web pod through pods/status."""
    tracker = Tracker()
    first = Socket(socket_url(base, plat.stack.ticket_secret, TENANT), tracker)
    await first.open()
    await provision(plat, tracker)
    await first.close()
    kube = await config.new_client_from_config(config_file=plat.kubeconfig)
    core = client.CoreV1Api(kube)
    ns = f"store-{STORE}"
    pods = await core.list_namespaced_pod(ns, label_selector=f"{COMPONENT_LABEL}=web")
    pod = next(p for p in pods.items if not p.metadata.deletion_timestamp)
    name, container = pod.metadata.name, pod.spec.containers[0]

    async def trigger(phase: str) -> None:
        body = not_ready if phase == "degraded" else ready
        await core.patch_namespaced_pod_status(
            name, ns, {"status": body(container.name, container.image)}
        )

    return trigger, kube.close


def status_event(phase: Phase) -> StoreStatus:
    """A status as the watcher publishes one (its five conditions), for --from-nats."""
    now = datetime.now(UTC)
    up = phase == Phase.READY
    why = ("Ready", "web: 1/1 ready") if up else ("NotReady", "web: 0/1 ready (CrashLoopBackOff)")
    conditions = [
        Condition("NamespaceReady", "True", "Active", f"namespace store-{STORE} is active", now),
        Condition("DatabaseReady", "True", "Ready", "db: 1/1 ready", now),
        Condition("WebReady", "True" if up else "False", why[0], why[1], now),
        Condition("StoreConfigured", "True", "Succeeded", "setup job completed", now),
        Condition("Routable", "True", "Admitted", f"{STORE}.example.test", now),
    ]
    reason = "" if up else "CrashLoopBackOff"
    url = f"http://{STORE}.example.test" if up else ""
    return StoreStatus(TENANT, STORE, phase, 1, now, conditions, url, reason)


async def publisher(plat: BenchPlatform) -> tuple[Trigger, Closer]:
    """Each change is a status published to JetStream as the watcher would: the
    path measured is NATS → notifier → sockets alone (no devcluster, no watcher)."""
    nc = await nats.connect(plat.stack.nats.url)
    js = nc.jetstream()
    subject = subjects.event_subject(TENANT, STORE, EventKind.STATUS)

    async def trigger(phase: str) -> None:
        await js.publish(subject, wire.encode(status_event(Phase(phase))))

    return trigger, nc.close


def notifier_pids(pids: dict[str, int]) -> list[int]:
    """Every notifier process: the replicas, and the workers each one started."""
    out: list[int] = []
    for name, pid in pids.items():
        if name == "notifier" or name.startswith("notifier-"):
            out += [pid, *children(pid)]
    return out


def system_seconds(pid: int) -> float:
    """CPU time the process has spent in the kernel (its `send`s): stime in /proc."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rpartition(")")[2].split()
    except OSError:
        return math.nan
    return int(fields[12]) / os.sysconf("SC_CLK_TCK")


async def _cpu(pids: dict[str, int], notifiers: list[int], pool: ClientPool) -> dict[str, float]:
    out = {"notifier": sum(cpu_seconds(p) for p in notifiers)}
    out["notifier in kernel"] = sum(system_seconds(p) for p in notifiers)
    out |= {name: cpu_seconds(pids[name]) for name in ("nats-server", "watcher") if name in pids}
    out["client"] = await pool.cpu_seconds() + time.process_time()
    return out


async def run(
    plat: BenchPlatform,
    counts: list[int],
    changes: int,
    within: float,
    profile: bool,
    clients: int,
    from_nats: bool,
) -> list[Level]:
    base = ticket_url(plat.api, plat.token)
    if from_nats:
        trigger, closer = await publisher(plat)
    else:
        trigger, closer = await patcher(plat, base)
    pids = plat.pids()
    notifiers = notifier_pids(pids)
    print(f"    notifier processes {len(notifiers)}, client processes {clients}", flush=True)

    change = Change()
    nc = await watch_statuses(plat.stack.nats.url, change)
    pool = ClientPool(clients, STORE)
    levels: list[Level] = []
    try:
        for count in counts:
            _, took, failed = await pool.open(
                count - pool.sockets, base, plat.stack.ticket_secret, TENANT
            )
            print(f"    {pool.sockets} sockets open", flush=True)
            if failed:
                print(f"    {len(failed)} sockets did not open, e.g. {failed[0]}", flush=True)
            await asyncio.sleep(2)  # let the opening burst settle
            idle0 = sum(cpu_seconds(p) for p in notifiers)
            await asyncio.sleep(5)
            idle_pct = (sum(cpu_seconds(p) for p in notifiers) - idle0) / 5 * 100
            results: dict[str, list[float]] = {"degraded": [], "ready": []}
            published: list[float] = []
            patched: list[float] = []
            firsts: list[float] = []
            lasts: list[float] = []
            missing = 0
            closed: list[str] = []
            spy = None
            if profile and count == max(counts):
                out = plat.root / f"notifier-{count}.txt"
                spy = Profiler(pids["notifier"], out, changes * 1.5).__enter__()
            cpu0 = await _cpu(pids, notifiers, pool)
            for i in range(changes):
                phase = "degraded" if i % 2 == 0 else "ready"
                await pool.expect(phase, i)
                change.phase = phase
                change.published = math.nan
                change.t0 = time.perf_counter()
                await trigger(phase)
                # The API server has written it: the rest of `published` is its watch,
                # the watcher and NATS.
                patched.append(time.perf_counter() - change.t0)
                got = await pool.collect(within)
                latencies = [at - change.t0 for at in got.arrivals]
                missing += pool.sockets - len(latencies)
                closed = got.closed
                results[phase] += latencies
                published.append(change.published - change.t0)
                firsts.append(min(latencies, default=math.nan))
                lasts.append(max(latencies, default=math.nan))
                p50 = summarize(latencies).p50
                print(
                    f"    change {i:2} →{phase:8} patched {ms(patched[-1])} "
                    f"published {ms(published[-1])} "
                    f"first socket {ms(firsts[-1])} p50 {ms(p50)} last {ms(lasts[-1])} ms, "
                    f"frames per socket {got.frames / max(pool.sockets, 1):.2f} "
                    f"(and pings {got.pings / max(pool.sockets, 1):.2f})",
                    flush=True,
                )
                await asyncio.sleep(0.3)
            cpu1 = await _cpu(pids, notifiers, pool)
            if spy is not None:
                spy.__exit__(None, None, None)
                print(spy.top(40), flush=True)
            level = Level(
                pool.sockets,
                took,
                results["degraded"],
                results["ready"],
                published,
                patched,
                firsts,
                lasts,
                missing,
                sum(rss_mb(p) for p in notifiers),
                rss_mb(pids["nats-server"]) if "nats-server" in pids else float("nan"),
                loadavg(),
                {k: (cpu1[k] - cpu0[k]) * 1000 / changes for k in cpu0},
                idle_pct,
                len(failed),
            )
            levels.append(level)
            both = summarize(level.degraded + level.recovered)
            print(
                f"  {count} sockets (opened in {took:.1f}s): p50 {ms(both.p50)} ms "
                f"p99 {ms(both.p99)} ms max {ms(both.max)} ms, missing {missing}, "
                f"closed {len(closed)} {closed[:1]}, notifier {level.notifier_mb:.0f} MiB "
                f"idle CPU {idle_pct:.0f}% (load {level.load}); "
                f"CPU ms per change {_cpu_text(level.cpu_ms)}",
                flush=True,
            )
    finally:
        await pool.close()
        await closer()
        await nc.close()
    return levels


def _cpu_text(cpu: dict[str, float]) -> str:
    return " ".join(f"{k} {v:.0f}" for k, v in cpu.items())


def render(levels: list[Level]) -> str:
    rows = []
    for lv in levels:
        both = summarize(lv.degraded + lv.recovered)
        deg, rec = summarize(lv.degraded), summarize(lv.recovered)
        spread = [b - a for a, b in zip(lv.published, lv.last, strict=True)]
        rows.append(
            [
                f"{lv.sockets:,}",
                f"{lv.connect_s:.1f}",
                both.n,
                ms(both.p50),
                ms(both.p99),
                ms(both.max),
                ms(rec.p99),
                ms(deg.p99),
                f"{ms(median(lv.patched))} / {ms(max(lv.patched))}",
                f"{ms(median(lv.published))} / {ms(max(lv.published))}",
                f"{ms(median(lv.first))} / {ms(max(lv.first))}",
                f"{ms(median(spread))} / {ms(max(spread))}",
                lv.missing,
                lv.failed,
                f"{lv.idle_pct:.0f}",
                f"{lv.notifier_mb:.0f}",
                f"{lv.nats_mb:.0f}",
                _cpu_text(lv.cpu_ms),
                lv.load,
            ]
        )
    return table(
        [
            "sockets",
            "open s",
            "samples",
            "p50 ms",
            "p99 ms",
            "max ms",
            "→ready p99",
            "→degraded p99",
            "PATCH answered ms (median / max)",
            "published ms (median / max)",
            "first socket ms (median / max)",
            "published → last socket ms (median / max)",
            "missed",
            "not opened",
            "notifier idle CPU %",
            "notifier MiB",
            "nats MiB",
            "CPU ms per change",
            "load after",
        ],
        rows,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sockets", type=int, nargs="+", default=[1, 100, 1000, 10000])
    parser.add_argument("--changes", type=int, default=20, help="status flips per level")
    parser.add_argument("--within", type=float, default=30.0, help="seconds to wait per flip")
    parser.add_argument("--keep", action="store_true", help="keep logs and state")
    parser.add_argument(
        "--from-nats",
        action="store_true",
        help="no devcluster: publish each status to NATS (measures NATS → sockets only)",
    )
    parser.add_argument("--profile", action="store_true", help="py-spy the notifier (top level)")
    parser.add_argument(
        "--clients", type=int, default=2, help="client processes the sockets are spread over"
    )
    parser.add_argument(
        "--notifier-workers",
        type=int,
        default=2,
        help="URUMI_NOTIFIER_WORKERS: notifier processes on the one port (as `urumi dev`)",
    )
    args = parser.parse_args()
    # One fd per socket here and one in the notifier (a child: it inherits the limit).
    limit = raise_nofile(max(args.sockets) + 2048)
    if limit < max(args.sockets) + 256:
        raise SystemExit(f"open-file limit {limit} is too low for {max(args.sockets)} sockets")
    print(header("live latency"), flush=True)
    env = (
        {}
        if args.notifier_workers is None
        else {"URUMI_NOTIFIER_WORKERS": str(args.notifier_workers)}
    )
    with platform(cluster=not args.from_nats, keep=args.keep, env=env) as plat:
        counts = sorted(args.sockets)
        levels = asyncio.run(
            run(
                plat,
                counts,
                args.changes,
                args.within,
                args.profile,
                args.clients,
                args.from_nats,
            )
        )
    print()
    print(render(levels))


if __name__ == "__main__":
    main()
