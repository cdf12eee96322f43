"""What waking from idle costs in CPU time on this machine.

    .venv/bin/python -m bench.idle_wake [--calls 300]

The same fixed piece of Python work (JSON encoding and small loops, ≈ 0.35 ms)
is timed with the thread's CPU clock, back to back and then with a gap after
each call: either sleeping (the process goes idle, as a service between
requests does) or busy-waiting (it never does). Only the work is timed, not the
gap. Where sleeping gaps make the same work cost more, a service's "CPU per
request" at a modest rate includes that much for waking up, whatever its code.
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable

from bench.common import header, table

DATA = {"id": "shop", "items": list(range(50)), "nested": {"text": "b" * 50}}
GAPS_S = (0.0, 0.005, 0.02)


def work() -> int:
    total = 0
    for _ in range(40):
        total += len(json.dumps(DATA))
        total += sum(i * i for i in range(30))
    return total


def busy_wait(seconds: float) -> None:
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        pass


def cpu_per_call(calls: int, gap_s: float, wait: Callable[[float], None]) -> float:
    """Mean CPU microseconds of `work`, with `wait(gap_s)` after each call."""
    work()
    spent = 0.0
    for _ in range(calls):
        start = time.thread_time()
        work()
        spent += time.thread_time() - start
        if gap_s:
            wait(gap_s)
    return spent * 1e6 / calls


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=300, help="timed calls per row")
    args = parser.parse_args()
    print(header("Waking from idle"), flush=True)
    rows: list[list[object]] = []
    for gap in GAPS_S:
        slept = cpu_per_call(args.calls, gap, time.sleep)
        busy = cpu_per_call(args.calls, gap, busy_wait)
        rows.append([f"{gap * 1000:.0f} ms", f"{slept:.0f}", f"{busy:.0f}"])
        print(" ", rows[-1], flush=True)
    print()
    columns = ["gap after each call", "sleeping: CPU µs/call", "busy-waiting: CPU µs/call"]
    print(table(columns, rows))


if __name__ == "__main__":
    main()
