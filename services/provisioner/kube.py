"""A Kubernetes API client from the settings."""

import os

from kubernetes_asyncio import config
from kubernetes_asyncio.client import ApiClient

from services.provisioner.settings import ProvisionerSettings


async def kube_client(settings: ProvisionerSettings) -> ApiClient:
    """URUMI_KUBECONFIG, else the pod's service account, else $KUBECONFIG/~/.kube."""
    if settings.kubeconfig:
        client: ApiClient = await config.new_client_from_config(config_file=settings.kubeconfig)
        return client
    if os.environ.get("KUBERNETES_SERVICE_HOST"):
        config.load_incluster_config()  # type: ignore[no-untyped-call]  # untyped upstream
        return ApiClient()
    client = await config.new_client_from_config()
    return client
