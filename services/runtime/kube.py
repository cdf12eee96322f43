"""A Kubernetes API client from the kubeconfig setting."""

import os
import urllib.request
from pathlib import Path
from typing import Final

import aiohttp
from kubernetes_asyncio import config
from kubernetes_asyncio.client import ApiClient

# kubernetes_asyncio's read buffer: a watch event holds a whole object.
_READ_BUFSIZE: Final = 2**21


async def kube_client(kubeconfig: str) -> ApiClient:
    """`kubeconfig` (URUMI_KUBECONFIG), else the pod's service account, else
    $KUBECONFIG/~/.kube."""
    if kubeconfig:
        client: ApiClient = await config.new_client_from_config(config_file=kubeconfig)
    elif os.environ.get("KUBERNETES_SERVICE_HOST"):
        config.load_incluster_config()  # type: ignore[no-untyped-call]  # untyped upstream
        client = ApiClient()
    else:
        client = await config.new_client_from_config()
    if not environment_has_proxy_or_netrc():
        without_environment_lookups(client)
    return client


def environment_has_proxy_or_netrc() -> bool:
    """Would a request find a proxy variable or a netrc file to use?"""
    netrc = os.environ.get("NETRC") or Path.home() / ".netrc"
    return bool(urllib.request.getproxies()) or Path(netrc).is_file()


def without_environment_lookups(client: ApiClient) -> None:
    """kubernetes_asyncio's session trusts the environment, so aiohttp looks up
    proxy variables and ~/.netrc on every request, each in a worker thread: two
    thread hops per API call. Where neither exists, its connections move to a
    session that does not look."""
    rest = client.rest_client
    trusting: aiohttp.ClientSession = rest.pool_manager
    connector = trusting.connector
    trusting.detach()
    rest.pool_manager = aiohttp.ClientSession(
        connector=connector, trust_env=False, read_bufsize=_READ_BUFSIZE
    )
