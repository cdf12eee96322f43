"""Stopping the real node leaves the host as it was: no process, container,
bridge, veth, iptables chain, cgroup or mount of it, and ip_forward restored.
Runs last in the lane (conftest orders it): it stops the session's node."""

from services.devtools import realnode_host
from services.devtools.realnode import RealNode


def test_stopping_the_node_leaves_nothing_on_the_host(realnode: RealNode) -> None:
    before = realnode.host_before
    assert before is not None, "the node recorded no host state when it started"
    running = realnode.leftovers()
    # The check must see the node while it runs, or an empty list proves nothing.
    assert any(item.startswith("bridge ") for item in running), running
    assert any(" chain KUBE-" in item for item in running), running
    assert any(item.startswith("cgroup ") for item in running), running

    realnode.stop()

    assert realnode.leftovers() == []
    assert realnode_host.IP_FORWARD.read_text().strip() == before.ip_forward
