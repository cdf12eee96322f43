"""charts/platform against the devcluster.

- every rendered manifest, for each values file, applied for real (server-side
  apply) and its workloads Available (kwok simulates the pods);
- `helm install` then `helm upgrade` keeps the generated tokens and passwords;
- the RBAC proof: the provisioner and watcher run with tokens of the chart's own
  ServiceAccounts, and all four services on a nats-server started from the
  chart's own nats.conf (per-service users and permissions); a store goes
  through the gateway API to ready, shows its credentials, and is deleted.
  What the chart does not grant is refused.
"""

import asyncio
import contextlib
import os
import socket
import subprocess
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from functools import partial
from pathlib import Path
from typing import Any

import httpx
import nats
import pytest
import yaml
from kubernetes_asyncio import config
from kubernetes_asyncio.client import (
    ApiClient,
    AppsV1Api,
    AuthenticationV1TokenRequest,
    CoreV1Api,
    RbacAuthorizationV1Api,
    V1ClusterRole,
    V1Container,
    V1Namespace,
    V1ObjectMeta,
    V1Pod,
    V1PodSpec,
    V1Secret,
    V1TokenRequestSpec,
)
from kubernetes_asyncio.client.exceptions import ApiException
from kubernetes_asyncio.dynamic import DynamicClient
from nats.aio.client import Client
from nats.errors import Error as NatsError

from services.cli import watch
from services.devtools.devcluster import DevCluster
from services.devtools.natsserver import free_port, nats_server_binary
from services.devtools.procs import ServiceProcess
from tests.fixtures.charts import helm_path, render_path
from tests.fixtures.processes import StartService
from tests.fixtures.waiting import eventually
from tests.unit.test_platform_chart_render import (
    CHART,
    SERVICES,
    VALUES_FILES,
    Manifest,
    generated_secrets,
    nats_conf,
    render_chart,
)

FIELD_MANAGER = "urumi-chart-tests"
# The devcluster has one StorageClass (kwok binds its claims); k3s's local-path
# does not exist here.
DEVCLUSTER_SETS = (
    "gateway.persistence.storageClassName=kwok-volume",
    "nats.jetstream.fileStore.storageClassName=kwok-volume",
)


# -- applying the chart -------------------------------------------------------------


async def server_side_apply(api: ApiClient, manifests: list[Manifest], namespace: str) -> None:
    """Apply each manifest as `kubectl apply --server-side` would, failing on any error
    (raw calls: the dynamic client's own request does not raise on HTTP errors)."""
    dynamic = await DynamicClient(api)
    ns: Manifest = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": namespace}}
    for m in [ns, *manifests]:
        resource = await dynamic.resources.get(api_version=m["apiVersion"], kind=m["kind"])
        name = m["metadata"]["name"]
        path = resource.path(name=name, namespace=namespace if resource.namespaced else None)
        await api.call_api(
            path,
            "PATCH",
            query_params=[("fieldManager", FIELD_MANAGER), ("force", "true")],
            header_params={
                "Content-Type": "application/apply-patch+yaml",
                "Accept": "application/json",
            },
            body=m,
            response_types_map={200: "object", 201: "object"},
            auth_settings=["BearerToken"],
            _return_http_data_only=True,
        )


async def workloads_available(api: ApiClient, namespace: str, manifests: list[Manifest]) -> bool:
    apps = AppsV1Api(api)
    for m in manifests:
        name = m["metadata"]["name"]
        if m["kind"] == "Deployment":
            d = await apps.read_namespaced_deployment(name, namespace)
            conditions = {c.type: c.status for c in d.status.conditions or []}
            if (
                conditions.get("Available") != "True"
                or d.status.available_replicas != (m["spec"]["replicas"])
            ):
                return False
        elif m["kind"] == "StatefulSet":
            s = await apps.read_namespaced_stateful_set(name, namespace)
            if (s.status.ready_replicas or 0) != m["spec"]["replicas"]:
                return False
    return True


