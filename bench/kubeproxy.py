"""A counting proxy between our services and the devcluster's API server.

    python -m bench.kubeproxy --state-dir DEVCLUSTER_DIR --port N

The API server's own counters cannot tell our requests from the controllers',
the scheduler's and kwok's: every component authenticates as the same admin,
and no metric carries a user agent. So `bench.provisioning_burst --attribute`
points our services at this proxy, which forwards every request as the admin
(the devcluster's certificate serves it, so the services' kubeconfig CA still
verifies it) and counts them with the API server's labels (verb, resource), and
the watch events (lines of a watch response) and bytes it passes back, by resource.
It serves those counters, in Prometheus text, on ``GET /__bench/metrics``.

It runs in a process of its own so that its CPU is measurable apart from the
bench's event loop, which timestamps websocket frames; its CPU and the hop it
adds make a burst through it slower, so timings of an attributed run are not
comparable with others (the counts are). The classification is pure, in
`bench.kubework.classify`.
"""

from __future__ import annotations

import argparse
import json
import socket
import ssl
import subprocess
import sys
import time
from pathlib import Path
from typing import Final

import httpx
import yaml
from aiohttp import ClientSession, ClientTimeout, TCPConnector, web
from prometheus_client import CollectorRegistry, Counter, generate_latest

from bench.kubework import classify

METRICS_PATH: Final = "/__bench/metrics"
# Hop-by-hop headers and those aiohttp recomputes for the body it sends.
DROPPED: Final = frozenset(
    {"host", "connection", "keep-alive", "transfer-encoding", "content-length", "upgrade"}
)

REGISTRY: Final = CollectorRegistry()
REQUESTS: Final = Counter(
    "urumi_bench_kube_requests",
    "Requests our services made",
    ["verb", "resource"],
    registry=REGISTRY,
)
WATCH_EVENTS: Final = Counter(
    "urumi_bench_kube_watch_events",
    "Watch events delivered to our services",
    ["resource"],
    registry=REGISTRY,
)
WATCH_BYTES: Final = Counter(
    "urumi_bench_kube_watch_bytes",
    "Bytes of watch events delivered to our services",
    ["resource"],
    registry=REGISTRY,
)


def make_app(upstream: str, client_tls: ssl.SSLContext) -> web.Application:
    session: ClientSession | None = None

    async def start(_: web.Application) -> None:
        nonlocal session
        # No total timeout: watches stay open for minutes. auto_decompress off:
        # the body goes back as the API server encoded it.
        session = ClientSession(
            connector=TCPConnector(ssl=client_tls, limit=0),
            timeout=ClientTimeout(total=None),
            auto_decompress=False,
        )

    async def stop(_: web.Application) -> None:
        if session is not None:
            await session.close()

    async def metrics(_: web.Request) -> web.Response:
        return web.Response(body=generate_latest(REGISTRY), content_type="text/plain")

    async def forward(request: web.Request) -> web.StreamResponse:
        assert session is not None
        # kubernetes_asyncio sends "True"; the API server parses it as Go's ParseBool does.
        watch = request.query.get("watch", "").lower() in ("true", "1", "t")
        verb, resource = classify(
            request.method, request.path, watch, request.headers.get("Content-Type", "")
        )
        REQUESTS.labels(verb, resource).inc()
        headers = {k: v for k, v in request.headers.items() if k.lower() not in DROPPED}
        async with session.request(
            request.method,
            upstream + request.path_qs,
            headers=headers,
            data=await request.read(),
            allow_redirects=False,
        ) as upstream_resp:
            resp = web.StreamResponse(status=upstream_resp.status, reason=upstream_resp.reason)
            for k, v in upstream_resp.headers.items():
                if k.lower() not in DROPPED:
                    resp.headers.add(k, v)
            await resp.prepare(request)
            async for chunk in upstream_resp.content.iter_any():
                if watch:
                    # One JSON object per line per event (bookmarks included).
                    WATCH_EVENTS.labels(resource).inc(chunk.count(b"\n"))
                    WATCH_BYTES.labels(resource).inc(len(chunk))
                await resp.write(chunk)
            await resp.write_eof()
            return resp

    app = web.Application(client_max_size=64 * 1024 * 1024)
    app.on_startup.append(start)
    app.on_cleanup.append(stop)
    app.router.add_get(METRICS_PATH, metrics)
    app.router.add_route("*", "/{tail:.*}", forward)
    return app


class Proxy:
    """The proxy as a child process of the bench, and a kubeconfig that points at it."""

    def __init__(self, state_dir: Path, kubeconfig: Path, out_dir: Path) -> None:
        self.port = _free_port()
        self.url = f"https://127.0.0.1:{self.port}"
        config = yaml.safe_load(kubeconfig.read_text())
        for cluster in config["clusters"]:
            cluster["cluster"]["server"] = self.url
        self.kubeconfig = out_dir / "kubeproxy.kubeconfig"
        self.kubeconfig.write_text(yaml.safe_dump(config))
        args = ["--state-dir", str(state_dir), "--port", str(self.port)]
        self._proc = subprocess.Popen(
            [sys.executable, "-m", "bench.kubeproxy", *args],
            cwd=Path(__file__).resolve().parents[1],
        )
        deadline = time.monotonic() + 30
        while not self._answers():
            if self._proc.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError("bench.kubeproxy did not start")
            time.sleep(0.1)

    @property
    def pid(self) -> int:
        return self._proc.pid

    def _answers(self) -> bool:
        try:
            # Loopback, our own certificate: nothing to verify here.
            return httpx.get(self.url + METRICS_PATH, verify=False, timeout=1).is_success  # noqa: S501
        except httpx.HTTPError:
            return False

    def stop(self) -> None:
        self._proc.terminate()
        try:
            self._proc.wait(10)
        except subprocess.TimeoutExpired:
            self._proc.kill()
            self._proc.wait()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--state-dir", type=Path, required=True, help="the devcluster's")
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    pki = args.state_dir / "pki"
    ports = json.loads((args.state_dir / "ports.json").read_text())
    client_tls = ssl.create_default_context(cafile=str(pki / "ca.crt"))
    client_tls.load_cert_chain(str(pki / "admin.crt"), str(pki / "admin.key"))
    # The admin certificate also serves the API server (SANs 127.0.0.1, localhost).
    server_tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_tls.load_cert_chain(str(pki / "admin.crt"), str(pki / "admin.key"))
    app = make_app(f"https://127.0.0.1:{ports['apiserver']}", client_tls)
    web.run_app(
        app, host="127.0.0.1", port=args.port, ssl_context=server_tls, print=None, access_log=None
    )


if __name__ == "__main__":
    main()
