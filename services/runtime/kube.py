"""A Kubernetes API client from the kubeconfig setting."""

import os

from kubernetes_asyncio import config
from kubernetes_asyncio.client import ApiClient


async def kube_client(kubeconfig: str) -> ApiClient:
    """`kubeconfig` (URUMI_KUBECONFIG), else the pod's service account, else
    $KUBECONFIG/~/.kube."""
    if kubeconfig:
        client: ApiClient = await config.new_client_from_config(config_file=kubeconfig)
        return client
    if os.environ.get("KUBERNETES_SERVICE_HOST"):
        config.load_incluster_config()  # type: ignore[no-untyped-call]  # untyped upstream
        return ApiClient()
    client = await config.new_client_from_config()
    return client
