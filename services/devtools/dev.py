"""`urumi dev`: the whole platform on one machine, for trying it and for scripts.

Starts an embedded NATS, a devcluster (unless KUBECONFIG points at a cluster),
and every service as a child process with prefixed logs; bootstraps a `dev`
tenant; writes URLs and the token to `.urumi/dev.json`. Ctrl-C stops it all.
"""

import argparse
import json
import os
import secrets
import signal
import socket
import threading
from pathlib import Path
from typing import Any

import httpx

from services.devtools.natsserver import free_port
from services.devtools.stack import Stack

STATE = Path(".urumi")
PORTS = {"gateway": 8080, "notifier": 8082, "provisioner": 8083, "watcher": 8084}
# Notifier processes on its one port: a change's fan-out uses two cores
# (services/notifier/workers.py, docs/benchmarks.md "Live latency").
NOTIFIER_WORKERS = min(2, os.cpu_count() or 1)


def _port(preferred: int) -> int:
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", preferred))
        except OSError:
            return free_port()
    return preferred


def _secrets() -> dict[str, str]:
    """Admin token and ticket secret kept across runs, so the dev database stays usable."""
    path = STATE / "dev-secrets.json"
    if path.exists():
        saved: dict[str, str] = json.loads(path.read_text())
        return saved
    values = {"admin_token": secrets.token_urlsafe(32), "ticket_secret": secrets.token_urlsafe(32)}
    path.write_text(json.dumps(values))
    path.chmod(0o600)
    return values


def _cluster(args: argparse.Namespace) -> tuple[str, str, Any]:
    """(kubeconfig, chart renderer, devcluster to stop or None)."""
    if args.no_cluster:
        return "", "urumi-render", None
    from services.devtools.devcluster import DevCluster
    from services.devtools.renderer import render_binary

    if os.environ.get("KUBECONFIG"):
        if args.real_node:
            raise SystemExit("--real-node joins the devcluster: unset KUBECONFIG")
        return os.environ["KUBECONFIG"], str(render_binary()), None
    print("starting the devcluster (the first run builds it: ~25 min on 2 cores)…", flush=True)
    cluster = DevCluster(STATE / "devcluster")
    cluster.start()
    return str(cluster.kubeconfig), str(render_binary()), cluster


def _dev_token(stack: Stack) -> str:
    """Create the `dev` tenant once; reuse its saved token afterwards."""
    saved = STATE / "dev.json"
    if saved.exists():
        token = str(json.loads(saved.read_text()).get("token", ""))
        me = httpx.get(f"{stack.api_url}/api/v1/me", headers={"Authorization": f"Bearer {token}"})
        if me.status_code == 200:
            return token
    try:
        return stack.create_tenant("dev", max_stores=100, name="Local development")
    except httpx.HTTPStatusError:
        issued = httpx.post(
            f"{stack.api_url}/api/v1/tenants/dev/tokens",
            headers={"Authorization": f"Bearer {stack.admin_token}"},
        )
        issued.raise_for_status()
        return str(issued.json()["token"])


def _real_node(cluster: Any) -> tuple[Any, dict[str, str]]:
    """Join a real node to the devcluster; the provisioner settings that put
    every store on it (its selector, volumes, ingress class and port)."""
    from services.devtools.realnode import RealNode

    print("starting the real node (the first run builds it and its images)…", flush=True)
    node = RealNode(cluster, STATE / "realnode", ingress_port=_port(8088))
    node.start()
    return node, node.provisioner_env(STATE / "realnode-values")


def run_dev(args: argparse.Namespace) -> int:
    STATE.mkdir(exist_ok=True)
    keys = _secrets()
    kubeconfig, renderer, cluster = _cluster(args)
    try:
        node, node_env = _real_node(cluster) if args.real_node and cluster else (None, {})
    except BaseException:
        if cluster is not None:
            cluster.stop()
        raise
    stack = Stack(
        STATE,
        kubeconfig=kubeconfig,
        renderer=renderer,
        nats_port=_port(4222),
        ports={name: _port(port) for name, port in PORTS.items()},
        admin_token=keys["admin_token"],
        ticket_secret=keys["ticket_secret"],
        extra_env={"URUMI_NOTIFIER_WORKERS": str(NOTIFIER_WORKERS), **node_env},
    )
    stopped = threading.Event()
    # Both handled explicitly: a shell that starts us in the background ignores SIGINT.
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stopped.set())
    try:
        stack.start()
        info = {
            "api_url": stack.api_url,
            "dashboard_url": f"{stack.api_url}/",
            "token": _dev_token(stack),
            "nats_url": stack.nats.url,
            "kubeconfig": kubeconfig,
            "services": list(stack.services),
            "ingress_url": node.ingress_url if node else "",
        }
        (STATE / "dev.json").write_text(json.dumps(info, indent=2))
        _banner(info)
        stopped.wait()
    finally:
        print("\nstopping…", flush=True)
        stack.stop()
        if node is not None:
            node.stop()
        if cluster is not None:
            cluster.stop()
    return 0


def _banner(info: dict[str, Any]) -> None:
    kube = info["kubeconfig"] or "(none: provisioner and watcher not started)"
    ingress = info["ingress_url"] or "(simulated: kwok; --real-node runs stores for real)"
    print(
        f"""
  Urumi is running.
    dashboard  {info["dashboard_url"]}
    API        {info["api_url"]}/api/v1   (OpenAPI: {info["api_url"]}/schema)
    token      {info["token"]}
    NATS       {info["nats_url"]}
    kubeconfig {kube}
    stores     {ingress}
  Try:  .venv/bin/urumi stores create my-shop --wait
  Written to .urumi/dev.json. Ctrl-C stops everything.
""",
        flush=True,
    )


def add_dev_parser(sub: Any) -> None:
    dev = sub.add_parser("dev", help="run NATS, a devcluster and every service locally")
    dev.add_argument("--no-cluster", action="store_true", help="skip Kubernetes entirely")
    dev.add_argument(
        "--real-node",
        action="store_true",
        help="add a node that runs containers (root; stores land there, served by Traefik)",
    )
    dev.set_defaults(func=run_dev)
