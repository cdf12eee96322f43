"""One real node per machine: it owns host iptables chains and the bridge."""

from pathlib import Path

import pytest

from services.devtools import realnode_config
from services.devtools.realnode import RealNode, RealNodeError


def test_a_second_node_is_refused_and_leaves_the_first_alone(
    realnode: RealNode, tmp_path: Path
) -> None:
    second = RealNode(realnode.cluster, tmp_path / "second")
    with pytest.raises(RealNodeError, match="another real node"):
        second.start()
    second.stop()
    assert Path(f"/sys/class/net/{realnode_config.BRIDGE}").exists()
    assert realnode.crictl("version")
