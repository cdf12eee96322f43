"""The whole platform as processes on the devcluster, as the fault drills run it,
and the four services there with the dashboard's Chromium tests."""

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from kubernetes_asyncio.client import ApiClient

from services.devtools.devcluster import DevCluster
from services.devtools.natsserver import NatsServer
from tests.e2e.dashboard_support import Stack, StartStack, start_on_devcluster
from tests.faults.conftest import Launch, launch
from tests.fixtures.processes import StartService
from tests.integration.provisioner_support import drop_namespaces

__all__ = ["Launch", "launch"]


@pytest.fixture
async def devcluster_stack(
    nats_server: NatsServer,
    tmp_path: Path,
    start_service: StartService,
    devcluster: DevCluster,
    kube: ApiClient,
) -> AsyncIterator[StartStack]:
    """`devcluster_stack(stores, settings)`: the four services on real NATS and the
    devcluster, with `settings` (URUMI_* variables); the namespaces of `stores`
    are deleted after the test."""
    dropped: list[str] = []

    def start(stores: list[str], settings: dict[str, str]) -> Stack:
        dropped.extend(stores)
        return start_on_devcluster(start_service, nats_server, tmp_path, devcluster, settings)

    yield start
    await drop_namespaces(kube, dropped)
