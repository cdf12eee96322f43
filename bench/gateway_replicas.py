"""Gateway replicas on one PostgreSQL: creates per second with 1, 2 and 3 replicas.

    .venv/bin/python -m bench.gateway_replicas [--replicas 1,2,3] [--seconds 10]
                                               [--clients 32]

For each replica count, a fresh platform (NATS, the notifier, N gateways) on a
fresh durable PostgreSQL (tests/fixtures/postgres.py). `--clients` closed-loop
clients each send creates, round-robin over the replicas, as fast as they are
answered; so the figure is the platform's throughput, and the CPU columns say
where it went (the gateways together, PostgreSQL's backends, nats-server).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import time

import httpx

from bench.common import cpu_seconds, header, loadavg, ms, platform, summarize, table
from tests.fixtures.postgres import PostgresServer

Row = list[object]
COLUMNS = (
    "replicas",
    "creates",
    "creates/s",
    "p50 ms",
    "p99 ms",
    "errors",
    "gateways CPU ms/create",
    "postgres CPU ms/create",
    "load after",
)


async def burst(
    apis: list[str], token: str, clients: int, seconds: float, prefix: str
) -> tuple[int, list[float], int]:
    """Closed-loop creates for `seconds`: (accepted, latencies, errors)."""
    latencies: list[float] = []
    errors = 0
    ids = itertools.count()
    deadline = time.perf_counter() + seconds
    limits = httpx.Limits(max_connections=clients * 2, max_keepalive_connections=clients * 2)

    async def client(http: httpx.AsyncClient, first: int) -> None:
        nonlocal errors
        turn = itertools.islice(itertools.cycle(apis), first, None)
        while time.perf_counter() < deadline:
            t0 = time.perf_counter()
            try:
                r = await http.post(
                    f"{next(turn)}/api/v1/stores", json={"id": f"{prefix}-{next(ids):06d}"}
                )
                ok = r.status_code == 202
                if not ok and not errors:
                    print(f"    first error: {r.status_code} {r.text[:200]}", flush=True)
            except httpx.HTTPError as exc:
                ok = False
                print(f"    transport error: {exc!r}", flush=True)
            latencies.append(time.perf_counter() - t0)
            errors += 0 if ok else 1

    headers = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(headers=headers, timeout=30, limits=limits) as http:
        await asyncio.gather(*(client(http, n) for n in range(clients)))
    return len(latencies) - errors, latencies, errors


def measure(replicas: int, clients: int, seconds: float) -> Row:
    with contextlib.ExitStack() as started:
        server = PostgresServer(durable=True)
        server.start()
        started.callback(server.stop)
        env = {"URUMI_DATABASE_URL": server.new_database()}
        plat = started.enter_context(
            platform(cluster=False, services=("notifier", "gateway"), env=env)
        )
        for _ in range(replicas - 1):
            plat.stack.add("gateway")
        gateways = plat.stack.running("gateway")
        apis = [p.base_url for p in gateways]
        pids = [p.proc.pid for p in gateways if p.proc is not None]
        pg_pid = server.pid
        asyncio.run(burst(apis, plat.token, clients, 2.0, "warm"))  # warm-up: connections, caches
        gw0, pg0 = sum(map(cpu_seconds, pids)), cpu_seconds(pg_pid, tree=True)
        created, latencies, errors = asyncio.run(burst(apis, plat.token, clients, seconds, "run"))
        gw_ms = (sum(map(cpu_seconds, pids)) - gw0) * 1000 / max(created, 1)
        pg_ms = (cpu_seconds(pg_pid, tree=True) - pg0) * 1000 / max(created, 1)
    s = summarize(latencies)
    row: Row = [
        replicas,
        created,
        f"{created / seconds:.0f}",
        ms(s.p50),
        ms(s.p99),
        errors,
        f"{gw_ms:.1f}",
        f"{pg_ms:.1f}",
        loadavg(),
    ]
    print(" ", row, flush=True)
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--replicas", default="1,2,3", help="replica counts, comma-separated")
    parser.add_argument("--clients", type=int, default=32, help="closed-loop clients")
    parser.add_argument("--seconds", type=float, default=10.0, help="how long to create")
    args = parser.parse_args()
    print(header("Gateway replicas (PostgreSQL)"), flush=True)
    counts = [int(n) for n in args.replicas.split(",")]
    rows = [measure(n, args.clients, args.seconds) for n in counts]
    print()
    print(table(COLUMNS, rows))


if __name__ == "__main__":
    main()
