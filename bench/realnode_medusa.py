"""A real Medusa store on the real node: POST → `ready`, and POST → first order.

    .venv/bin/python -m bench.realnode_medusa [--stores 3]   (as root)

One devcluster with its real node (containerd, kubelet; images imported, never
pulled) and the platform as processes. Stores are created one after another,
each timed from the POST to `ready` in the API (the watcher derives it from the
kubelet's real probes), then to an order placed through Traefik as a shopper
would (region → cart → line item → addresses → shipping → payment → complete)
after the admin login that reads the publishable key. Each store is deleted,
and the time until its pods and volumes are gone from the node is measured too.
Cold for every store: Postgres initdb, Medusa's migrations and seed.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
from dataclasses import dataclass

import httpx

from bench.common import BenchPlatform, header, loadavg, platform, secs, table
from tests.realnode import shopper


@dataclass
class Run:
    ready_s: float
    order_s: float
    gone_s: float
    load: str


async def _wait(http: httpx.AsyncClient, store: str, phase: str, within: float) -> None:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        answer = await http.get(f"/api/v1/stores/{store}")
        if answer.status_code == 200 and answer.json()["phase"] == phase:
            return
        if answer.status_code == 200 and answer.json()["phase"] == "failed":
            raise RuntimeError(f"{store} failed: {answer.json()}")
        await asyncio.sleep(0.5)
    raise TimeoutError(f"{store} not {phase} within {within:.0f}s")


async def one_store(p: BenchPlatform, index: int) -> Run:
    store = f"bench-medusa-{index}"
    async with httpx.AsyncClient(base_url=p.api, headers=p.headers(), timeout=30) as http:
        started = time.monotonic()
        created = await http.post("/api/v1/stores", json={"id": store, "engine": "medusa"})
        created.raise_for_status()
        await _wait(http, store, "ready", 1200)
        ready_s = time.monotonic() - started
        creds = (await http.get(f"/api/v1/stores/{store}/credentials")).json()
        front = shopper.Storefront(url=created.json()["url"], ingress=p.node.ingress_url)
        token = await shopper.admin_token(front, creds["username"], creds["password"])
        key = await shopper.publishable_key(front, token)
        await shopper.place_order(front, key, f"{store}@example.com")
        order_s = time.monotonic() - started
        deleting = time.monotonic()
        (await http.delete(f"/api/v1/stores/{store}")).raise_for_status()
        await _wait(http, store, "deleted", 600)
    await _pods_gone(p, store)
    return Run(ready_s, order_s, time.monotonic() - deleting, loadavg())


async def _pods_gone(p: BenchPlatform, store: str) -> None:
    for _ in range(1200):
        if not p.node.crictl("pods", "--namespace", f"store-{store}", "--quiet").strip():
            return
        await asyncio.sleep(0.5)
    raise TimeoutError(f"the pods of {store} are still on the node")


def _row(name: str, values: list[float]) -> list[str]:
    return [name, secs(statistics.median(values)), f"{secs(min(values))} to {secs(max(values))}"]


async def run(p: BenchPlatform, stores: int) -> None:
    runs = []
    for i in range(stores):
        runs.append(await one_store(p, i))
        r = runs[-1]
        print(f"store {i}: ready {r.ready_s:.1f}s, order {r.order_s:.1f}s, ", end="")
        print(f"gone {r.gone_s:.1f}s, load {r.load}", flush=True)
    print(
        table(
            ["POST →", "median", "range"],
            [
                _row("ready", [r.ready_s for r in runs]),
                _row("first order placed", [r.order_s for r in runs]),
                _row("DELETE → pods gone from the node", [r.gone_s for r in runs]),
            ],
        )
    )
    print(f"n={stores}; load average after each store: {', '.join(r.load for r in runs)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--stores", type=int, default=3)
    args = parser.parse_args()
    print(header("A real Medusa store on the real node"))
    with platform(cluster=True, real_node=True) as p:
        asyncio.run(run(p, args.stores))


if __name__ == "__main__":
    main()
