"""The provisioner's admission policy (charts/platform/templates/admission.yaml) on
the devcluster, as the provisioner's ServiceAccount under the chart's own RBAC.

RBAC lets the provisioner create and patch namespaces; the policy keeps a store
namespace a store: Pod Security `restricted` (relabelled `privileged`, the
namespace would run privileged pods from any Deployment the provisioner
applies), the labels the platform finds it by, and its tenant.
"""

import contextlib
import uuid
from collections.abc import AsyncIterator, Awaitable
from datetime import UTC, datetime
from functools import partial
from typing import Any

import pytest
from kubernetes_asyncio import config
from kubernetes_asyncio.client import (
    AdmissionregistrationV1Api,
    ApiClient,
    AuthenticationV1TokenRequest,
    CoreV1Api,
    V1TokenRequestSpec,
)
from kubernetes_asyncio.client.exceptions import ApiException

from services.contracts.store import Engine, StoreSpec
from services.devtools.devcluster import DevCluster
from services.provisioner.apply import Applier
from services.provisioner.engines import DEFAULT_CHARTS, ENGINES
from services.provisioner.ordering import Manifest
from services.provisioner.render import Renderer
from services.provisioner.values import StoreIngress
from tests.fixtures.charts import render_path
from tests.fixtures.waiting import eventually
from tests.integration.test_platform_chart import server_side_apply, uninstall, write_kubeconfig
from tests.unit.test_platform_chart_render import render_chart

RELEASE = "fence"
# What fences the provisioner: its identity, its RBAC and the admission policy.
FENCE_KINDS = frozenset(
    {
        "ServiceAccount",
        "ClusterRole",
        "ClusterRoleBinding",
        "ValidatingAdmissionPolicy",
        "ValidatingAdmissionPolicyBinding",
    }
)
PSA = "pod-security.kubernetes.io"

# Label changes the policy refuses, and what its message names. None removes a label.
Weakenings = dict[str, tuple[dict[str, str | None], str]]
WEAKENINGS: Weakenings = {
    "enforce privileged": ({f"{PSA}/enforce": "privileged"}, f"{PSA}/enforce=restricted"),
    "enforce removed": ({f"{PSA}/enforce": None}, f"{PSA}/enforce=restricted"),
    "enforce baseline": ({f"{PSA}/enforce": "baseline"}, f"{PSA}/enforce=restricted"),
    "an older enforce-version": (
        {f"{PSA}/enforce-version": "v1.22"},
        f"{PSA}/enforce-version=latest",
    ),
    "audit privileged": ({f"{PSA}/audit": "privileged"}, f"{PSA}/audit=restricted"),
    "warn removed": ({f"{PSA}/warn": None}, f"{PSA}/warn=restricted"),
    "an audit-version": ({f"{PSA}/audit-version": "v1.0"}, f"no {PSA}/audit-version"),
    "managed-by dropped": (
        {"app.kubernetes.io/managed-by": None},
        "app.kubernetes.io/managed-by=urumi",
    ),
    "another store's label": ({"urumi.dev/store": "other"}, "urumi.dev/store="),
}
# A new store may be any tenant's, but has one; an existing one keeps its own.
NO_TENANT: Weakenings = {
    "no tenant": ({"urumi.dev/tenant": None}, "needs its tenant: a urumi.dev/tenant label")
}
MOVED: Weakenings = {
    "another tenant": ({"urumi.dev/tenant": "mallory"}, "urumi.dev/tenant must stay acme")
}


