"""Fixtures the integration tests share: the provisioner's progress events, the
stores a test made (dropped afterwards), a provisioner in this process, and a
gateway process with a tenant `acme` signed in."""

from collections.abc import AsyncIterator

import httpx
import pytest
from kubernetes_asyncio.client import ApiClient
from nats.aio.client import Client

from services.devtools.devcluster import DevCluster
from services.devtools.natsserver import NatsServer
from services.devtools.procs import ServiceProcess
from tests.fixtures.processes import StartService
from tests.integration import provisioner_support as ps
from tests.integration.gateway_support import auth, gateway_env, new_tenant
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


@pytest.fixture
def gateway(
    nats_server: NatsServer, start_service: StartService, gateway_database: str
) -> ServiceProcess:
    return start_service("gateway", gateway_env(nats_server.url, gateway_database))


@pytest.fixture
async def acme(gateway: ServiceProcess) -> AsyncIterator[httpx.AsyncClient]:
    token = await new_tenant(gateway.base_url, "acme")
    async with httpx.AsyncClient(base_url=gateway.base_url, headers=auth(token)) as http:
        yield http