async def uninstall(api: ApiClient, namespace: str, manifests: list[Manifest]) -> None:
    """Drop the namespace and the cluster-scoped objects (the devcluster is shared)."""
    rbac = RbacAuthorizationV1Api(api)
    for m in manifests:
        with contextlib.suppress(ApiException):
            if m["kind"] == "ClusterRole":
                await rbac.delete_cluster_role(m["metadata"]["name"])
            elif m["kind"] == "ClusterRoleBinding":
                await rbac.delete_cluster_role_binding(m["metadata"]["name"])
    with contextlib.suppress(ApiException):
        await CoreV1Api(api).delete_namespace(namespace)


@pytest.mark.parametrize("values_file", VALUES_FILES)
async def test_chart_applies_and_becomes_available(kube: ApiClient, values_file: str) -> None:
    release = "u" + values_file.removeprefix("values").removesuffix(".yaml").replace("-", "")
    namespace = f"platform-{release}-{uuid.uuid4().hex[:6]}"
    manifests = render_chart(values_file, release, namespace, DEVCLUSTER_SETS)
    try:
        await server_side_apply(kube, manifests, namespace)
        await eventually(
            lambda: workloads_available(kube, namespace, manifests),
            within=120,
            what=f"{values_file}: every Deployment Available, NATS ready",
        )
        pvcs = await CoreV1Api(kube).list_namespaced_persistent_volume_claim(namespace)
        assert {p.status.phase for p in pvcs.items} == {"Bound"}
    finally:
        await uninstall(kube, namespace, manifests)


async def test_helm_install_keeps_generated_secrets_across_upgrade(
    kube: ApiClient, devcluster: DevCluster, tmp_path: Path
) -> None:
    """`lookup` in secrets.yaml: an upgrade must not rotate the admin token or the
    NATS passwords (the NATS pods and the services would disagree)."""
    release, namespace = "keep", f"platform-keep-{uuid.uuid4().hex[:6]}"
    env = {
        **os.environ,
        "KUBECONFIG": str(devcluster.kubeconfig),
        "HELM_CACHE_HOME": str(tmp_path / "cache"),
        "HELM_CONFIG_HOME": str(tmp_path / "config"),
        "HELM_DATA_HOME": str(tmp_path / "data"),
    }
    base = [str(CHART), "--namespace", namespace, "--values", str(CHART / "values-local.yaml")]

    def run(*args: str) -> str:
        proc = subprocess.run(
            [helm_path(), *args], env=env, capture_output=True, text=True, check=False
        )
        assert proc.returncode == 0, proc.stderr
        return proc.stdout

    async def secret() -> dict[str, str]:
        s = await CoreV1Api(kube).read_namespaced_secret(f"{release}-secrets", namespace)
        data: dict[str, str] = s.data
        return data

    rendered = render_chart("values-local.yaml", release, namespace)
    try:
        notes = run("install", release, *base, "--create-namespace")
        assert "http://urumi.127.0.0.1.nip.io/" in notes
        first = await secret()
        assert len(first) == 6
        run("upgrade", release, *base, "--set", "logLevel=DEBUG")
        assert await secret() == first
        run("uninstall", release, "--namespace", namespace)
        # resource-policy keep: a reinstall finds the same tokens (and NATS data).
        assert await secret() == first
    finally:
        await uninstall(kube, namespace, rendered)


# -- the RBAC and NATS proof ----------------------------------------------------------

RELEASE, NAMESPACE = "proof", "platform-proof"


class Installed:
    def __init__(self, manifests: list[Manifest], secrets: dict[str, str]) -> None:
        self.manifests = manifests
        self.secrets = secrets