@pytest.fixture(scope="module")
async def provisioner(
    devcluster: DevCluster, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[ApiClient]:
    """A client with the token of the chart's provisioner ServiceAccount."""
    namespace = f"platform-fence-{uuid.uuid4().hex[:6]}"
    rendered = render_chart("values-local.yaml", RELEASE, namespace)
    manifests = [m for m in rendered if m["kind"] in FENCE_KINDS]
    admin = await config.new_client_from_config(config_file=str(devcluster.kubeconfig))
    try:
        await server_side_apply(admin, manifests, namespace)
        sa = f"{RELEASE}-provisioner"
        request = AuthenticationV1TokenRequest(spec=V1TokenRequestSpec(audiences=[]))
        issued = await CoreV1Api(admin).create_namespaced_service_account_token(
            sa, namespace, request
        )
        path = tmp_path_factory.mktemp("fence") / "kubeconfig"
        write_kubeconfig(devcluster.kubeconfig, sa, issued.status.token, path)
        api = await config.new_client_from_config(config_file=str(path))
        try:
            yield api
        finally:
            await api.close()
    finally:
        await _remove_policy(admin)
        await uninstall(admin, namespace, manifests)
        await admin.close()


async def _remove_policy(admin: ApiClient) -> None:
    """Cluster-scoped, so not gone with the namespace (the devcluster is shared)."""
    admission = AdmissionregistrationV1Api(admin)
    name = f"{RELEASE}-provisioner-scope"
    with contextlib.suppress(ApiException):
        await admission.delete_validating_admission_policy_binding(name)
    with contextlib.suppress(ApiException):
        await admission.delete_validating_admission_policy(name)


async def store_namespace(engine: Engine, store: str) -> Manifest:
    """The Namespace the engine's chart renders, as the provisioner applies it."""
    definition = ENGINES[engine]
    spec = StoreSpec(id=store, tenant="acme", engine=engine)
    values = definition.values(spec, 1, datetime.now(UTC), StoreIngress(base_domain="stores.test"))
    chart = DEFAULT_CHARTS / definition.chart
    async with Renderer(render_path()) as renderer:
        manifests = await renderer.render(chart, store, f"store-{store}", values)
    return next(m for m in manifests if m["kind"] == "Namespace")


def relabelled(namespace: Manifest, changes: dict[str, str | None]) -> Manifest:
    labels = {**namespace["metadata"]["labels"], **changes}
    kept = {k: v for k, v in labels.items() if v is not None}
    return {**namespace, "metadata": {**namespace["metadata"], "labels": kept}}


async def dry_create(core: CoreV1Api, namespace: Manifest) -> None:
    """Admission judges it, nothing is stored. A dict body: the API takes one, the
    stubs want a model."""
    body: Any = namespace
    await core.create_namespace(body, dry_run="All")


async def refusal(call: Awaitable[Any]) -> str:
    """The policy's message; fails the test when the call is allowed."""
    with pytest.raises(ApiException) as refused:
        await call
    assert refused.value.status == 403, refused.value
    return str(refused.value.body)


async def _refused_once_active(core: CoreV1Api, namespace: Manifest) -> str | None:
    """A dry-run create's refusal, or None while the new policy is not active yet."""
    try:
        await dry_create(core, namespace)
    except ApiException as exc:
        return str(exc.body) if exc.status == 403 else None
    return None


async def test_store_namespaces_are_created_only_as_the_store_charts_render_them(
    provisioner: ApiClient,
) -> None:
    core = CoreV1Api(provisioner)
    good = await store_namespace(Engine.WOOCOMMERCE, f"f{uuid.uuid4().hex[:6]}")
    privileged = relabelled(good, {f"{PSA}/enforce": "privileged"})
    message = await eventually(
        partial(_refused_once_active, core, privileged), within=20, what="the policy active"
    )
    assert "may not weaken store namespace" in message, message
    assert f"{PSA}/enforce=restricted" in message, message
    for what, (changes, named) in (WEAKENINGS | NO_TENANT).items():
        message = await refusal(dry_create(core, relabelled(good, changes)))
        assert named in message, f"{what}: {message}"
    for engine in Engine:  # what the charts render passes
        ns = await store_namespace(engine, f"f{uuid.uuid4().hex[:6]}")
        await dry_create(core, ns)


async def test_a_store_namespace_cannot_be_relabelled_weaker(
    provisioner: ApiClient, kube: ApiClient
) -> None:
    """The provisioner's own writes (apply, annotate, delete) pass; weakening patches do not,
    and the namespace stays restricted."""
    core, applier = CoreV1Api(provisioner), Applier(provisioner)
    namespace = await store_namespace(Engine.WOOCOMMERCE, f"f{uuid.uuid4().hex[:6]}")
    name = namespace["metadata"]["name"]
    await applier.server_side_apply(namespace)
    try:
        for what, (changes, named) in (WEAKENINGS | MOVED).items():
            patch = {"metadata": {"labels": changes}}
            message = await refusal(core.patch_namespace(name, patch))
            assert named in message, f"{what}: {message}"
        live = await CoreV1Api(kube).read_namespace(name)
        assert live.metadata.labels[f"{PSA}/enforce"] == "restricted"
        assert live.metadata.labels["urumi.dev/tenant"] == "acme"
        await applier.server_side_apply(namespace)
        assert await applier.annotate_namespace(name, {"urumi.dev/generation": "2"})
        assert await applier.delete_namespace(name)
    finally:
        with contextlib.suppress(ApiException):
            await CoreV1Api(kube).delete_namespace(name)
