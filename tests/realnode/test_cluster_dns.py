"""Cluster DNS on the real node: CoreDNS answers the cluster's names for pods
(at the node's address, the pods' nameserver) and nothing else: no query ever
leaves this machine."""

import subprocess

from services.devtools import realnode_config
from services.devtools.realnode import RealNode


def _dig(name: str) -> str:
    out = subprocess.run(
        ["dig", "+short", "+time=2", "+tries=1", f"@{realnode_config.NODE_IP}", name],
        capture_output=True,
        text=True,
        check=False,
        timeout=10,
    )
    return out.stdout.strip()


def test_cluster_names_resolve_and_others_do_not(realnode: RealNode) -> None:
    assert _dig(f"kubernetes.default.svc.{realnode_config.CLUSTER_DOMAIN}") == "10.96.0.1"
    assert _dig("example.com") == "", "a name outside the cluster resolved"
