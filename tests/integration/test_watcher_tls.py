"""A store whose Ingress asks cert-manager for its certificate (HTTP-01 mode) is
`ready` only once that Certificate is: before, the ingress controller would
serve its default certificate and the store's https:// site would break. Until
then the status says why, in cert-manager's words (Certificate and Challenge).

No cert-manager runs on the devcluster: the test creates the Certificate as
cert-manager's ingress-shim would (named after the TLS Secret, with the
Ingress's labels) and writes its status through the status subresource.
"""

from typing import Any

import pytest
from kubernetes_asyncio import client
from kubernetes_asyncio.client import ApiClient
from nats.js import JetStreamContext

from services.contracts.events import StoreStatus
from services.contracts.phases import Phase
from services.devtools.devcluster import DevCluster
from services.devtools.natsserver import NatsServer
from tests.fixtures.processes import StartService
from tests.integration.watcher_support import SSA, StatusLog, Store, watcher_env

pytestmark = pytest.mark.usefixtures("cert_manager_crds")
GROUP, VERSION, PLURAL = "cert-manager.io", "v1", "certificates"


def routable(status: StoreStatus) -> tuple[str, str, str]:
    c = next(c for c in status.conditions if c.type == "Routable")
    return c.status, c.reason, c.message


async def _tls_ingress(store: Store, secret: str) -> None:
    """The Ingress as charts/woocommerce renders it with ingress.tls.mode=http01."""
    backend = {"service": {"name": "wordpress", "port": {"number": 80}}}
    path = {"path": "/", "pathType": "Prefix", "backend": backend}
    meta = store.meta("wordpress", "web")
    meta["annotations"] = {"cert-manager.io/cluster-issuer": "letsencrypt-prod"}
    body = {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "Ingress",
        "metadata": meta,
        "spec": {
            "tls": [{"hosts": [store.host], "secretName": secret}],
            "rules": [{"host": store.host, "http": {"paths": [path]}}],
        },
    }
    await store.net.patch_namespaced_ingress("wordpress", store.ns, body, **SSA)


MERGE: dict[str, Any] = {"_content_type": "application/merge-patch+json"}


def _ready(status: str, reason: str, message: str) -> Any:
    return {"status": {"conditions": [{"type": "Ready", "status": status, "reason": reason,
                                       "message": message}]}}  # fmt: skip


async def test_store_with_tls_is_ready_only_once_its_certificate_is(
    nats_server: NatsServer,
    devcluster: DevCluster,
    kube: ApiClient,
    js: JetStreamContext,
    start_service: StartService,  # last: its processes stop before NATS does
) -> None:
    start_service("watcher", watcher_env(nats_server, devcluster))
    store = Store(kube, prefix="t")
    secret = f"{store.id}-tls"
    certs = client.CustomObjectsApi(kube)
    log = await StatusLog(js, store.id).start()
    await store.namespace()
    await store.database()
    await store.web()
    await store.setup_job()
    await _tls_ingress(store, secret)

    # Every tier is up, the Ingress exists, but cert-manager has made no Certificate.
    waiting = await log.wait(
        lambda s: s.phase == Phase.PROVISIONING and s.reason == "CertificatePending",
        what="provisioning, waiting for the certificate",
    )
    assert f"has not created certificate {secret}" in waiting.message, waiting
    assert [c.status for c in waiting.conditions[:4]] == ["True"] * 4, waiting

    # cert-manager creates it and reports the order in progress: still not ready.
    cert = {
        "apiVersion": f"{GROUP}/{VERSION}",
        "kind": "Certificate",
        "metadata": store.meta(secret, "web"),
        "spec": {"secretName": secret, "dnsNames": [store.host],
                 "issuerRef": {"kind": "ClusterIssuer", "name": "letsencrypt-prod"}},
    }  # fmt: skip
    await certs.create_namespaced_custom_object(GROUP, VERSION, store.ns, PLURAL, cert)
    issuing = "Issuing certificate as Secret does not exist"
    await certs.patch_namespaced_custom_object_status(
        GROUP, VERSION, store.ns, PLURAL, secret, _ready("False", "DoesNotExist", issuing), **MERGE
    )
    pending = await log.wait(lambda s: issuing in s.message, what="cert-manager's message")
    assert (pending.phase, pending.reason) == (Phase.PROVISIONING, "CertificatePending"), pending
    assert routable(pending)[0] == "False"

    # Its ACME challenge cannot reach the solver: the status says so, in cert-manager's words.
    challenge = {
        "apiVersion": "acme.cert-manager.io/v1",
        "kind": "Challenge",
        "metadata": {"name": f"{secret}-1-2-3", "namespace": store.ns},  # no labels of ours
        "spec": {"dnsName": store.host, "type": "HTTP-01", "token": "t", "key": "k"},
    }
    acme = ("acme.cert-manager.io", "v1", store.ns, "challenges")
    await certs.create_namespaced_custom_object(*acme, challenge)
    unreachable = "Waiting for HTTP-01 challenge propagation: wrong status code '503'"
    await certs.patch_namespaced_custom_object_status(
        *acme, f"{secret}-1-2-3", {"status": {"state": "pending", "reason": unreachable}}, **MERGE
    )
    stuck = await log.wait(lambda s: unreachable in s.message, what="the challenge's reason")
    assert stuck.phase == Phase.PROVISIONING, stuck

    # Issued: ready, on https.
    issued = _ready("True", "Ready", "Certificate is up to date")
    await certs.patch_namespaced_custom_object_status(
        GROUP, VERSION, store.ns, PLURAL, secret, issued, **MERGE
    )
    ready = await log.phase(Phase.READY)
    assert ready.url == f"https://{store.host}", ready
    assert routable(ready)[:2] == ("True", "CertificateReady")
    assert Phase.READY not in log.phases()[:-1], log.phases()
    await store.delete()
