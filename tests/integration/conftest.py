"""Fixtures the provisioner's integration tests share: its progress events,
the stores a test made (dropped afterwards), and a provisioner in this process."""

from collections.abc import AsyncIterator

import pytest
from kubernetes_asyncio.client import ApiClient
from nats.aio.client import Client

from services.devtools.devcluster import DevCluster
from services.devtools.natsserver import NatsServer
from tests.integration import provisioner_support as ps
from tests.integration.provisioner_support import ProgressLog


@pytest.fixture
async def progress(nc: Client) -> ProgressLog:
    return await ProgressLog().start(nc)


@pytest.fixture
async def stores(kube: ApiClient) -> AsyncIterator[list[str]]:
    made: list[str] = []
    yield made
    await ps.drop_namespaces(kube, made)


@pytest.fixture
async def provisioner(nats_server: NatsServer, devcluster: DevCluster) -> AsyncIterator[None]:
    async with ps.running(ps.settings(nats_server.url, devcluster.kubeconfig)):
        yield
