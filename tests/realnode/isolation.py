"""A store's NetworkPolicies under an enforcing plugin, probed from real pods.

Two probe pods (Debian's busybox) in a namespace of their own, beside a live
store: connections are attempted from the probes and from the store's web tier,
to pod addresses on this machine only (the pod range is a private range, so a
store's refused egress to "a private address" is proven without sending
anything anywhere else).
"""

from __future__ import annotations

from typing import Any

from kubernetes_asyncio.client import ApiClient, CoreV1Api

from services.devtools import realnode_config as cfg
from services.devtools.realnode import RealNode
from tests.fixtures.waiting import eventually

PROBE_IMAGE = "docker.io/urumi/busybox:1.0"
PROBE_PORT = 8080


def probe_pod(name: str) -> Any:
    """A plain dict body (the API accepts it; the stubs want model classes)."""
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "labels": {"app": "probe"}},
        "spec": {
            "nodeSelector": {cfg.NODE_LABEL[0]: cfg.NODE_LABEL[1]},
            "tolerations": [{"key": cfg.NODE_TAINT, "operator": "Exists"}],
            "automountServiceAccountToken": False,
            "terminationGracePeriodSeconds": 1,
            "containers": [
                {
                    "name": "probe",
                    "image": PROBE_IMAGE,
                    "imagePullPolicy": "Never",
                    "command": ["/bin/busybox", "httpd", "-f", "-p", str(PROBE_PORT), "-h", "/"],
                    "securityContext": {
                        "runAsUser": 65534,
                        "runAsNonRoot": True,
                        "allowPrivilegeEscalation": False,
                        "capabilities": {"drop": ["ALL"]},
                    },
                }
            ],
        },
    }


class Probes:
    """Two probe pods in namespace ``namespace``; ``ips`` once running."""

    def __init__(self, kube: ApiClient, node: RealNode, namespace: str) -> None:
        self.core = CoreV1Api(kube)
        self.node = node
        self.namespace = namespace
        self.ips: dict[str, str] = {}

    async def start(self) -> Probes:
        namespace: Any = {"metadata": {"name": self.namespace}}
        await self.core.create_namespace(namespace)
        for name in ("a", "b"):
            await self.core.create_namespaced_pod(self.namespace, probe_pod(name))
        self.ips = await eventually(self._running, within=120, what="probe pods running")
        return self

    async def _running(self) -> dict[str, str] | None:
        pods = (await self.core.list_namespaced_pod(self.namespace)).items
        ips = {p.metadata.name: p.status.pod_ip for p in pods if p.status.phase == "Running"}
        return ips if len(ips) == 2 and all(ips.values()) else None

    async def stop(self) -> None:
        await self.core.delete_namespace(self.namespace)

    def connects(self, source: str, ip: str, port: int) -> bool:
        """Whether probe ``source`` opens a TCP connection to ip:port within 3 s."""
        cmd = ["/bin/busybox", "nc", "-w", "3", ip, str(port)]
        return self.node.exec(self.namespace, source, "probe", *cmd) == 0


def node_connects(node: RealNode, namespace: str, pod: str, host: str, port: int) -> bool:
    """Whether a Medusa container (Node.js) opens a TCP connection to host:port."""
    script = (
        "const s = require('net').connect(+process.argv[2], process.argv[1]);"
        "s.on('connect', () => process.exit(0)); s.on('error', () => process.exit(1));"
        "setTimeout(() => process.exit(2), 3000);"
    )
    return node.exec(namespace, pod, "medusa", "node", "-e", script, host, str(port)) == 0


async def pod_ip(kube: ApiClient, namespace: str, component: str) -> tuple[str, str]:
    """(name, IP) of the store's running pod of one component."""
    selector = f"app.kubernetes.io/component={component}"
    pods = (await CoreV1Api(kube).list_namespaced_pod(namespace, label_selector=selector)).items
    running = [p for p in pods if p.status.phase == "Running" and p.status.pod_ip]
    assert running, f"no running {component} pod in {namespace}"
    return running[0].metadata.name, running[0].status.pod_ip