@pytest.fixture(scope="module")
async def installed(devcluster: DevCluster) -> AsyncIterator[Installed]:
    """The chart (local values) applied once for the proof tests of this module."""
    manifests = render_chart("values-local.yaml", RELEASE, NAMESPACE, DEVCLUSTER_SETS)
    api: ApiClient = await config.new_client_from_config(config_file=str(devcluster.kubeconfig))
    try:
        await server_side_apply(api, manifests, NAMESPACE)
        yield Installed(manifests, generated_secrets(manifests))
    finally:
        await uninstall(api, NAMESPACE, manifests)
        await api.close()


async def token_kubeconfig(
    kube: ApiClient, devcluster: DevCluster, service: str, path: Path
) -> Path:
    """A kubeconfig that authenticates as the chart's ServiceAccount of `service`
    (a bound token from the TokenRequest API, as the kubelet would mount)."""
    request = AuthenticationV1TokenRequest(
        spec=V1TokenRequestSpec(audiences=[], expiration_seconds=3600)
    )
    sa = f"{RELEASE}-{service}"
    issued = await CoreV1Api(kube).create_namespaced_service_account_token(sa, NAMESPACE, request)
    write_kubeconfig(devcluster.kubeconfig, sa, issued.status.token, path)
    return path


def write_kubeconfig(admin_config: Path, user: str, token: str, path: Path) -> None:
    """The admin kubeconfig's cluster (server, CA) with a bearer-token user."""
    admin = yaml.safe_load(admin_config.read_text())
    cluster = admin["clusters"][0]["cluster"]
    if "certificate-authority" in cluster:  # relative paths would break in a new directory
        cluster["certificate-authority"] = str(
            (admin_config.parent / cluster["certificate-authority"]).resolve()
        )
    kubeconfig = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": "devcluster", "cluster": cluster}],
        "users": [{"name": user, "user": {"token": token}}],
        "contexts": [{"name": user, "context": {"cluster": "devcluster", "user": user}}],
        "current-context": user,
    }
    path.write_text(yaml.safe_dump(kubeconfig))


