"""Provisioning burst: N stores created at once through the API, POST → `ready`.

    .venv/bin/python -m bench.provisioning_burst [--sizes 10 50 100] [--replicas 1 2]
        [--attribute] [--json FILE]

For each provisioner replica count a fresh devcluster and stack are started; each
burst POSTs all its stores concurrently, and one websocket on the notifier
timestamps the first `ready` status of each store. Per store: POST sent → `ready`
received (p50/p95/max); whole burst: first POST → last `ready`. The stores are
deleted (and their deletion awaited) before the next burst. Peak RSS of every
process during the largest burst is printed too.

The work, per store, which unlike the times does not move with the machine's
load: API server requests by verb and resource, watch events and bytes the API
server sent, etcd puts/deletes/bytes, and the requests the controller-manager and
scheduler made, each from the counters those processes expose, scraped before
the POSTs, at the last `ready` (the create phase) and once the deletes have
settled (the delete phase); and the CPU of every process in each phase. With
`--attribute` our services reach the API server through `bench.kubeproxy`, which
counts their own requests and the watch events delivered to them."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import math
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

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
from bench.kubescrape import ClusterMetrics, deltas
from bench.kubework import Column, Work, client_rows, per_store_table, work
from bench.live import Socket, socket_url, ticket_url

# After the last store is reported deleted the control plane still settles its
# tail (garbage collection, PV clean-up, lease and event writes): wait this long
# before the delete phase's final scrape, so that its work lands in that phase.
SETTLE_S = 3.0


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
    cpu_delete_s: dict[str, float]  # CPU seconds from the DELETEs to the settled end, by process
    create: Work  # first POST → last ready
    delete: Work  # DELETEs → every store deleted, plus SETTLE_S


async def burst(
    plat: BenchPlatform, tracker: Tracker, size: int, replicas: int, prefix: str, within: float
) -> BurstResult:
    ids = [f"{prefix}-{i:03d}" for i in range(size)]
    procs = {**plat.pids(), **plat.cluster_pids()}
    if plat.proxy is not None:
        procs[PROXY] = plat.proxy.pid
    metrics = ClusterMetrics(plat.root / "devcluster", plat.proxy.url if plat.proxy else "")
    # Scrapes sit outside the CPU windows: the API server's work for them is not the stores'.
    before = await metrics.scrape()
    cpu0 = {n: cpu_seconds(p, tree=True) for n, p in procs.items()}
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
        cpu1 = {n: cpu_seconds(p, tree=True) for n, p in procs.items()}
        created = await metrics.scrape()

        # Clean up so the next burst starts from the same place.
        t0 = time.perf_counter()
        await asyncio.gather(*(client.delete(f"/api/v1/stores/{s}") for s in ids))
        await tracker.wait_all(ids, {"deleted"}, within)
        deleted_s = time.perf_counter() - t0
        await asyncio.sleep(SETTLE_S)
        cpu2 = {n: cpu_seconds(p, tree=True) for n, p in procs.items()}
        settled = await metrics.scrape()
    return BurstResult(
        size,
        replicas,
        per_store,
        post_s,
        whole,
        failed,
        missing,
        deleted_s,
        load,
        cpu_s={n: cpu1[n] - cpu0[n] for n in procs},
        cpu_delete_s={n: cpu2[n] - cpu1[n] for n in procs},
        create=work(deltas(created, before)),
        delete=work(deltas(settled, created)),
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
            # A short pause so that the stack's start (or the last burst) settles.
            await asyncio.sleep(SETTLE_S)
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
PROXY = "kubeproxy"  # the bench's counting proxy (--attribute): neither ours nor the cluster's


def render_cpu(results: list[BurstResult]) -> str:
    """Where the CPU went, per store and phase: our services (provisioner includes
    helm) vs the cluster."""
    names = sorted({n for r in results for n in r.cpu_s})
    rows = []
    for r in results:
        phases = (
            ("create", r.cpu_s, r.whole),
            ("delete", r.cpu_delete_s, r.deleted_s + SETTLE_S),
        )
        for phase, cpu, wall in phases:
            ours = sum(v for n, v in cpu.items() if n.split("-")[0] in OURS or n in OURS)
            total = sum(v for n, v in cpu.items() if n != PROXY)
            rows.append(
                [
                    r.replicas,
                    r.size,
                    phase,
                    *(f"{1000 * cpu.get(n, 0.0) / r.size:.0f}" for n in names),
                    f"{1000 * ours / r.size:.0f}",
                    f"{1000 * (total - ours) / r.size:.0f}",
                    f"{total / wall:.2f}" if wall else "-",
                ]
            )
    headers = ["replicas", "stores", "phase", *names, "ours", "cluster", "cores busy"]
    return (
        "CPU ms per store; create: first POST → last ready, "
        f"delete: DELETEs → all deleted + {SETTLE_S:.0f} s:\n" + table(headers, rows)
    )


def _columns(
    results: list[BurstResult], pick: Callable[[Work], Mapping[Any, float]]
) -> list[Column]:
    """One column per burst and phase; the replica count named only when it varies."""
    several = len({r.replicas for r in results}) > 1
    out = []
    for r in results:
        for phase, w in (("create", r.create), ("delete", r.delete)):
            name = f"{r.size} {phase}" + (f" r{r.replicas}" if several else "")
            values = pick(w)
            out.append(
                Column(
                    name,
                    r.size,
                    {k if isinstance(k, tuple) else (k,): v for k, v in values.items()},
                )
            )
    return out


def _per(value: float, stores: int) -> str:
    return "-" if math.isnan(value) else f"{value / stores:,.1f}"


def render_work(results: list[BurstResult]) -> str:
    """The control plane's work per store: the headline, then where it went."""
    rows = [
        [r.replicas, r.size, phase, *(_per(v, r.size) for v in w.summary().values())]
        for r in results
        for phase, w in (("create", r.create), ("delete", r.delete))
    ]
    headline = table(["replicas", "stores", "phase", *Work().summary()], rows)
    own = ", ".join(
        f"{r.size} {phase} {w.self_requests / r.size:.1f}"
        for r in results
        for phase, w in (("create", r.create), ("delete", r.delete))
    )
    parts = [
        "Control-plane work per store (API server and etcd counters; load-independent):",
        headline,
        "API server requests per store, by verb and resource (everyone's: ours, the "
        "controllers', the scheduler's, kwok's; the API server's loopback requests left out — "
        f"per store: {own}):",
        per_store_table(["verb", "resource"], _columns(results, lambda w: w.requests), floor=0.05),
        "Of those, answered with an error (4xx, 5xx) per store:",
        per_store_table(["verb", "resource", "code"], _columns(results, lambda w: w.errors)),
        "Watch events the API server sent per store, to every watcher, by resource:",
        per_store_table(["resource"], _columns(results, lambda w: w.watch_events), floor=0.05),
        "Watch KiB the API server sent per store, by resource:",
        per_store_table(
            ["resource"],
            _columns(results, lambda w: {k: v / 1024 for k, v in w.watch_bytes.items()}),
            floor=0.5,
        ),
        *(
            [
                "Our services' requests per store (counted by bench.kubeproxy):",
                per_store_table(["verb", "resource"], _columns(results, lambda w: w.ours)),
                "Watch events and KiB delivered to our services per store (bench.kubeproxy):",
                per_store_table(
                    ["resource"], _columns(results, lambda w: w.our_watch_events), floor=0.05
                ),
                per_store_table(
                    ["resource"],
                    _columns(
                        results, lambda w: {k: v / 1024 for k, v in w.our_watch_bytes.items()}
                    ),
                    floor=0.5,
                ),
            ]
            if any(r.create.ours for r in results)
            else []
        ),
        "etcd per store (its own counters):",
        per_store_table(["figure"], _columns(results, lambda w: w.etcd), total=False),
        "Requests made by the controller-manager and the scheduler per store (their "
        "client-side counters; kwok has none):",
        per_store_table(["process", "method"], _columns(results, lambda w: client_rows(w.clients))),
    ]
    return "\n\n".join(parts)


