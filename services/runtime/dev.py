"""`urumi dev`: the whole platform on one machine, for trying it and for scripts.

Starts an embedded NATS, a devcluster (unless KUBECONFIG points at a cluster),
and every service as a child process with prefixed logs; bootstraps a `dev`
tenant; writes URLs and the token to `.urumi/dev.json`. Ctrl-C stops it all.
"""

import argparse
import importlib.util
import json
import os
import secrets
import signal
import sys
import threading
from pathlib import Path
from typing import Any

import httpx

from services.runtime.natsserver import NatsServer, free_port
from services.runtime.procs import ServiceProcess

STATE = Path(".urumi")
PORTS = {"gateway": 8080, "notifier": 8082, "provisioner": 8083, "watcher": 8084}
KUBE_SERVICES = ("provisioner", "watcher")


def _port(preferred: int) -> int:
    import socket

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


def _kubeconfig(args: argparse.Namespace) -> tuple[str, Any]:
    if os.environ.get("KUBECONFIG"):
        return os.environ["KUBECONFIG"], None
    if args.no_cluster:
        return "", None
    from services.runtime.devcluster import DevCluster

    print("starting the devcluster (first run builds it: several minutes)…", flush=True)
    cluster = DevCluster(STATE / "devcluster")
    cluster.start()
    return str(cluster.kubeconfig), cluster


def _helm() -> str:
    try:
        from services.runtime.devcluster import helm_binary

        return str(helm_binary())
    except Exception:
        return "helm"


def _bootstrap_tenant(api: str, admin: str) -> str:
    """Create the `dev` tenant once; reuse its saved token afterwards."""
    saved = STATE / "dev.json"
    if saved.exists():
        token = json.loads(saved.read_text()).get("token", "")
        me = httpx.get(f"{api}/api/v1/me", headers={"Authorization": f"Bearer {token}"})
        if me.status_code == 200:
            return str(token)
    headers = {"Authorization": f"Bearer {admin}"}
    body = {"id": "dev", "display_name": "Local development", "max_stores": 100}
    created = httpx.post(f"{api}/api/v1/tenants", json=body, headers=headers)
    if created.status_code == 201:
        return str(created.json()["token"])
    issued = httpx.post(f"{api}/api/v1/tenants/dev/tokens", headers=headers)
    issued.raise_for_status()
    return str(issued.json()["token"])


def _available(service: str) -> bool:
    return importlib.util.find_spec(f"services.{service}.main") is not None


def run_dev(args: argparse.Namespace) -> int:
    STATE.mkdir(exist_ok=True)
    keys = _secrets()
    nats = NatsServer(STATE / "nats", port=_port(4222))
    nats.start()
    kubeconfig, cluster = _kubeconfig(args)
    ports = {name: _port(p) for name, p in PORTS.items()}
    env = {
        "URUMI_NATS_URL": nats.url,
        "URUMI_ADMIN_TOKEN": keys["admin_token"],
        "URUMI_TICKET_SECRET": keys["ticket_secret"],
        "URUMI_DATABASE": str(STATE / "urumi.db"),
        "URUMI_NOTIFIER_URL": f"ws://127.0.0.1:{ports['notifier']}/ws",
        "URUMI_KUBECONFIG": kubeconfig,
        "URUMI_HELM_BINARY": _helm(),
    }
    procs = [
        ServiceProcess(name, env, http_port=ports[name])
        for name in PORTS
        if _available(name) and (kubeconfig or name not in KUBE_SERVICES)
    ]
    stopped = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopped.set())
    try:
        for proc in procs:
            proc.start()
        for proc in procs:
            proc.wait_ready(60)
        api = f"http://127.0.0.1:{ports['gateway']}"
        token = _bootstrap_tenant(api, keys["admin_token"])
        info = {
            "api_url": api,
            "dashboard_url": f"{api}/",
            "token": token,
            "nats_url": nats.url,
            "kubeconfig": kubeconfig,
            "services": [p.service for p in procs],
        }
        (STATE / "dev.json").write_text(json.dumps(info, indent=2))
        _banner(info)
        stopped.wait()
    except KeyboardInterrupt:
        pass
    finally:
        print("\nstopping…", flush=True)
        for proc in reversed(procs):
            proc.stop()
        nats.stop()
        if cluster is not None:
            cluster.stop()
    return 0


def _banner(info: dict[str, Any]) -> None:
    print(
        f"""
  Urumi is running.
    dashboard  {info["dashboard_url"]}
    API        {info["api_url"]}/api/v1   (OpenAPI: {info["api_url"]}/schema)
    token      {info["token"]}
    NATS       {info["nats_url"]}
    kubeconfig {info["kubeconfig"] or "(none: provisioner and watcher not started)"}
  Try:  .venv/bin/urumi stores create my-shop --wait
  Written to .urumi/dev.json. Ctrl-C stops everything.
""",
        flush=True,
    )
    sys.stdout.flush()


def add_dev_parser(sub: Any) -> None:
    dev = sub.add_parser("dev", help="run NATS, a devcluster and every service locally")
    dev.add_argument("--no-cluster", action="store_true", help="skip the devcluster")
    dev.set_defaults(func=run_dev)
