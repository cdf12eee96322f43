"""Memory: RSS of each service idle, during a 100-store burst, and the notifier
with 10,000 sockets.

    .venv/bin/python -m bench.memory [--burst 100] [--sockets 10000]

One devcluster and stack. RSS is VmRSS from /proc/<pid>/status: idle after the
services have settled; "burst" is the peak sampled every 0.25 s while `--burst`
stores are created at once and become ready (then deleted); "sockets" is after
`--sockets` live websockets are open on the notifier (one client process).
"""

from __future__ import annotations

import argparse
import asyncio
import math

from bench.common import (
    TENANT,
    BenchPlatform,
    header,
    loadavg,
    platform,
    raise_nofile,
    rss_mb,
    table,
)
from bench.live import close_all, open_sockets, ticket_url
from bench.provisioning_burst import run_replicas


async def measure(
    plat: BenchPlatform, burst: int, sockets: int, settle: float
) -> list[list[object]]:
    pids = plat.pids()
    await asyncio.sleep(settle)
    idle = {name: rss_mb(pid) for name, pid in pids.items()}
    print(f"  idle: {idle} (load {loadavg()})", flush=True)
    _, peak = await run_replicas(plat, 1, [burst], 300)
    print(f"  burst peak: {peak}", flush=True)

    def noop(store: str, phase: str, generation: int, at: float, reason: str) -> None:
        return None

    base = ticket_url(plat.api, plat.token)
    opened, took, failed = await open_sockets(
        sockets,
        base,
        plat.stack.ticket_secret,
        TENANT,
        lambda: noop,
        on_progress=lambda n: print(f"    … {n} sockets open", flush=True),
    )
    await asyncio.sleep(5)
    with_sockets = {name: rss_mb(pid) for name, pid in pids.items()}
    closed = sum(1 for s in opened if s.closed)
    print(
        f"  {len(opened)} sockets in {took:.1f}s ({closed} closed since, {len(failed)} "
        f"did not open {failed[:1]}): {with_sockets}"
        f" (load {loadavg()})",
        flush=True,
    )
    await close_all(opened)
    rows: list[list[object]] = []
    for name in pids:
        rows.append(
            [
                name,
                f"{idle[name]:.0f}",
                f"{peak.get(name, math.nan):.0f}",
                f"{with_sockets[name]:.0f}",
            ]
        )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--burst", type=int, default=100)
    parser.add_argument("--sockets", type=int, default=10_000)
    parser.add_argument("--settle", type=float, default=15.0, help="seconds idle before")
    args = parser.parse_args()
    raise_nofile(args.sockets + 2048)
    print(header("memory"), flush=True)
    with platform(cluster=True) as plat:
        rows = asyncio.run(measure(plat, args.burst, args.sockets, args.settle))
    print()
    print(
        table(
            [
                "process",
                "idle MiB",
                f"peak in {args.burst}-store burst MiB",
                f"with {args.sockets:,} sockets MiB",
            ],
            rows,
        )
    )


if __name__ == "__main__":
    main()
