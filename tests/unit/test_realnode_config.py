"""The real node's configuration: what each component is told, and that the
operator values it gives the provisioner put every store pod on it."""

import json
import tomllib
from datetime import UTC, datetime
from pathlib import Path

import yaml

from services.contracts.store import Engine, StoreSpec
from services.devtools import realnode_config as cfg
from services.provisioner.engines import DEFAULT_CHARTS
from services.provisioner.medusa_values import medusa_values
from services.provisioner.render import Renderer, operator_values
from services.provisioner.values import StoreIngress, woocommerce_values

LAYOUT = cfg.NodeLayout(
    state_dir=Path("/var/tmp/node"),
    kubelet_port=10250,
    kubelet_healthz_port=10248,
    proxy_healthz_port=10256,
    proxy_metrics_port=10249,
    dns_health_port=8080,
    dns_ready_port=8181,
    ingress_port=8088,
    ingress_ping_port=8089,
    storage_health_port=8090,
    router_health_port=8091,
    sandbox_image="docker.io/urumi/pause:1.0",
)
AT = datetime(2026, 1, 2, tzinfo=UTC)


def test_containerd_runs_pods_without_cap_sys_resource_or_systemd() -> None:
    config = tomllib.loads(cfg.containerd_config(LAYOUT))
    cri = config["plugins"]["io.containerd.grpc.v1.cri"]
    assert cri["restrict_oom_score_adj"] is True
    assert cri["sandbox_image"] == LAYOUT.sandbox_image
    assert cri["containerd"]["runtimes"]["runc"]["options"]["SystemdCgroup"] is False
    assert config["grpc"]["address"] == str(cfg.RUN_DIR / "containerd.sock")
    assert config["root"].startswith(str(LAYOUT.state_dir))


def test_the_kubelet_joins_tainted_on_cgroup_v1_and_keeps_the_images() -> None:
    kubelet = cfg.kubelet_config(LAYOUT, Path("/ca.crt"))
    assert kubelet["failCgroupV1"] is False
    assert kubelet["cgroupDriver"] == "cgroupfs"
    assert kubelet["registerWithTaints"][0]["key"] == cfg.NODE_TAINT
    assert kubelet["authentication"]["anonymous"]["enabled"] is False
    assert kubelet["clusterDNS"] == [cfg.NODE_IP]
    assert kubelet["imageGCHighThresholdPercent"] == 100


def test_kube_proxy_changes_no_host_sysctl() -> None:
    proxy = cfg.kube_proxy_config(LAYOUT)
    assert proxy["conntrack"]["maxPerCore"] == 0
    assert proxy["conntrack"]["tcpEstablishedTimeout"] == "0s"
    assert proxy["iptables"]["localhostNodePorts"] is False


def test_pods_get_no_way_off_the_machine() -> None:
    bridge = cfg.cni_config(LAYOUT)["plugins"][0]
    assert bridge["ipMasq"] is False
    assert bridge["ipam"]["ranges"][0][0]["gateway"] == cfg.NODE_IP == cfg.gateway_ip()
    corefile = cfg.corefile(LAYOUT)
    assert "forward" not in corefile
    assert "rcode NXDOMAIN" in corefile


def test_kube_router_only_enforces_policies_and_listens_on_loopback() -> None:
    args = cfg.kube_router_args(LAYOUT)
    for role in ("router", "service-proxy", "loadbalancer"):
        assert f"--run-{role}=false" in args
    assert "--run-firewall=true" in args
    assert "--health-addr=127.0.0.1" in args and "--metrics-port=0" in args


def test_traefik_serves_only_on_loopback() -> None:
    args = cfg.traefik_args(LAYOUT)
    addresses = [a.split("=", 1)[1] for a in args if ".address=" in a]
    assert addresses and all(a.startswith("127.0.0.1:") for a in addresses)
    assert f"--providers.kubernetesingress.ingressclass={cfg.INGRESS_CLASS}" in args


