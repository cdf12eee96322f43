"""Provisioning burst: N stores created at once through the API, POST → `ready`.

    .venv/bin/python -m bench.provisioning_burst [--sizes 10 50 100] [--replicas 1 2]

For each provisioner replica count a fresh devcluster and stack are started; each
burst POSTs all its stores concurrently, and one websocket on the notifier
timestamps the first `ready` status of each store. Per store: POST sent → `ready`
received (p50/p95/max); whole burst: first POST → last `ready`. The stores are
deleted (and their deletion awaited) before the next burst. Peak RSS of every
process during the largest burst is printed too.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import math
import time
from dataclasses import dataclass, field

import httpx

from bench.common import (
    TENANT,
    BenchPlatform,
    RssSampler,
    cpu_seconds,
    header,
    loadavg,
    ms,
    platform,
    secs,
    summarize,
    table,
)
from bench.live import Socket, socket_url, ticket_url


@dataclass
class Tracker:
    """First arrival time of each (store, phase) seen on the websocket."""

    seen: dict[tuple[str, str], float] = field(default_factory=dict)
    changed: asyncio.Event = field(default_factory=asyncio.Event)
    reasons: dict[str, str] = field(default_factory=dict)  # why stores failed

    def __call__(self, store: str, phase: str, generation: int, at: float, reason: str) -> None:
        self.seen.setdefault((store, phase), at)
        if phase == "failed":
            self.reasons[store] = reason
        self.changed.set()

    def at(self, store: str, phase: str) -> float | None:
        return self.seen.get((store, phase))

    async def wait_all(self, stores: list[str], phases: set[str], within: float) -> bool:
        deadline = time.monotonic() + within
        while True:
            missing = [s for s in stores if not any(self.at(s, p) for p in phases)]
            if not missing:
                return True
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            self.changed.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.changed.wait(), min(left, 1.0))


@dataclass
class BurstResult:
    size: int
    replicas: int
    per_store: list[float]
    post: list[float]
    whole: float
    failed: int
    missing: int
    deleted_s: float
    load: str
    cpu_s: dict[str, float]  # CPU seconds used from first POST to last ready, by process


async def burst(
    plat: BenchPlatform, tracker: Tracker, size: int, replicas: int, prefix: str, within: float
) -> BurstResult:
    ids = [f"{prefix}-{i:03d}" for i in range(size)]
    procs = {**plat.pids(), **plat.cluster_pids()}
    cpu0 = {n: cpu_seconds(p, children=True) for n, p in procs.items()}
    sent: dict[str, float] = {}
    post_s: list[float] = []
    limits = httpx.Limits(max_connections=size, max_keepalive_connections=size)
    async with httpx.AsyncClient(
        base_url=plat.api, headers=plat.headers(), timeout=60, limits=limits
    ) as client:

        async def post(store: str) -> None:
            sent[store] = time.perf_counter()
            r = await client.post("/api/v1/stores", json={"id": store})
            post_s.append(time.perf_counter() - sent[store])
            r.raise_for_status()

        await asyncio.gather(*(post(s) for s in ids))
        # `failed` is a diagnosis that may clear, so wait for `ready` (or the limit).
        await tracker.wait_all(ids, {"ready"}, within)
        ready = {s: tracker.at(s, "ready") for s in ids}
        per_store = [t - sent[s] for s, t in ready.items() if t is not None]
        failed = sum(1 for s in ids if tracker.at(s, "failed"))
        missing = sum(1 for s in ids if not ready[s])
        if failed:
            why = sorted({tracker.reasons.get(s, "") for s in ids if tracker.at(s, "failed")})
            print(f"    {failed} stores reported failed on the way; reasons {why}", flush=True)
        done = [t for t in ready.values() if t is not None]
        whole = (max(done) - min(sent.values())) if done else math.nan
        load = loadavg()
        cpu = {n: cpu_seconds(p, children=True) - cpu0[n] for n, p in procs.items()}

        # Clean up so the next burst starts from the same place.
        t0 = time.perf_counter()
        await asyncio.gather(*(client.delete(f"/api/v1/stores/{s}") for s in ids))
        await tracker.wait_all(ids, {"deleted"}, within)
        deleted_s = time.perf_counter() - t0
    return BurstResult(
        size, replicas, per_store, post_s, whole, failed, missing, deleted_s, load, cpu
    )


async def run_replicas(
    plat: BenchPlatform, replicas: int, sizes: list[int], within: float
) -> tuple[list[BurstResult], dict[str, float]]:
    tracker = Tracker()
    url = ticket_url(plat.api, plat.token)
    sock = Socket(socket_url(url, plat.stack.ticket_secret, TENANT), tracker)
    await sock.open()
    results: list[BurstResult] = []
    peak: dict[str, float] = {}
    try:
        for n, size in enumerate(sizes):
            # A short pause so one burst's tail (namespace clean-up) settles.
            await asyncio.sleep(3)
            sampler = RssSampler(plat.pids())
            with sampler:
                result = await burst(plat, tracker, size, replicas, f"r{replicas}b{n}", within)
            if size == max(sizes):
                peak = sampler.peak
            results.append(result)
            print(_row_text(result), flush=True)
    finally:
        await sock.close()
    return results, peak


def _row_text(r: BurstResult) -> str:
    s = summarize(r.per_store)
    return (
        f"  {r.replicas} replica(s), {r.size} stores: p50 {secs(s.p50)}s p95 {secs(s.p95)}s "
        f"max {secs(s.max)}s whole {secs(r.whole)}s ever failed {r.failed} not ready {r.missing} "
        f"(load {r.load})"
    )


OURS = ("gateway", "notifier", "provisioner", "watcher", "nats-server")


def render_cpu(results: list[BurstResult]) -> str:
    """Where the CPU went, per store: our services (provisioner includes helm) vs the cluster."""
    names = sorted({n for r in results for n in r.cpu_s})
    rows = []
    for r in results:
        ours = sum(v for n, v in r.cpu_s.items() if n.split("-")[0] in OURS or n in OURS)
        total = sum(r.cpu_s.values())
        rows.append(
            [
                r.replicas,
                r.size,
                *(f"{1000 * r.cpu_s.get(n, 0.0) / r.size:.0f}" for n in names),
                f"{1000 * ours / r.size:.0f}",
                f"{1000 * (total - ours) / r.size:.0f}",
                f"{total / r.whole:.2f}" if r.whole else "-",
            ]
        )
    headers = ["replicas", "stores", *names, "ours", "cluster", "cores busy"]
    return "CPU ms per store, first POST → last ready:\n" + table(headers, rows)


def render(results: list[BurstResult]) -> str:
    rows = []
    for r in results:
        s = summarize(r.per_store)
        p = summarize(r.post)
        rows.append(
            [
                r.replicas,
                r.size,
                secs(s.p50),
                secs(s.p95),
                secs(s.max),
                secs(r.whole),
                ms(p.p99),
                r.missing,
                secs(r.deleted_s),
                r.load,
            ]
        )
    return table(
        [
            "replicas",
            "stores",
            "ready p50 s",
            "ready p95 s",
            "ready max s",
            "whole burst s",
            "POST p99 ms",
            "not ready",
            "delete all s",
            "load after",
        ],
        rows,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10, 50, 100])
    parser.add_argument("--replicas", type=int, nargs="+", default=[1, 2])
    parser.add_argument(
        "--concurrency", type=int, default=0, help="URUMI_PROVISION_CONCURRENCY (0: default)"
    )
    parser.add_argument("--timeout", type=float, default=300.0, help="per burst, seconds")
    args = parser.parse_args()
    env = {"URUMI_PROVISION_CONCURRENCY": str(args.concurrency)} if args.concurrency else {}
    print(header("provisioning burst"), flush=True)
    results: list[BurstResult] = []
    peaks: dict[int, dict[str, float]] = {}
    for replicas in args.replicas:
        with platform(cluster=True, env=env) as plat:
            for _ in range(replicas - 1):
                plat.stack.add("provisioner")
            found, peak = asyncio.run(run_replicas(plat, replicas, args.sizes, args.timeout))
            results += found
            peaks[replicas] = peak
    print()
    print(render(results))
    print()
    print(render_cpu(results))
    print()
    print(f"peak RSS (MiB) during the {max(args.sizes)}-store burst:")
    names = sorted({n for p in peaks.values() for n in p})
    print(
        table(
            ["replicas", *names],
            [[r, *(f"{p.get(n, math.nan):.0f}" for n in names)] for r, p in peaks.items()],
        )
    )


if __name__ == "__main__":
    main()
