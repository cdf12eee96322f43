"""The whole platform as local processes: NATS plus the four services.

One place that knows how the services are wired together, used by `urumi dev`,
the end-to-end and fault tests, and the benchmarks.
"""

import secrets
from pathlib import Path

import httpx

from services.devtools.natsserver import NatsServer, free_port
from services.devtools.procs import ServiceProcess

SERVICES = ("notifier", "gateway", "provisioner", "watcher")
KUBE_SERVICES = frozenset({"provisioner", "watcher"})


class Stack:
    """Start order: NATS, notifier (its URL goes into tickets), gateway, the rest."""

    def __init__(
        self,
        root: Path,
        kubeconfig: str = "",
        renderer: str = "urumi-render",
        services: tuple[str, ...] = SERVICES,
        ports: dict[str, int] | None = None,
        log_dir: Path | None = None,
        nats_port: int | None = None,
        extra_env: dict[str, str] | None = None,
        admin_token: str = "",
        ticket_secret: str = "",
    ) -> None:
        self.root = root
        self.kubeconfig = kubeconfig
        self.services = tuple(s for s in services if kubeconfig or s not in KUBE_SERVICES)
        self.ports = ports or {}
        self.log_dir = log_dir
        self.nats = NatsServer(root / "nats", port=nats_port, log=root / "nats-server.log")
        self.admin_token = admin_token or secrets.token_urlsafe(24)
        self.ticket_secret = ticket_secret or secrets.token_urlsafe(24)
        self.renderer = renderer
        self.extra_env = extra_env or {}
        self.procs: list[ServiceProcess] = []

    def env(self) -> dict[str, str]:
        return {
            "URUMI_NATS_URL": self.nats.url,
            "URUMI_ADMIN_TOKEN": self.admin_token,
            "URUMI_TICKET_SECRET": self.ticket_secret,
            "URUMI_DATABASE": str(self.root / "urumi.db"),
            "URUMI_KUBECONFIG": self.kubeconfig,
            "URUMI_RENDER_BINARY": self.renderer,
            "URUMI_NOTIFIER_URL": self.notifier_ws,
            **self.extra_env,
        }

    @property
    def notifier_ws(self) -> str:
        return f"ws://127.0.0.1:{self.ports.get('notifier', 0)}/ws"

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.ports.get('gateway', 0)}"

    def start(self, timeout: float = 60.0) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        self.nats.start()
        for service in self.services:
            self.ports.setdefault(service, free_port())
        for service in self.services:
            self.add(service, port=self.ports[service], wait=False)
        for proc in self.procs:
            proc.wait_ready(timeout)

    def add(
        self, service: str, port: int | None = None, wait: bool = True, **env: str
    ) -> ServiceProcess:
        """Start one more process of `service` (another replica, or a restart)."""
        n = sum(1 for p in self.procs if p.service == service)
        log = self.log_dir / f"{service}-{n}.log" if self.log_dir else None
        proc = ServiceProcess(
            service,
            {**self.env(), **env},
            http_port=port or free_port(),
            log=log,
            prefix=service if n == 0 else f"{service}-{n}",
        )
        proc.start()
        self.procs.append(proc)
        if wait:
            proc.wait_ready()
        return proc

    def running(self, service: str) -> list[ServiceProcess]:
        return [p for p in self.procs if p.service == service and p.alive()]

    def stop(self) -> None:
        for proc in reversed(self.procs):
            proc.stop()
        self.nats.stop()

    def create_tenant(self, tenant: str, max_stores: int = 100, name: str = "") -> str:
        """The tenant's first token (tenants are created by the admin token)."""
        response = httpx.post(
            f"{self.api_url}/api/v1/tenants",
            json={"id": tenant, "display_name": name, "max_stores": max_stores},
            headers={"Authorization": f"Bearer {self.admin_token}"},
            timeout=10,
        )
        response.raise_for_status()
        token: str = response.json()["token"]
        return token
