"""Configuration files of the real node, as pure functions of its layout.

The real node (``services/devtools/realnode.py``) runs containerd, a kubelet,
kube-proxy, CoreDNS, Traefik and a volume provisioner on this machine. Every
file they read is rendered here, so what the node is can be read and tested
without starting anything.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

NODE_NAME = "urumi-node-0"
#: The label stores select and the taint they tolerate to land on the real node.
NODE_LABEL = ("urumi.dev/node", "real")
NODE_TAINT = "urumi.dev/real-node"
BRIDGE = "urumi0"
POD_CIDR = "10.245.0.0/24"
SERVICE_CIDR = "10.96.0.0/16"  # the devcluster's --service-cluster-ip-range
#: The bridge's address: the node's InternalIP, the pods' gateway and DNS server.
NODE_IP = "10.245.0.1"
CLUSTER_DOMAIN = "cluster.local"
INGRESS_CLASS = "traefik"
STORAGE_CLASS = "urumi-local"
#: Where the node's sockets live: short paths (a unix socket path is at most
#: 107 bytes), one node per machine (it owns host iptables chains).
RUN_DIR = Path("/run/urumi-realnode")
#: Host-wide sysctls the kubelet sets at start; inside the node's mount
#: namespace a file holding the current value is mounted over each, so the
#: host keeps its own.
MASKED_SYSCTLS = (
    "vm/overcommit_memory",
    "vm/panic_on_oom",
    "kernel/panic",
    "kernel/panic_on_oops",
    "kernel/keys/root_maxkeys",
    "kernel/keys/root_maxbytes",
)


@dataclass(frozen=True)
class NodeLayout:
    """Where one real node keeps its state, and the ports it listens on."""

    state_dir: Path
    kubelet_port: int
    kubelet_healthz_port: int
    proxy_healthz_port: int
    proxy_metrics_port: int
    dns_health_port: int
    dns_ready_port: int
    ingress_port: int
    ingress_ping_port: int
    storage_health_port: int
    router_health_port: int
    sandbox_image: str

    @property
    def containerd_socket(self) -> Path:
        return RUN_DIR / "containerd.sock"

    @property
    def kubeconfigs(self) -> Path:
        return self.state_dir / "kubeconfigs"

    def kubeconfig(self, who: str) -> Path:
        return self.kubeconfigs / f"{who}.kubeconfig"

    @property
    def volumes_dir(self) -> Path:
        return self.state_dir / "volumes"

    @property
    def pod_logs_dir(self) -> Path:
        return self.state_dir / "pod-logs"


def gateway_ip(cidr: str = POD_CIDR) -> str:
    return str(next(ipaddress.ip_network(cidr).hosts()))


def containerd_config(layout: NodeLayout) -> str:
    """containerd 1.6 (config version 2): its own root, state and socket.

    ``restrict_oom_score_adj``: this sandbox has no CAP_SYS_RESOURCE, so runc
    cannot lower a sandbox's OOM score; ``SystemdCgroup = false``: systemd is
    not PID 1 and the kubelet uses cgroupfs.
    """
    state = layout.state_dir / "containerd"
    return f"""version = 2
root = "{state / "root"}"
state = "{RUN_DIR / "containerd-state"}"
disabled_plugins = ["io.containerd.snapshotter.v1.aufs", "io.containerd.snapshotter.v1.btrfs",
  "io.containerd.snapshotter.v1.devmapper", "io.containerd.snapshotter.v1.zfs",
  "io.containerd.internal.v1.tracing", "io.containerd.tracing.processor.v1.otlp"]

[grpc]
  address = "{layout.containerd_socket}"

[ttrpc]
  address = "{RUN_DIR / "containerd.sock.ttrpc"}"

[debug]
  address = ""

[metrics]
  address = ""

