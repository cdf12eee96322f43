"""Scrape the devcluster's metrics: the API server, etcd, controller-manager, scheduler.

The devcluster writes its admin client certificate (O=system:masters) and CA to
``STATE_DIR/pki`` and its ports to ``STATE_DIR/ports.json``. The API server's
/metrics needs that certificate; etcd serves /metrics on its plain-http
loopback client URL; the controller-manager and scheduler serve theirs over
TLS (their own self-signed serving certificates, hence no verification) and let
/metrics through without authorization (``--authorization-always-allow-paths``).
kwok exposes no client-side request counters, so its requests are seen only in
the API server's totals. Our own services' requests are counted by
`bench.kubeproxy` when the bench routes them through it.

The parsing is pure and lives in `bench.kubework`.
"""

from __future__ import annotations

import asyncio
import json
import ssl
from pathlib import Path

import httpx

from bench.kubeproxy import METRICS_PATH
from bench.kubework import (
    APISERVER_SAMPLES,
    CLIENT_SAMPLES,
    ETCD_SAMPLES,
    PROXY_SAMPLES,
    Counters,
    diff,
    parse,
)

Scrape = dict[str, Counters]  # process name → its counters at one moment


class ClusterMetrics:
    """The counters of one running devcluster, fetched together."""

    def __init__(self, state_dir: Path, proxy_url: str = "") -> None:
        """`proxy_url`: the `bench.kubeproxy` our services go through, if any."""
        ports = json.loads((state_dir / "ports.json").read_text())
        pki = state_dir / "pki"
        self._admin = ssl.create_default_context(cafile=str(pki / "ca.crt"))
        self._admin.load_cert_chain(str(pki / "admin.crt"), str(pki / "admin.key"))
        self._targets = {
            "apiserver": (f"https://127.0.0.1:{ports['apiserver']}/metrics", APISERVER_SAMPLES),
            "etcd": (f"http://127.0.0.1:{ports['etcd_client']}/metrics", ETCD_SAMPLES),
            "controller-manager": (
                f"https://127.0.0.1:{ports['controller_manager']}/metrics",
                CLIENT_SAMPLES,
            ),
            "scheduler": (f"https://127.0.0.1:{ports['scheduler']}/metrics", CLIENT_SAMPLES),
        }
        if proxy_url:
            self._targets["ours"] = (proxy_url + METRICS_PATH, PROXY_SAMPLES)

    async def scrape(self) -> Scrape:
        async with (
            httpx.AsyncClient(verify=self._admin, timeout=30) as admin,
            # The components' serving certificates are self-signed at start and
            # carry nothing to check on loopback.
            httpx.AsyncClient(verify=False, timeout=30) as insecure,  # noqa: S501
        ):

            async def one(name: str, url: str, names: frozenset[str]) -> tuple[str, Counters]:
                client = admin if name == "apiserver" else insecure
                resp = await client.get(url)
                resp.raise_for_status()
                # Parsing ~15,000 lines takes a fraction of a second: off the loop,
                # which is timestamping websocket frames.
                return name, await asyncio.to_thread(parse, resp.text, names)

            found = await asyncio.gather(
                *(one(name, url, names) for name, (url, names) in self._targets.items())
            )
        return dict(found)


def deltas(after: Scrape, before: Scrape) -> Scrape:
    """Each process's counter differences between two scrapes."""
    return {name: diff(after[name], before.get(name, {})) for name in after}
