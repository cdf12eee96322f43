"""API: create stores at a fixed rate; list a tenant with 10,000 stores.

    .venv/bin/python -m bench.api [--rate 200] [--seconds 10] [--stores 10000]
                                  [--database sqlite|postgresql]

Runs NATS, the notifier and the gateway (no cluster: creating a store is the
gateway's work — validate, quota, a transaction with the outbox row, in SQLite or
in a PostgreSQL started for the run (tests/fixtures/postgres.py, durable) — and
the command then waits on the bus). Creates are sent open-loop: request i leaves
at start + i/rate whether or not earlier ones have answered, and its latency is
counted from that scheduled moment, so a stall shows up instead of hiding
(no coordinated omission). Then the tenant is filled up to `--stores` stores
(as fast as the gateway takes them) and pages of GET /api/v1/stores are timed,
plus a walk through all of them with `after`.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import time

import httpx

from bench.common import (
    BenchPlatform,
    Profiler,
    cpu_seconds,
    header,
    loadavg,
    ms,
    platform,
    summarize,
    table,
)
from tests.fixtures.postgres import PostgresServer

Row = list[object]
COLUMNS = (
    "request",
    "n",
    "achieved/s",
    "gateway CPU ms/req",
    "p50 ms",
    "p99 ms",
    "max ms",
    "errors",
    "load after",
)


async def create_at_rate(
    http: httpx.AsyncClient, rate: float, seconds: float, prefix: str, gateway: int
) -> tuple[Row, int]:
    """Open-loop creates; the row includes the gateway's CPU time per request."""
    total = int(rate * seconds)
    cpu0 = cpu_seconds(gateway)
    latencies: list[float] = []
    finished: list[tuple[float, float]] = []  # (done at, latency), for the timeline
    errors = 0
    start = time.perf_counter() + 0.2

    async def one(i: int) -> None:
        nonlocal errors
        due = start + i / rate
        await asyncio.sleep(max(0.0, due - time.perf_counter()))
        try:
            r = await http.post("/api/v1/stores", json={"id": f"{prefix}-{i:05d}"})
            ok = r.status_code == 202
        except httpx.HTTPError:
            ok = False
        now = time.perf_counter()
        latencies.append(now - due)
        finished.append((now - start, now - due))
        errors += 0 if ok else 1

    await asyncio.gather(*(one(i) for i in range(total)))
    took = time.perf_counter() - start
    cpu_ms = (cpu_seconds(gateway) - cpu0) * 1000 / total
    print(f"    timeline of {prefix} (second: answers, worst ms): {_timeline(finished)}")
    s = summarize(latencies)
    row: Row = [
        f"create at {rate:.0f}/s for {seconds:.0f}s",
        s.n,
        f"{total / took:.0f}",
        f"{cpu_ms:.2f}",
        ms(s.p50),
        ms(s.p99),
        ms(s.max),
        errors,
        loadavg(),
    ]
    return row, total - errors


def _timeline(finished: list[tuple[float, float]]) -> str:
    per_s: dict[int, list[float]] = {}
    for at, latency in finished:
        per_s.setdefault(int(at), []).append(latency)
    return " ".join(f"{s}: {len(v)}, {max(v) * 1000:.0f}" for s, v in sorted(per_s.items()))


async def fill(http: httpx.AsyncClient, have: int, want: int, parallel: int = 16) -> float:
    """Create stores `have`..`want` as fast as the gateway answers; stores/s."""
    todo = iter(range(have, want))
    started = time.perf_counter()

    async def worker() -> None:
        for i in todo:
            r = await http.post("/api/v1/stores", json={"id": f"fill-{i:05d}"})
            if r.status_code != 202:
                raise RuntimeError(f"create fill-{i:05d}: {r.status_code} {r.text}")

    await asyncio.gather(*(worker() for _ in range(parallel)))
    return (want - have) / (time.perf_counter() - started)


