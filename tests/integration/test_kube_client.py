"""The services' Kubernetes client: API calls without per-request environment
lookups, unless the environment names a proxy or a netrc file to honour."""

from pathlib import Path

import pytest

from services.devtools.devcluster import DevCluster
from services.runtime.kube import kube_client


@pytest.fixture
def plain_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "ALL_PROXY", "NETRC"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))


@pytest.mark.usefixtures("plain_environment")
async def test_calls_the_api_server_without_environment_lookups(devcluster: DevCluster) -> None:
    api = await kube_client(str(devcluster.kubeconfig))
    try:
        assert api.rest_client.pool_manager.trust_env is False
        for _ in range(3):  # kept-alive connections are reused by the new session
            version = await api.call_api("/version", "GET", response_types_map={200: "object"})
            assert version[0]["major"] == "1"
    finally:
        await api.close()


@pytest.mark.usefixtures("plain_environment")
async def test_a_proxy_in_the_environment_is_honoured(
    devcluster: DevCluster, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HTTPS_PROXY", "http://127.0.0.1:9")
    monkeypatch.setenv("NO_PROXY", "*")
    api = await kube_client(str(devcluster.kubeconfig))
    try:
        assert api.rest_client.pool_manager.trust_env is True
    finally:
        await api.close()