def as_json(r: BurstResult) -> dict[str, Any]:
    """One burst's figures as plain JSON (keys "VERB resource"), for comparing runs."""

    def phase(w: Work) -> dict[str, Any]:
        return {
            # NaN ("ours" without the proxy) is not JSON: null.
            "summary": {k: None if math.isnan(v) else v for k, v in w.summary().items()},
            "requests": {f"{v} {res}": n for (v, res), n in w.requests.items()},
            "errors": {f"{v} {res} {code}": n for (v, res, code), n in w.errors.items()},
            "ours": {f"{v} {res}": n for (v, res), n in w.ours.items()},
            "watch_events": w.watch_events,
            "our_watch_events": w.our_watch_events,
            "etcd": w.etcd,
            "clients": w.clients,
        }

    return {
        "stores": r.size,
        "replicas": r.replicas,
        "ready_p50_s": summarize(r.per_store).p50,
        "ready_p95_s": summarize(r.per_store).p95,
        "whole_s": r.whole,
        "delete_s": r.deleted_s,
        "not_ready": r.missing,
        "load": r.load,
        "cpu_s": {"create": r.cpu_s, "delete": r.cpu_delete_s},
        "create": phase(r.create),
        "delete": phase(r.delete),
    }


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
    parser.add_argument(
        "--attribute",
        action="store_true",
        help="count our services' own requests through bench.kubeproxy (slows the bursts)",
    )
    parser.add_argument("--json", type=Path, help="also write every burst's figures here")
    args = parser.parse_args()
    env = {"URUMI_PROVISION_CONCURRENCY": str(args.concurrency)} if args.concurrency else {}
    print(header("provisioning burst"), flush=True)
    results: list[BurstResult] = []
    peaks: dict[int, dict[str, float]] = {}
    for replicas in args.replicas:
        with platform(cluster=True, env=env, kube_proxy=args.attribute) as plat:
            for _ in range(replicas - 1):
                plat.stack.add("provisioner")
            found, peak = asyncio.run(run_replicas(plat, replicas, args.sizes, args.timeout))
            results += found
            peaks[replicas] = peak
    if args.json:
        args.json.write_text(json.dumps([as_json(r) for r in results], indent=1))
    print()
    print(render(results))
    print()
    print(render_cpu(results))
    print()
    print(render_work(results))
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