async def list_pages(http: httpx.AsyncClient, limit: int, repeat: int) -> Row:
    latencies: list[float] = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        r = await http.get("/api/v1/stores", params={"limit": limit})
        r.raise_for_status()
        latencies.append(time.perf_counter() - t0)
    n = len(r.json()["items"])
    s = summarize(latencies)
    label = f"list limit={limit} ({n} items)"
    return [label, s.n, "-", "-", ms(s.p50), ms(s.p99), ms(s.max), 0, loadavg()]


async def walk(http: httpx.AsyncClient, limit: int, repeat: int) -> Row:
    """Every store, page by page with `after`: the time of the whole walk."""
    latencies: list[float] = []
    count = 0
    for _ in range(repeat):
        t0 = time.perf_counter()
        after, count = "", 0
        while True:
            r = await http.get("/api/v1/stores", params={"limit": limit, "after": after})
            r.raise_for_status()
            body = r.json()
            count += len(body["items"])
            if not body.get("next_after"):
                break
            after = body["next_after"]
        latencies.append(time.perf_counter() - t0)
    s = summarize(latencies)
    label = f"list all {count:,} (pages of {limit})"
    return [label, s.n, "-", "-", ms(s.p50), ms(s.p99), ms(s.max), 0, loadavg()]


async def run(
    plat: BenchPlatform, rate: float, seconds: float, stores: int, repeat: int, profile: bool
) -> list[Row]:
    limits = httpx.Limits(max_connections=256, max_keepalive_connections=256)
    async with httpx.AsyncClient(
        base_url=plat.api, headers=plat.headers(), timeout=30, limits=limits
    ) as http:
        rows: list[Row] = []
        gateway = plat.pids()["gateway"]
        # A short warm-up so first-request costs (imports, SQLite page cache) are not timed.
        warm, _ = await create_at_rate(http, 50, 2, "warm", gateway)
        print("  warm-up:", warm, flush=True)
        if profile:
            out = plat.root / "gateway-create.txt"
            with Profiler(plat.pids()["gateway"], out, seconds) as spy:
                row, created = await create_at_rate(http, rate, seconds, "rate", gateway)
            print(" ", row, flush=True)
            print(spy.top(), flush=True)
        else:
            row, created = await create_at_rate(http, rate, seconds, "rate", gateway)
            print(" ", row, flush=True)
        rows.append(row)
        have = created + 100
        if stores > have:
            per_s = await fill(http, have, stores)
            print(f"  filled to {stores} stores at {per_s:.0f} stores/s", flush=True)
        me = (await http.get("/api/v1/me")).json()
        print(f"  tenant has {me['store_count']} stores", flush=True)
        for limit in (50, 500, 1000):
            rows.append(await list_pages(http, limit, repeat))
            print(" ", rows[-1], flush=True)
        rows.append(await walk(http, 1000, max(3, repeat // 10)))
        print(" ", rows[-1], flush=True)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=float, default=200.0, help="creates per second")
    parser.add_argument("--seconds", type=float, default=10.0, help="how long to create")
    parser.add_argument("--stores", type=int, default=10_000, help="stores when listing")
    parser.add_argument("--repeat", type=int, default=50, help="timed requests per list row")
    parser.add_argument("--profile", action="store_true", help="py-spy the gateway's creates")
    parser.add_argument("--keep", action="store_true", help="keep logs and state")
    parser.add_argument("--database", choices=("sqlite", "postgresql"), default="sqlite")
    args = parser.parse_args()
    print(header(f"API ({args.database})"), flush=True)
    with contextlib.ExitStack() as started:
        env: dict[str, str] = {}
        if args.database == "postgresql":
            server = PostgresServer(durable=True)
            server.start()
            started.callback(server.stop)
            env["URUMI_DATABASE_URL"] = server.new_database()
        plat = started.enter_context(
            platform(cluster=False, services=("notifier", "gateway"), env=env, keep=args.keep)
        )
        rows = asyncio.run(
            run(plat, args.rate, args.seconds, args.stores, args.repeat, args.profile)
        )
    print()
    print(
        table(
            COLUMNS,
            rows,
        )
    )


if __name__ == "__main__":
    main()
