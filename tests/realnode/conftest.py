"""The real-node lane: a devcluster of its own with a node that runs containers.

Built once and cached (binaries, images); started once for the lane. Stores
created by ``platform`` land on the real node: the provisioner gets the node's
operator values (selector, toleration, volumes), Traefik's ingress class and
its port for the stores' URLs.
"""

import contextlib
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from kubernetes_asyncio import config
from kubernetes_asyncio.client import ApiClient

from services.devtools import realnode_config as cfg
from services.devtools.devcluster import DevCluster, ensure_built
from services.devtools.realnode import RealNode
from tests.faults.platform import PlatformHarness


def _uncaptured(request: pytest.FixtureRequest) -> contextlib.AbstractContextManager[None]:
    """Builds take minutes cold: show their progress instead of capturing it."""
    capman = request.config.pluginmanager.getplugin("capturemanager")
    return capman.global_and_fixture_disabled() if capman else contextlib.nullcontext()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """test_teardown stops the session's node: after every other test."""
    items.sort(key=lambda item: item.nodeid.startswith("tests/realnode/test_teardown.py"))


@pytest.fixture(scope="session")
def realnode(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[RealNode]:
    with _uncaptured(request):
        bin_dir = ensure_built()
    cluster = DevCluster(tmp_path_factory.mktemp("realnode-cluster"), bin_dir=bin_dir)
    cluster.start(timeout=300)
    node = RealNode(cluster, tmp_path_factory.mktemp("realnode"))
    try:
        with _uncaptured(request):
            node.start()
        yield node
    finally:
        node.stop()
        cluster.stop()


@pytest.fixture(scope="session")
async def realnode_kube(realnode: RealNode) -> AsyncIterator[ApiClient]:
    kubeconfig = str(realnode.cluster.kubeconfig)
    client: ApiClient = await config.new_client_from_config(config_file=kubeconfig)
    try:
        yield client
    finally:
        await client.close()


@pytest.fixture
def platform_env() -> dict[str, str]:
    """Settings a module's platform adds to the node's (a module overrides it)."""
    return {}


@pytest.fixture
def every_store() -> dict[str, Any]:
    """Values a module adds to the node's `all.yaml` (a module overrides it)."""
    return {}


@pytest.fixture
async def platform(
    realnode: RealNode,
    realnode_kube: ApiClient,
    tmp_path: Path,
    platform_env: dict[str, str],
    every_store: dict[str, Any],
) -> AsyncIterator[PlatformHarness]:
    values = tmp_path / "realnode-values"
    env = realnode.provisioner_env(values)
    if every_store:
        node_values = yaml.safe_load((values / "all.yaml").read_text())
        (values / "all.yaml").write_text(cfg.to_yaml(node_values | every_store))
    env |= {"URUMI_WATCHER_RESYNC_S": "2", **platform_env}
    started = PlatformHarness(tmp_path / "platform", realnode.cluster, realnode_kube, extra_env=env)
    await started.start()
    try:
        yield started
    finally:
        await started.close()