[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "{layout.sandbox_image}"
  restrict_oom_score_adj = true
  enable_selinux = false
  max_container_log_line_size = 16384

[plugins."io.containerd.grpc.v1.cri".containerd]
  snapshotter = "overlayfs"
  default_runtime_name = "runc"

[plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
  runtime_type = "io.containerd.runc.v2"

[plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
  SystemdCgroup = false
  Root = "{RUN_DIR / "runc"}"

[plugins."io.containerd.grpc.v1.cri".cni]
  bin_dir = "/usr/lib/cni"
  conf_dir = "{layout.state_dir / "cni" / "net.d"}"
  max_conf_num = 1
"""


def cni_config(layout: NodeLayout) -> dict[str, Any]:
    """A bridge with host-local addresses. No ipMasq: pods have no way out of
    this machine (the node's FORWARD guard drops it too)."""
    return {
        "cniVersion": "0.4.0",
        "name": "urumi",
        "plugins": [
            {
                "type": "bridge",
                "bridge": BRIDGE,
                "isGateway": True,
                # Pods route Service IPs through the host (kube-proxy's rules);
                # what would leave the machine is dropped by the FORWARD guard.
                "isDefaultGateway": True,
                "ipMasq": False,
                "hairpinMode": True,
                "ipam": {
                    "type": "host-local",
                    "ranges": [[{"subnet": POD_CIDR, "gateway": NODE_IP}]],
                    "dataDir": str(layout.state_dir / "cni" / "ipam"),
                },
            },
        ],
    }


def kubelet_config(layout: NodeLayout, ca_file: Path) -> dict[str, Any]:
    """KubeletConfiguration for a cgroup-v1 machine whose disk is shared."""
    return {
        "apiVersion": "kubelet.config.k8s.io/v1beta1",
        "kind": "KubeletConfiguration",
        "address": NODE_IP,
        "port": layout.kubelet_port,
        "readOnlyPort": 0,
        "healthzBindAddress": "127.0.0.1",
        "healthzPort": layout.kubelet_healthz_port,
        "authentication": {
            "anonymous": {"enabled": False},
            "webhook": {"enabled": True},
            "x509": {"clientCAFile": str(ca_file)},
        },
        "authorization": {"mode": "Webhook"},
        "containerRuntimeEndpoint": f"unix://{layout.containerd_socket}",
        "cgroupDriver": "cgroupfs",
        "failCgroupV1": False,
        "failSwapOn": False,
        "podCIDR": POD_CIDR,
        "clusterDNS": [NODE_IP],
        "clusterDomain": CLUSTER_DOMAIN,
        "resolvConf": str(layout.state_dir / "resolv.conf"),
        "podLogsDir": str(layout.pod_logs_dir),
        "registerWithTaints": [{"key": NODE_TAINT, "value": "true", "effect": "NoSchedule"}],
        "maxPods": 110,
        "evictionHard": {
            "memory.available": "100Mi",
            "nodefs.available": "1%",
            "nodefs.inodesFree": "1%",
            "imagefs.available": "1%",
        },
        # The images are imported, never pulled: garbage collection would lose them.
        "imageGCHighThresholdPercent": 100,
        "imageGCLowThresholdPercent": 99,
        "volumePluginDir": str(layout.state_dir / "kubelet" / "volume-plugins"),
        "serializeImagePulls": False,
        "rotateCertificates": False,
        "serverTLSBootstrap": False,
    }


def kube_proxy_config(layout: NodeLayout) -> dict[str, Any]:
    """iptables mode; conntrack and localhost NodePorts left alone, so
    kube-proxy changes no host sysctl."""
    return {
        "apiVersion": "kubeproxy.config.k8s.io/v1alpha1",
        "kind": "KubeProxyConfiguration",
        "clientConnection": {"kubeconfig": str(layout.kubeconfig("kube-proxy"))},
        "hostnameOverride": NODE_NAME,
        "bindAddress": NODE_IP,
        "healthzBindAddress": f"127.0.0.1:{layout.proxy_healthz_port}",
        "metricsBindAddress": f"127.0.0.1:{layout.proxy_metrics_port}",
        "mode": "iptables",
        "clusterCIDR": POD_CIDR,
        "detectLocalMode": "ClusterCIDR",
        "nodePortAddresses": [f"{NODE_IP}/32"],
        # Service traffic is SNATed to the bridge address, so replies between
        # pods on one bridge come back through the host's conntrack.
        "iptables": {"masqueradeAll": True, "localhostNodePorts": False},
        "conntrack": {
            "maxPerCore": 0,
            "min": 0,
            "tcpEstablishedTimeout": "0s",
            "tcpCloseWaitTimeout": "0s",
        },
    }


def corefile(layout: NodeLayout) -> str:
    """Cluster names from the API; every other name is NXDOMAIN: no query
    ever leaves this machine."""
    kubeconfig = layout.kubeconfig("coredns")
    return f"""{CLUSTER_DOMAIN}:53 in-addr.arpa:53 ip6.arpa:53 {{
    bind {NODE_IP}
    errors
    health 127.0.0.1:{layout.dns_health_port}
    ready 127.0.0.1:{layout.dns_ready_port}
    kubernetes {CLUSTER_DOMAIN} in-addr.arpa ip6.arpa {{
        kubeconfig {kubeconfig} devcluster
        pods insecure
    }}
    cache 5
}}
.:53 {{
    bind {NODE_IP}
    errors
    template ANY ANY {{
        rcode NXDOMAIN
    }}
}}
"""


def traefik_args(layout: NodeLayout) -> list[str]:
    """Traefik serves the cluster's Ingresses of class ``traefik`` on a
    loopback port: the stores' URLs name it."""
    return [
        f"--entrypoints.web.address=127.0.0.1:{layout.ingress_port}",
        # Named explicitly: left out, ping would open :8080 on every interface.
        f"--entrypoints.traefik.address=127.0.0.1:{layout.ingress_ping_port}",
        "--ping=true",
        "--ping.entrypoint=traefik",
        "--providers.kubernetesingress=true",
        f"--providers.kubernetesingress.ingressclass={INGRESS_CLASS}",
        # A store whose server is not up yet answers 503, not 404.
        "--providers.kubernetesingress.allowemptyservices=true",
        "--providers.kubernetesingress.ingressendpoint.ip=127.0.0.1",
        "--entrypoints.web.http.aliasheadersstrategy=delete",
        "--global.checknewversion=false",
        "--global.sendanonymoususage=false",
        "--log.level=INFO",
        # Also how a cleanup after a crash recognises this process.
        f"--accesslog.filepath={layout.state_dir / 'logs' / 'traefik-access.log'}",
    ]


def kube_router_args(layout: NodeLayout) -> list[str]:
    """kube-router with its NetworkPolicy firewall only: routing stays with
    the bridge, Services with kube-proxy. Health on loopback, no metrics."""
    return [
        "--run-firewall=true",
        "--run-router=false",
        "--run-service-proxy=false",
        "--run-loadbalancer=false",
        "--enable-ipv4=true",
        "--enable-ipv6=false",
        "--enable-cni=false",
        f"--kubeconfig={layout.kubeconfig('kube-router')}",
        f"--hostname-override={NODE_NAME}",
        f"--service-cluster-ip-range={SERVICE_CIDR}",
        "--health-addr=127.0.0.1",
        f"--health-port={layout.router_health_port}",
        "--metrics-port=0",
    ]


def resolv_conf() -> str:
    """For pods with ``dnsPolicy: Default``: the node's DNS, no host search list."""
    return f"nameserver {NODE_IP}\n"


def store_values() -> dict[str, dict[str, Any]]:
    """Operator values files (URUMI_STORE_VALUES_DIR) by name: `all.yaml` puts
    every store on the real node (selector and toleration, volumes, imported
    images, DNS); `woocommerce.yaml` leaves out the setup Job, whose wp-cli
    image and WooCommerce plugin cannot be fetched here."""
    every_store = {
        "scheduling": {
            "nodeSelector": {NODE_LABEL[0]: NODE_LABEL[1]},
            "tolerations": [
                {"key": NODE_TAINT, "operator": "Equal", "value": "true", "effect": "NoSchedule"}
            ],
        },
        "storageClassName": STORAGE_CLASS,
        # Every image is imported: a missing one must fail at once
        # (ErrImageNeverPull), never try a registry this machine cannot reach.
        "images": {"pullPolicy": "Never"},
        # CoreDNS answers on the node's address, not from a pod.
        "networkPolicy": {"dns": {"ipBlocks": [f"{NODE_IP}/32"]}},
    }
    return {"all.yaml": every_store, "woocommerce.yaml": {"setup": {"enabled": False}}}


def to_yaml(doc: dict[str, Any]) -> str:
    return yaml.safe_dump(doc, sort_keys=False)