class ChartNats:
    """nats-server with the chart's own nats.conf: only paths and ports changed."""

    def __init__(self, conf: str, secrets: dict[str, str], workdir: Path) -> None:
        self.port = free_port()
        self.log = workdir / "nats-server.log"
        replacements = {
            "listen: 0.0.0.0:4222": f"listen: 127.0.0.1:{self.port}",
            "http: 0.0.0.0:8222": f"http: 127.0.0.1:{free_port()}",
            "pid_file: /var/run/nats/nats.pid": f"pid_file: {workdir / 'nats.pid'}",
            "store_dir: /data": f"store_dir: {workdir / 'jetstream'}",
        }
        for old, new in replacements.items():
            assert old in conf, old
            conf = conf.replace(old, new)
        self.conf = workdir / "nats.conf"
        self.conf.write_text(conf)
        # The StatefulSet's environment: pod name and every user's password.
        self.env = {"POD_NAME": "proof-nats-0"} | {
            f"NATS_{user.upper()}_PASSWORD": secrets[f"nats-{user}-password"] for user in SERVICES
        }
        self._proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        with self.log.open("ab") as out:
            self._proc = subprocess.Popen(
                [str(nats_server_binary()), "-c", str(self.conf)],
                env={**os.environ, **self.env},
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            assert self._proc.poll() is None, self.log.read_text()
            with contextlib.suppress(OSError):
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return
            time.sleep(0.05)
        raise TimeoutError(self.log.read_text())

    def stop(self) -> None:
        if self._proc is not None and self._proc.poll() is None:
            self._proc.terminate()
            self._proc.wait(10)


@pytest.fixture
def chart_nats(installed: Installed, tmp_path: Path) -> Iterator[ChartNats]:
    server = ChartNats(nats_conf(installed.manifests, RELEASE), installed.secrets, tmp_path)
    server.start()
    yield server
    server.stop()


def service_env(installed: Installed, service: str, nats_port: int) -> dict[str, str]:
    """The container environment the chart gives `service`, resolved as the
    kubelet would (ConfigMap, Secret references, $(VAR) expansion), with the
    in-cluster NATS address pointed at the local server."""
    config_map = next(
        m
        for m in installed.manifests
        if m["kind"] == "ConfigMap" and m["metadata"]["name"] == f"{RELEASE}-config"
    )
    deployment = next(
        m
        for m in installed.manifests
        if m["kind"] == "Deployment" and m["metadata"]["name"] == f"{RELEASE}-{service}"
    )
    (container,) = deployment["spec"]["template"]["spec"]["containers"]
    env: dict[str, str] = dict(config_map["data"])
    for var in container["env"]:
        if "value" in var:
            value = var["value"]
            for name, resolved in env.items():
                value = value.replace(f"$({name})", resolved)
            env[var["name"]] = value
        else:
            ref = var["valueFrom"]["secretKeyRef"]
            assert ref["name"] == f"{RELEASE}-secrets"
            env[var["name"]] = installed.secrets[ref["key"]]
    env["URUMI_NATS_URL"] = env["URUMI_NATS_URL"].replace(
        f"{RELEASE}-nats.{NAMESPACE}.svc:4222", f"127.0.0.1:{nats_port}"
    )
    env["URUMI_HTTP_HOST"] = "127.0.0.1"
    env["URUMI_SHUTDOWN_GRACE_S"] = "5"
    return env


def assert_no_violations(procs: list[ServiceProcess]) -> None:
    """nats-server tells the client, not its log: each service logs it (bus._on_error)."""
    for proc in procs:
        assert proc.log is not None
        text = proc.log.read_text()
        assert "permissions violation" not in text.lower(), f"{proc.service}: {text[-3000:]}"
        refused = ("Forbidden", '"status": 403', '"status":403')
        assert not any(r in text for r in refused), f"{proc.service}: {text[-3000:]}"


async def test_services_run_under_the_charts_permissions(
    installed: Installed,
    chart_nats: ChartNats,
    kube: ApiClient,
    devcluster: DevCluster,
    start_service: StartService,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    port = chart_nats.port
    kube_env = {
        "URUMI_RENDER_BINARY": render_path(),
        "URUMI_KUBECONFIG": "",  # set below, per ServiceAccount
    }
    store_values = tmp_path / "store-values"
    store_values.mkdir()
    # The releases ConfigMap as the kubelet would mount it for the gateway and provisioner.
    releases = tmp_path / "releases.yaml"
    releases.write_text(
        next(
            m["data"]["releases.yaml"]
            for m in installed.manifests
            if m["kind"] == "ConfigMap" and m["metadata"]["name"] == f"{RELEASE}-releases"
        )
    )

    provisioner_env = service_env(installed, "provisioner", port) | kube_env
    provisioner_env["URUMI_KUBECONFIG"] = str(
        await token_kubeconfig(kube, devcluster, "provisioner", tmp_path / "provisioner.kubeconfig")
    )
    provisioner_env["URUMI_STORE_VALUES_DIR"] = str(store_values)
    provisioner_env["URUMI_RELEASES_FILE"] = str(releases)
    watcher_env = service_env(installed, "watcher", port) | kube_env
    watcher_env["URUMI_KUBECONFIG"] = str(
        await token_kubeconfig(kube, devcluster, "watcher", tmp_path / "watcher.kubeconfig")
    )
    watcher_env["URUMI_WATCHER_RESYNC_S"] = "1"

    # As in a cluster, all start at once: only the gateway may create the streams,
    # the others become ready once it has.
    notifier = start_service("notifier", service_env(installed, "notifier", port), wait=False)
    gateway_env = service_env(installed, "gateway", port)
    gateway_env["URUMI_DATABASE"] = str(tmp_path / "gateway.db")
    gateway_env["URUMI_RELEASES_FILE"] = str(releases)
    gateway_env["URUMI_NOTIFIER_URL"] = f"ws://127.0.0.1:{notifier.http_port}/ws"
    gateway = start_service("gateway", gateway_env)
    notifier.wait_ready()
    provisioner = start_service("provisioner", provisioner_env)
    watcher = start_service("watcher", watcher_env)
    procs = [gateway, provisioner, watcher, notifier]

    admin = {"Authorization": f"Bearer {installed.secrets['admin-token']}"}
    store = f"proof-{uuid.uuid4().hex[:6]}"
    async with httpx.AsyncClient(base_url=gateway.base_url, timeout=15) as http:
        created = await http.post("/api/v1/tenants", json={"id": "acme"}, headers=admin)
        assert created.status_code == 201, created.text
        tenant = {"Authorization": f"Bearer {created.json()['token']}"}
        r = await http.post("/api/v1/stores", json={"id": store}, headers=tenant)
        assert r.status_code == 202, r.text

        # Live through the notifier (its NATS user) until the watcher says ready.
        token = created.json()["token"]
        code = await asyncio.wait_for(
            watch.follow(gateway.base_url, token, store, until_settled=True), 180
        )
        assert code == 0, capsys.readouterr().out[-3000:]
        # The gateway's projector reads the same stream: it agrees moments later.
        for _ in range(100):
            view = (await http.get(f"/api/v1/stores/{store}", headers=tenant)).json()
            if view["phase"] == "ready":
                break
            await asyncio.sleep(0.1)
        assert view["phase"] == "ready", view
        # Again, now that there are statuses: the notifier's snapshot reads them.
        code = await asyncio.wait_for(
            watch.follow(gateway.base_url, token, store, until_settled=True), 30
        )
        assert code == 0

        # Gateway asks over NATS; the provisioner reads the Secret by name.
        creds = await http.get(f"/api/v1/stores/{store}/credentials", headers=tenant)
        assert creds.status_code == 200, creds.text
        assert creds.json()["username"] == "admin" and creds.json()["password"]

        r = await http.delete(f"/api/v1/stores/{store}", headers=tenant)
        assert r.status_code == 202, r.text

        async def deleted() -> bool:
            got = (await http.get(f"/api/v1/stores/{store}", headers=tenant)).json()
            return bool(got.get("phase") == "deleted")

        await eventually(deleted, within=120, what=f"{store} deleted")
    # A new active watcher reads the last statuses back from URUMI_EVENTS.
    watcher.stop()
    successor = start_service("watcher", watcher_env)
    procs.append(successor)
    await asyncio.sleep(3)
    assert all(p.alive() for p in procs if p is not watcher)
    assert_no_violations(procs)


async def test_nats_refuses_what_a_user_is_not_granted(
    installed: Installed, chart_nats: ChartNats
) -> None:
    errors: list[str] = []

    async def on_error(exc: Exception) -> None:
        errors.append(str(exc))

    async def connect(user: str) -> Client:
        password = installed.secrets[f"nats-{user}-password"]
        url = f"nats://{user}:{password}@127.0.0.1:{chart_nats.port}"
        return await nats.connect(url, error_cb=on_error, allow_reconnect=False)

    notifier = await connect("notifier")
    gateway = await connect("gateway")
    try:
        await notifier.publish("urumi.cmd.acme.shop", b"{}")  # only the gateway commands
        await gateway.subscribe("urumi.rpc.credentials.>")  # only the provisioner answers
        await gateway.publish("urumi.evt.acme.shop.status", b"{}")  # only the watcher
        await notifier.flush()
        await gateway.flush()
        await eventually(
            lambda: asyncio.sleep(0, result=len(errors) >= 3),
            within=5,
            what="three permission violations",
        )
    finally:
        await notifier.close()
        await gateway.close()
    text = "\n".join(errors).lower()
    assert 'permissions violation for publish to "urumi.cmd.acme.shop"' in text
    assert 'permissions violation for subscription to "urumi.rpc.credentials.>"' in text
    assert 'permissions violation for publish to "urumi.evt.acme.shop.status"' in text
    with pytest.raises(NatsError):
        await nats.connect(
            f"nats://gateway:wrong@127.0.0.1:{chart_nats.port}", allow_reconnect=False
        )


async def forbidden(call: Awaitable[Any]) -> None:
    with pytest.raises(ApiException) as caught:
        await call
    assert caught.value.status == 403, caught.value


async def _only_store_namespaces(provisioner: CoreV1Api) -> None:
    """What RBAC grants everywhere, the admission policy allows in store-* only.
    Dry runs: they pass admission, and nothing is changed if the policy is not
    active yet (it may take a moment after the install)."""
    secret = V1Secret(metadata=V1ObjectMeta(name="planted"), string_data={"k": "v"})

    async def refusal(make: Callable[[], Awaitable[Any]]) -> ApiException | None:
        try:
            await make()
        except ApiException as exc:
            return exc
        return None

    attempts: dict[str, Callable[[], Awaitable[Any]]] = {
        "a Secret in kube-system": lambda: provisioner.create_namespaced_secret(
            "kube-system", secret, dry_run="All"
        ),
        "deleting the platform's namespace": lambda: provisioner.delete_namespace(
            NAMESPACE, dry_run="All"
        ),
        "a namespace not named store-*": lambda: provisioner.create_namespace(
            V1Namespace(metadata=V1ObjectMeta(name="nope")), dry_run="All"
        ),
    }
    for what, make in attempts.items():
        exc = await eventually(partial(refusal, make), within=20, what=f"{what} refused")
        assert exc.status == 403, exc
        assert "store-* namespaces" in str(exc.body), exc.body
    # Which store namespaces it may write: test_provisioner_admission.py.


async def test_service_accounts_cannot_do_what_the_chart_does_not_grant(
    installed: Installed, kube: ApiClient, devcluster: DevCluster, tmp_path: Path
) -> None:
    clients: dict[str, ApiClient] = {}
    try:
        for service in SERVICES:
            path = await token_kubeconfig(kube, devcluster, service, tmp_path / service)
            clients[service] = await config.new_client_from_config(config_file=str(path))
        provisioner = CoreV1Api(clients["provisioner"])
        watcher = CoreV1Api(clients["watcher"])

        # Secrets in kube-system: nobody reads them, nobody lists them.
        for service, api in clients.items():
            core = CoreV1Api(api)
            await forbidden(core.list_namespaced_secret("kube-system"))
            await forbidden(core.read_namespaced_secret("any-secret", "kube-system"))
            if service in ("gateway", "notifier"):
                await forbidden(core.list_namespace())  # they hold no permission at all
        # The provisioner's Secret access is create, and get of one name only.
        await forbidden(provisioner.read_namespaced_secret(f"{RELEASE}-secrets", NAMESPACE))
        # Nothing beyond the store kinds: no pods, no RBAC, no cluster objects.
        pod = V1Pod(
            metadata=V1ObjectMeta(name="x"),
            spec=V1PodSpec(containers=[V1Container(name="x", image="x")]),
        )
        await forbidden(provisioner.create_namespaced_pod(NAMESPACE, pod))
        await forbidden(
            RbacAuthorizationV1Api(clients["provisioner"]).create_cluster_role(
                V1ClusterRole(metadata=V1ObjectMeta(name="escalate"), rules=[])
            )
        )
        await forbidden(provisioner.list_node())
        await _only_store_namespaces(provisioner)
        # The watcher only lists and watches: no get, no writes.
        await forbidden(watcher.read_namespace("default"))
        await forbidden(watcher.create_namespace(V1Namespace(metadata=V1ObjectMeta(name="nope"))))
        listed = await watcher.list_namespace(label_selector="app.kubernetes.io/managed-by=urumi")
        assert listed.items is not None
    finally:
        for api in clients.values():
            await api.close()