async def test_every_medusa_pod_lands_on_the_real_node(tmp_path: Path, renderer: Renderer) -> None:
    for name, doc in cfg.store_values().items():
        (tmp_path / name).write_text(cfg.to_yaml(doc))
    overrides = operator_values(str(tmp_path), "medusa")
    spec = StoreSpec(id="real-shop", tenant="acme", engine=Engine.MEDUSA)
    values = medusa_values(spec, 1, AT, StoreIngress(base_domain="shops.test", store_port=8088))
    manifests = await renderer.render(
        DEFAULT_CHARTS / "medusa", "real-shop", "store-real-shop", values, overrides
    )
    pods = [m["spec"]["template"]["spec"] for m in manifests if "template" in m.get("spec", {})]
    assert len(pods) == 5, [m["kind"] for m in manifests]
    for pod in pods:
        assert pod["nodeSelector"] == {cfg.NODE_LABEL[0]: cfg.NODE_LABEL[1]}
        images = [*pod.get("initContainers", []), *pod["containers"]]
        assert {c["imagePullPolicy"] for c in images} == {"Never"}
        assert pod["tolerations"][0]["key"] == cfg.NODE_TAINT
    server = next(p for p in pods if p["containers"][0]["name"] == "medusa")
    env = {e["name"]: e.get("value") for e in server["containers"][0]["env"]}
    # The browser's origin names the ingress port; CORS must allow exactly it.
    assert env["STORE_CORS"] == env["ADMIN_CORS"] == "http://real-shop.shops.test:8088"
    claims = [m for m in manifests if m["kind"] == "PersistentVolumeClaim"]
    templates = [
        t
        for m in manifests
        if m["kind"] == "StatefulSet"
        for t in m["spec"]["volumeClaimTemplates"]
    ]
    assert claims and templates
    for claim in [*claims, *templates]:
        assert claim["spec"]["storageClassName"] == cfg.STORAGE_CLASS
    # Under an enforcing plugin, DNS must reach CoreDNS on the node itself.
    policies = [m for m in manifests if m["kind"] == "NetworkPolicy"]
    dns_peers = [
        peer
        for p in policies
        for rule in p["spec"].get("egress", [])
        if any(port.get("port") == 53 for port in rule.get("ports", []))
        for peer in rule["to"]
    ]
    assert {"ipBlock": {"cidr": f"{cfg.NODE_IP}/32"}} in dns_peers


async def test_a_woocommerce_store_on_the_real_node_runs_no_setup_job(
    tmp_path: Path, renderer: Renderer
) -> None:
    """wp-cli and the WooCommerce plugin cannot be fetched here: the store runs
    its database and web tier on the node, without the setup Job."""
    for name, doc in cfg.store_values().items():
        (tmp_path / name).write_text(cfg.to_yaml(doc))
    spec = StoreSpec(id="real-wp", tenant="acme", engine=Engine.WOOCOMMERCE)
    values = woocommerce_values(
        spec, 1, AT, StoreIngress(base_domain="shops.test", store_port=8088)
    )
    overrides = operator_values(str(tmp_path), "woocommerce")
    manifests = await renderer.render(
        DEFAULT_CHARTS / "woocommerce", "real-wp", "store-real-wp", values, overrides
    )
    kinds = [m["kind"] for m in manifests]
    assert "Job" not in kinds and {"StatefulSet", "Deployment"} <= set(kinds)
    for m in manifests:
        if "template" in m.get("spec", {}):
            assert m["spec"]["template"]["spec"]["nodeSelector"] == {
                cfg.NODE_LABEL[0]: cfg.NODE_LABEL[1]
            }


def test_store_values_parse_as_the_files_the_provisioner_reads() -> None:
    for doc in cfg.store_values().values():
        assert yaml.safe_load(cfg.to_yaml(doc)) == doc
    assert json.loads(json.dumps(cfg.cni_config(LAYOUT)))["name"] == "urumi"
