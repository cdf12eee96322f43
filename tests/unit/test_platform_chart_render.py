"""`helm lint` and `helm template` of charts/platform with each values file: what
an operator's cluster gets. Also the helpers the devcluster tests render with."""

import base64
import json
import re
import subprocess
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml

from services.contracts.store import Plan, StoreSpec
from services.gateway.settings import NAMESERVER_PATTERN
from services.provisioner.apply import PRUNE_KINDS
from services.provisioner.engines import DEFAULT_CHARTS, ENGINES
from services.provisioner.values import StoreIngress
from services.watcher.kinds import DRIFT_KINDS, KINDS
from tests.fixtures.charts import helm_path, render_path

Manifest = dict[str, Any]

REPO_ROOT = Path(__file__).resolve().parents[2]
CHART = REPO_ROOT / "charts" / "platform"
VALUES_FILES = ("values.yaml", "values-local.yaml", "values-k3s.yaml")
SERVICES = ("gateway", "provisioner", "watcher", "notifier")
NATS_USERS = SERVICES


def render_chart(
    values_file: str = "values.yaml",
    release: str = "urumi",
    namespace: str = "urumi",
    sets: Sequence[str] = (),
) -> list[Manifest]:
    args = [helm_path(), "template", release, str(CHART), "--namespace", namespace]
    args += ["--values", str(CHART / values_file)]
    for s in sets:
        args += ["--set", s]
    proc = subprocess.run(args, capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stderr
    return [d for d in yaml.safe_load_all(proc.stdout) if isinstance(d, dict) and d.get("kind")]


def find(manifests: list[Manifest], kind: str, name: str | None = None) -> Manifest:
    found = [m for m in manifests if m["kind"] == kind and name in (None, m["metadata"]["name"])]
    assert len(found) == 1, f"{kind}/{name}: {len(found)} found"
    return found[0]


def of_kind(manifests: list[Manifest], *kinds: str) -> list[Manifest]:
    return [m for m in manifests if m["kind"] in kinds]


def nats_conf(manifests: list[Manifest], release: str = "urumi") -> str:
    conf: str = find(manifests, "ConfigMap", f"{release}-nats")["data"]["nats.conf"]
    return conf


def generated_secrets(manifests: list[Manifest]) -> dict[str, str]:
    """The chart's generated Secret, decoded (empty when everything is external)."""
    secrets = [
        m for m in of_kind(manifests, "Secret") if m["metadata"]["name"].endswith("-secrets")
    ]
    if not secrets:
        return {}
    data: dict[str, str] = secrets[0]["data"]
    return {k: base64.b64decode(v).decode() for k, v in data.items()}


class NatsUser:
    def __init__(self) -> None:
        self.publish: list[str] = []
        self.subscribe: list[str] = []
        self.allow_responses = False

    def may(self, action: str, subject: str) -> bool:
        patterns = self.publish if action == "publish" else self.subscribe
        return any(subject_matches(p, subject) for p in patterns)


def nats_users(conf: str) -> dict[str, NatsUser]:
    """Each user's permissions from the rendered nats.conf (the chart writes one
    user per block: `user:`, then `publish: {allow: [...]}` lines)."""
    users: dict[str, NatsUser] = {}
    current: NatsUser | None = None
    for line in conf.splitlines():
        text = line.strip()
        if m := re.fullmatch(r'user: "([a-z]+)"', text):
            current = users.setdefault(m.group(1), NatsUser())
        elif current and (m := re.fullmatch(r"(publish|subscribe): \{allow: (\[.*\])\}", text)):
            getattr(current, m.group(1)).extend(json.loads(m.group(2)))
        elif current and text == "allow_responses: true":
            current.allow_responses = True
    return users


def subject_matches(pattern: str, subject: str) -> bool:
    """NATS wildcard matching: `*` one token, `>` one or more trailing tokens."""
    pat, sub = pattern.split("."), subject.split(".")
    for i, token in enumerate(pat):
        if token == ">":
            return len(sub) > i
        if i >= len(sub) or token not in ("*", sub[i]):
            return False
    return len(pat) == len(sub)


def env_of(container: Manifest) -> dict[str, Any]:
    return {e["name"]: e.get("value", e.get("valueFrom")) for e in container.get("env", [])}


def deployment(manifests: list[Manifest], service: str, release: str = "urumi") -> Manifest:
    return find(manifests, "Deployment", f"{release}-{service}")


# -- lint and render -------------------------------------------------------------


@pytest.mark.parametrize("values_file", VALUES_FILES)
def test_helm_lint_is_clean(values_file: str) -> None:
    proc = subprocess.run(
        [helm_path(), "lint", "--strict", str(CHART), "--values", str(CHART / values_file)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_schema_rejects_an_even_nats_cluster_and_a_database_that_is_not_postgresql() -> None:
    for bad in ("nats.replicas=2", "logLevel=LOUD", "gateway.database.url=mysql://db/urumi"):
        proc = subprocess.run(
            [helm_path(), "template", "x", str(CHART), "--set", bad],
            capture_output=True,
            text=True,
            check=False,
        )
        assert proc.returncode != 0, bad
        assert "schema" in proc.stderr.lower() or "values don't meet" in proc.stderr, proc.stderr


def test_store_tls_mode_reaches_the_services_and_http01_needs_an_issuer() -> None:
    manifests = render_chart(sets=["stores.tlsMode=wildcard"])
    assert find(manifests, "ConfigMap", "urumi-config")["data"]["URUMI_TLS_MODE"] == "wildcard"
    proc = subprocess.run(
        [helm_path(), "template", "x", str(CHART), "--set", "stores.tlsMode=http01"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode != 0
    assert "tlsIssuer" in proc.stderr, proc.stderr


@pytest.mark.parametrize("values_file", VALUES_FILES)
def test_every_pod_is_hardened(values_file: str) -> None:
    manifests = render_chart(values_file)
    workloads = of_kind(manifests, "Deployment", "StatefulSet")
    assert len(workloads) == 5
    for w in workloads:
        pod = w["spec"]["template"]["spec"]
        name = w["metadata"]["name"]
        assert pod["securityContext"]["runAsNonRoot"] is True, name
        assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}, name
        for c in pod["containers"]:
            sc = c["securityContext"]
            assert sc["allowPrivilegeEscalation"] is False, name
            assert sc["readOnlyRootFilesystem"] is True, name
            assert sc["capabilities"] == {"drop": ["ALL"]}, name
            assert sc["seccompProfile"] == {"type": "RuntimeDefault"}, name
            assert c["resources"]["requests"] and c["resources"]["limits"], name
            assert {"startupProbe", "livenessProbe", "readinessProbe"} <= c.keys(), name
            # A read-only root needs somewhere to write: /tmp (HOME) or the data volume.
            mounts = {m["mountPath"] for m in c["volumeMounts"]}
            assert mounts & {"/tmp", "/data"}, name


@pytest.mark.parametrize("values_file", VALUES_FILES)
def test_services_run_their_entry_point_with_health_probes(values_file: str) -> None:
    manifests = render_chart(values_file)
    for service in SERVICES:
        pod = deployment(manifests, service)["spec"]["template"]["spec"]
        (c,) = pod["containers"]
        assert c["args"] == [service]
        assert c["ports"] == [{"name": "http", "containerPort": 8080, "protocol": "TCP"}]
        assert c["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": "http"}
        assert c["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": "http"}
        assert c["envFrom"] == [{"configMapRef": {"name": "urumi-config"}}]
        assert pod["serviceAccountName"] == f"urumi-{service}"
        svc = find(manifests, "Service", f"urumi-{service}")
        assert svc["spec"]["ports"][0]["targetPort"] == "http"
        find(manifests, "PodDisruptionBudget", f"urumi-{service}")


@pytest.mark.parametrize("values_file", VALUES_FILES)
def test_every_urumi_variable_is_a_setting(values_file: str) -> None:
    """A misspelt variable would be ignored silently (load_settings reads known names)."""
    from services.gateway.settings import GatewaySettings
    from services.notifier.settings import NotifierSettings
    from services.provisioner.settings import ProvisionerSettings
    from services.runtime.settings import Settings, env_names
    from services.watcher.settings import WatcherSettings

    kinds: dict[str, type[Settings]] = {
        "gateway": GatewaySettings,
        "provisioner": ProvisionerSettings,
        "watcher": WatcherSettings,
        "notifier": NotifierSettings,
    }
    manifests = render_chart(values_file)
    config = find(manifests, "ConfigMap", "urumi-config")["data"]
    shared = {n for n in config if n.startswith("URUMI_")}
    # The ConfigMap reaches every service: each name must be one service's at least.
    assert shared - {n for kind in kinds.values() for n in env_names(kind)} == set()
    urumi = set(shared)
    for service in SERVICES:
        container = deployment(manifests, service)["spec"]["template"]["spec"]["containers"][0]
        own = {n for n in env_of(container) if n.startswith("URUMI_")}
        assert own - env_names(kinds[service]) == set(), service
        urumi |= own
    assert {"URUMI_NATS_URL", "URUMI_ADMIN_TOKEN", "URUMI_TICKET_SECRET"} <= urumi


def test_gateway_is_one_pod_with_sqlite_on_a_volume() -> None:
    manifests = render_chart()
    gw = deployment(manifests, "gateway")
    assert gw["spec"]["replicas"] == 1
    assert gw["spec"]["strategy"] == {"type": "Recreate"}
    pod = gw["spec"]["template"]["spec"]
    env = env_of(pod["containers"][0])
    assert env["URUMI_DATABASE"] == "/data/urumi.db"
    claim = next(v for v in pod["volumes"] if v["name"] == "data")["persistentVolumeClaim"]
    pvc = find(manifests, "PersistentVolumeClaim", claim["claimName"])
    assert pvc["metadata"]["annotations"]["helm.sh/resource-policy"] == "keep"
    assert env["URUMI_ADMIN_TOKEN"] == {
        "secretKeyRef": {"name": "urumi-secrets", "key": "admin-token"}
    }


def test_a_second_gateway_on_sqlite_is_refused() -> None:
    proc = subprocess.run(
        [helm_path(), "template", "x", str(CHART), "--set", "gateway.replicas=2"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode != 0
    assert "gateway.replicas > 1 needs PostgreSQL" in proc.stderr


K3S_POSTGRES = [
    "gateway.replicas=3",
    "gateway.database.existingSecret=urumi-pg-app",
    "gateway.database.existingSecretKey=uri",
]


def test_gateway_replicas_on_postgresql_spread_and_roll_one_at_a_time() -> None:
    manifests = render_chart("values-k3s.yaml", sets=K3S_POSTGRES)
    gw = deployment(manifests, "gateway")
    assert gw["spec"]["replicas"] == 3
    assert gw["spec"]["strategy"]["rollingUpdate"] == {"maxUnavailable": 0, "maxSurge": 1}
    pod = gw["spec"]["template"]["spec"]
    env = env_of(pod["containers"][0])
    assert env["URUMI_DATABASE_URL"] == {"secretKeyRef": {"name": "urumi-pg-app", "key": "uri"}}
    assert "URUMI_DATABASE" not in env
    assert [v["name"] for v in pod["volumes"]] == ["tmp", "releases"]  # no database volume
    assert not of_kind(manifests, "PersistentVolumeClaim")
    selector = gw["spec"]["selector"]["matchLabels"]
    spread = pod["affinity"]["podAntiAffinity"]["preferredDuringSchedulingIgnoredDuringExecution"]
    assert spread[0]["podAffinityTerm"]["topologyKey"] == "kubernetes.io/hostname"
    assert spread[0]["podAffinityTerm"]["labelSelector"]["matchLabels"] == selector
    pdb = find(manifests, "PodDisruptionBudget", "urumi-gateway")
    assert pdb["spec"] == {"maxUnavailable": 1, "selector": {"matchLabels": selector}}
    egress = find(manifests, "NetworkPolicy", "urumi-gateway-to-database")["spec"]["egress"]
    assert egress == [{"ports": [{"protocol": "TCP", "port": 5432}]}]


def test_a_database_url_without_a_secret_is_passed_as_is() -> None:
    url = "postgresql://urumi@db.example.com:5432/urumi"
    manifests = render_chart(sets=["gateway.replicas=2", f"gateway.database.url={url}"])
    env = env_of(deployment(manifests, "gateway")["spec"]["template"]["spec"]["containers"][0])
    assert env["URUMI_DATABASE_URL"] == url


def test_replicas_per_values_file() -> None:
    def replicas(manifests: list[Manifest]) -> dict[str, int]:
        return {
            m["metadata"]["name"].removeprefix("urumi-"): m["spec"]["replicas"]
            for m in of_kind(manifests, "Deployment", "StatefulSet")
        }

    production = {"gateway": 1, "provisioner": 2, "watcher": 2, "notifier": 2, "nats": 3}
    assert replicas(render_chart("values.yaml")) == production
    assert replicas(render_chart("values-k3s.yaml")) == production
    assert replicas(render_chart("values-local.yaml")) == dict.fromkeys(production, 1)


def test_self_healing_settings_reach_the_watcher_and_the_provisioner() -> None:
    def env(manifests: list[Manifest], service: str) -> dict[str, Any]:
        return env_of(deployment(manifests, service)["spec"]["template"]["spec"]["containers"][0])

    defaults = render_chart()
    assert env(defaults, "watcher")["URUMI_SELFHEAL_RESYNC_S"] == "3600"
    assert env(defaults, "watcher")["URUMI_SELFHEAL_RESYNC_PER_S"] == "0.5"
    assert env(defaults, "provisioner")["URUMI_SELFHEAL_FIGHT_LIMIT"] == "5"
    assert env(defaults, "provisioner")["URUMI_SELFHEAL_FIGHT_WINDOW_S"] == "600"
    tuned = render_chart(sets=["watcher.resyncSeconds=7200", "provisioner.fightLimit=3"])
    assert env(tuned, "watcher")["URUMI_SELFHEAL_RESYNC_S"] == "7200"
    assert env(tuned, "provisioner")["URUMI_SELFHEAL_FIGHT_LIMIT"] == "3"


def test_sleeping_stores_route_to_the_gateway_service() -> None:
    """A sleeping store's ExternalName Service must name the gateway's Service
    (in the platform's namespace, on the port it serves): the "asleep" page."""
    manifests = render_chart(release="shop", namespace="platform")
    env = env_of(
        deployment(manifests, "provisioner", "shop")["spec"]["template"]["spec"]["containers"][0]
    )
    gateway = find(manifests, "Service", "shop-gateway")
    assert env["URUMI_SLEEP_PAGE_HOST"] == "shop-gateway.platform.svc.cluster.local"
    assert int(env["URUMI_SLEEP_PAGE_PORT"]) == gateway["spec"]["ports"][0]["port"]


# -- Kubernetes identity and RBAC -------------------------------------------------

PROVISIONER_RULES = [
    {"apiGroups": [""], "resources": ["namespaces"], "verbs": ["get", "create", "patch", "delete"]},
    {"apiGroups": [""], "resources": ["secrets"], "verbs": ["create"]},
    {
        "apiGroups": [""],
        "resources": ["secrets"],
        "resourceNames": ["store-credentials"],
        "verbs": ["get"],
    },
    {
        "apiGroups": [""],
        "resources": ["secrets"],
        "resourceNames": ["backup-storage"],
        "verbs": ["patch"],
    },
    {"apiGroups": ["batch"], "resources": ["cronjobs"], "verbs": ["get"]},
    {"apiGroups": [""], "resources": ["events"], "verbs": ["create"]},
    {
        "apiGroups": [""],
        "resources": ["pods", "persistentvolumeclaims"],
        "verbs": ["deletecollection"],
    },
    {
        "apiGroups": ["apps"],
        "resources": ["deployments", "replicasets", "statefulsets"],
        "verbs": ["deletecollection"],
    },
    {"apiGroups": ["batch"], "resources": ["jobs"], "verbs": ["deletecollection"]},
    {
        "apiGroups": [""],
        "resources": ["limitranges", "persistentvolumeclaims", "resourcequotas", "services"],
        "verbs": ["create", "patch", "list", "delete"],
    },
    {
        "apiGroups": ["apps"],
        "resources": ["deployments", "statefulsets"],
        "verbs": ["create", "patch", "list", "delete"],
    },
    {
        "apiGroups": ["batch"],
        "resources": ["cronjobs", "jobs"],
        "verbs": ["create", "patch", "list", "delete"],
    },
    {
        "apiGroups": ["networking.k8s.io"],
        "resources": ["ingresses", "networkpolicies"],
        "verbs": ["create", "patch", "list", "delete"],
    },
]

WATCHER_RULES = [
    {
        "apiGroups": [""],
        "resources": [
            "events",
            "limitranges",
            "namespaces",
            "persistentvolumeclaims",
            "pods",
            "resourcequotas",
            "services",
        ],
        "verbs": ["list", "watch"],
    },
    {
        "apiGroups": ["apps"],
        "resources": ["deployments", "statefulsets"],
        "verbs": ["list", "watch"],
    },
    {"apiGroups": ["batch"], "resources": ["jobs"], "verbs": ["list", "watch"]},
    {
        "apiGroups": ["networking.k8s.io"],
        "resources": ["ingresses", "networkpolicies"],
        "verbs": ["list", "watch"],
    },
    {"apiGroups": ["cert-manager.io"], "resources": ["certificates"], "verbs": ["list", "watch"]},
    {
        "apiGroups": ["acme.cert-manager.io"],
        "resources": ["challenges"],
        "verbs": ["list", "watch"],
    },
]


@pytest.mark.parametrize("values_file", VALUES_FILES)
def test_cluster_roles_are_exactly_what_the_services_use(values_file: str) -> None:
    manifests = render_chart(values_file)
    roles = {m["metadata"]["name"]: m["rules"] for m in of_kind(manifests, "ClusterRole")}
    assert roles == {"urumi-provisioner": PROVISIONER_RULES, "urumi-watcher": WATCHER_RULES}
    assert not of_kind(manifests, "Role", "RoleBinding")
    bindings = {
        m["metadata"]["name"]: (m["roleRef"]["name"], m["subjects"])
        for m in of_kind(manifests, "ClusterRoleBinding")
    }
    for service in ("provisioner", "watcher"):
        sa = {"kind": "ServiceAccount", "name": f"urumi-{service}", "namespace": "urumi"}
        assert bindings[f"urumi-{service}"] == (f"urumi-{service}", [sa])


@pytest.mark.parametrize("values_file", VALUES_FILES)
def test_only_provisioner_and_watcher_get_a_kubernetes_token(values_file: str) -> None:
    manifests = render_chart(values_file)
    for service in SERVICES:
        sa = find(manifests, "ServiceAccount", f"urumi-{service}")
        pod = deployment(manifests, service)["spec"]["template"]["spec"]
        talks_to_kube = service in ("provisioner", "watcher")
        assert sa["automountServiceAccountToken"] is talks_to_kube, service
        assert pod.get("automountServiceAccountToken", True) is talks_to_kube, service
    nats = find(manifests, "StatefulSet", "urumi-nats")["spec"]["template"]["spec"]
    assert nats["automountServiceAccountToken"] is False


def _resource(group: str, kind: str) -> tuple[str, str]:
    plural = {"Ingress": "ingresses", "NetworkPolicy": "networkpolicies"}
    return group, plural.get(kind, kind.lower() + "s")


def _granted(rules: list[Manifest], verbs: set[str]) -> set[tuple[str, str]]:
    return {
        (g, r)
        for rule in rules
        if verbs <= set(rule["verbs"]) and "resourceNames" not in rule
        for g in rule["apiGroups"]
        for r in rule["resources"]
    }


def test_watcher_role_covers_its_informers() -> None:
    rules = find(render_chart(), "ClusterRole", "urumi-watcher")["rules"]
    kinds = KINDS + DRIFT_KINDS
    assert _granted(rules, {"list", "watch"}) == {(k.group, k.resource) for k in kinds}


async def test_provisioner_role_covers_every_store_chart_and_prune() -> None:
    """Every kind a store chart renders can be applied and pruned; every kind
    prune looks at can be listed. A new engine with a new kind fails here."""
    from services.provisioner.render import Renderer

    rules = find(render_chart(), "ClusterRole", "urumi-provisioner")["rules"]
    writable = _granted(rules, {"create", "patch", "list", "delete"})
    listable = _granted(rules, {"list"})
    ingress = StoreIngress(base_domain="shops.example.com")
    at = datetime(2026, 1, 1, tzinfo=UTC)
    for engine, definition in ENGINES.items():
        spec = StoreSpec(id="rbac-check", tenant="acme", plan=Plan.SMALL, engine=engine)
        values = definition.values(spec, 1, at, ingress)
        async with Renderer(render_path()) as renderer:
            manifests = await renderer.render(
                DEFAULT_CHARTS / definition.chart, spec.id, "store-rbac-check", values
            )
        for m in manifests:
            if m["kind"] == "Namespace":
                continue  # its own rule: get, create, patch, delete
            group = m["apiVersion"].rpartition("/")[0]
            assert _resource(group, m["kind"]) in writable, (engine, m["kind"])
            # A kind a later render drops must be pruned, so prune knows them all.
            assert (m["apiVersion"], m["kind"]) in PRUNE_KINDS, (engine, m["kind"])
    for api_version, kind in PRUNE_KINDS:
        group = api_version.rpartition("/")[0]
        assert _resource(group, kind) in listable, kind


# -- NATS ------------------------------------------------------------------------


@pytest.mark.parametrize("values_file", VALUES_FILES)
def test_nats_users_may_use_only_their_subjects(values_file: str) -> None:
    users = nats_users(nats_conf(render_chart(values_file)))
    assert set(users) == set(NATS_USERS)

    def who(action: str, subject: str) -> set[str]:
        return {name for name, u in users.items() if u.may(action, subject)}

    # The command and credential paths: the gateway asks, the provisioner answers.
    assert who("publish", "urumi.cmd.acme.shop") == {"gateway"}
    # The watcher may ask for a re-apply (self-healing), and nothing else.
    assert who("publish", "urumi.cmd.acme.shop.reconcile") == {"gateway", "watcher"}
    assert who("publish", "urumi.rpc.credentials.acme.shop") == {"gateway"}
    assert who("subscribe", "urumi.rpc.credentials.acme.shop") == {"provisioner"}
    assert {n for n, u in users.items() if u.allow_responses} == {"provisioner"}
    # One writer per fact.
    assert who("publish", "urumi.evt.acme.shop.progress") == {"provisioner"}
    assert who("publish", "urumi.evt.acme.shop.status") == {"watcher"}
    assert who("publish", "urumi.evt.acme.shop.kube") == {"watcher"}
    # Events are read through JetStream consumers only, never core subscriptions.
    assert who("subscribe", "urumi.evt.acme.shop.status") == set()
    assert who("subscribe", "urumi.cmd.acme.shop") == set()
    # Durable consumers belong to their service.
    assert who("publish", "$JS.API.CONSUMER.MSG.NEXT.URUMI_COMMANDS.provisioner") == {"provisioner"}
    assert who("publish", "$JS.ACK.URUMI_COMMANDS.provisioner.1.2.3.4.5") == {"provisioner"}
    assert who("publish", "$JS.API.CONSUMER.MSG.NEXT.URUMI_EVENTS.gateway-projector") == {
        "gateway",
        "watcher",  # ephemeral consumers are named by the client: any name on URUMI_EVENTS
        "notifier",
    }
    assert who("publish", "$JS.API.CONSUMER.CREATE.URUMI_COMMANDS.x") == set()
    # The watcher may only read statuses back; the notifier's live feed may not be narrowed.
    status_reader = "$JS.API.CONSUMER.CREATE.URUMI_EVENTS.n1.urumi.evt.*.*.status"
    assert who("publish", status_reader) == {"watcher", "notifier"}
    assert who("publish", "$JS.API.CONSUMER.CREATE.URUMI_EVENTS.n1.urumi.evt.>") == set()
    assert who("publish", "$JS.API.CONSUMER.CREATE.URUMI_EVENTS") == {"notifier"}
    # Readers delete their own consumers when done.
    assert who("publish", "$JS.API.CONSUMER.DELETE.URUMI_EVENTS.n1") == {"watcher", "notifier"}
    assert who("publish", "$JS.API.CONSUMER.DURABLE.CREATE.URUMI_EVENTS.gateway-projector") == {
        "gateway"
    }
    # KV buckets belong to their service.
    assert who("publish", "$KV.urumi-watcher-lease.leader") == {"watcher"}
    assert who("publish", "$KV.urumi-provisioner-locks.shop") == {"provisioner"}
    assert who("publish", "$KV.urumi-provisioner-generations.shop") == {"provisioner"}
    assert who("publish", "$KV.urumi-provisioner-applied.shop") == {"provisioner"}
    # Nobody deletes or purges streams or reads messages by sequence.
    for api in ("STREAM.DELETE", "STREAM.PURGE", "STREAM.MSG.DELETE", "STREAM.MSG.GET"):
        assert who("publish", f"$JS.API.{api}.URUMI_EVENTS") == set(), api
        assert who("publish", f"$JS.API.{api}.URUMI_COMMANDS") == set(), api
    # Only the gateway sets up the streams; each service gets replies on its own inbox.
    assert who("publish", "$JS.API.STREAM.UPDATE.URUMI_EVENTS") == {"gateway"}
    assert who("publish", "$JS.API.STREAM.INFO.URUMI_EVENTS") == set(users)
    for name, u in users.items():
        assert u.may("subscribe", f"_INBOX_{name}.abc.def"), name
        assert not u.may("publish", f"_INBOX_{name}.abc.def"), name
    assert who("subscribe", "_INBOX_gateway.abc") == {"gateway"}


@pytest.mark.parametrize("values_file", VALUES_FILES)
def test_nats_cluster_and_passwords(values_file: str) -> None:
    manifests = render_chart(values_file)
    conf = nats_conf(manifests)
    sts = find(manifests, "StatefulSet", "urumi-nats")
    replicas = sts["spec"]["replicas"]
    routes = re.findall(r"nats://urumi-nats-\d\.urumi-nats-headless\.urumi\.svc:6222", conf)
    assert len(routes) == (replicas if replicas > 1 else 0)
    assert sts["spec"]["podManagementPolicy"] == "Parallel"
    (c,) = sts["spec"]["template"]["spec"]["containers"]
    assert c["image"].startswith("nats:")
    env = env_of(c)
    for user in NATS_USERS:
        var = f"NATS_{user.upper()}_PASSWORD"
        assert f"password: ${var}" in conf
        assert env[var] == {
            "secretKeyRef": {"name": "urumi-secrets", "key": f"nats-{user}-password"}
        }
        # Each service gets its own password only, put into its URL by the kubelet.
        svc_env = env_of(deployment(manifests, user)["spec"]["template"]["spec"]["containers"][0])
        assert svc_env["NATS_PASSWORD"]["secretKeyRef"]["key"] == f"nats-{user}-password"
        assert svc_env["URUMI_NATS_URL"] == (
            f"nats://{user}:$(NATS_PASSWORD)@urumi-nats.urumi.svc:4222"
        )


@pytest.mark.parametrize("values_file", VALUES_FILES)
def test_no_secret_value_outside_secrets(values_file: str) -> None:
    manifests = render_chart(values_file)
    secrets = generated_secrets(manifests)
    assert set(secrets) == {"admin-token", "ticket-secret"} | {
        f"nats-{u}-password" for u in NATS_USERS
    }
    elsewhere = yaml.safe_dump([m for m in manifests if m["kind"] != "Secret"])
    for key, value in secrets.items():
        assert len(value) >= 32 and value.isalnum(), key
        assert value not in elsewhere, key
    for cm in of_kind(manifests, "ConfigMap"):
        for key in cm["data"]:
            assert not re.search(r"TOKEN|SECRET|PASSWORD", key), key


def test_existing_secrets_and_an_external_nats() -> None:
    manifests = render_chart(
        sets=[
            "adminToken.existingSecret=ops-admin",
            "adminToken.existingSecretKey=token",
            "ticketSecret.existingSecret=ops-ticket",
            "nats.external.url=nats://nats.shared.svc:4222",
        ]
    )
    assert not of_kind(manifests, "Secret", "StatefulSet")
    assert all(m["metadata"]["name"] != "urumi-nats" for m in manifests)
    gw = env_of(deployment(manifests, "gateway")["spec"]["template"]["spec"]["containers"][0])
    assert gw["URUMI_ADMIN_TOKEN"] == {"secretKeyRef": {"name": "ops-admin", "key": "token"}}
    assert gw["URUMI_TICKET_SECRET"] == {
        "secretKeyRef": {"name": "ops-ticket", "key": "ticket-secret"}
    }
    assert gw["URUMI_NATS_URL"] == "nats://nats.shared.svc:4222"
    assert "NATS_PASSWORD" not in gw

    per_service = render_chart(sets=["nats.external.existingSecret=nats-urls"])
    for service in SERVICES:
        pod = deployment(per_service, service)["spec"]["template"]["spec"]
        assert env_of(pod["containers"][0])["URUMI_NATS_URL"] == {
            "secretKeyRef": {"name": "nats-urls", "key": service}
        }


# -- traffic -----------------------------------------------------------------------


def _backend(ingress: Manifest, path: str) -> str | None:
    """The service a request path reaches, by Kubernetes' rules: the longest
    matching path wins; Prefix matches whole path elements."""
    (rule,) = ingress["spec"]["rules"]
    best: tuple[int, str] | None = None
    for p in rule["http"]["paths"]:
        route: str = p["path"]
        if p["pathType"] == "Exact":
            hit = path == route
        else:
            hit = route == "/" or path == route or path.startswith(route.rstrip("/") + "/")
        if hit and (best is None or len(route) > best[0]):
            best = (len(route), p["backend"]["service"]["name"])
    return best[1] if best else None


@pytest.mark.parametrize("values_file", VALUES_FILES)
def test_ingress_routes_api_and_dashboard_to_gateway_and_ws_to_notifier(values_file: str) -> None:
    ingress = find(render_chart(values_file), "Ingress")
    assert _backend(ingress, "/ws") == "urumi-notifier"
    for path in ("/api/v1/stores", "/schema/openapi.json", "/"):
        assert _backend(ingress, path) == "urumi-gateway", path
    dashboard = REPO_ROOT / "dashboard"
    for file in (f for f in dashboard.rglob("*") if f.is_file()):
        path = "/" + file.relative_to(dashboard).as_posix()
        assert _backend(ingress, path) == "urumi-gateway", f"dashboard file {path} unreachable"


@pytest.mark.parametrize("values_file", VALUES_FILES)
def test_ingress_keeps_metrics_and_health_inside_the_cluster(values_file: str) -> None:
    ingress = find(render_chart(values_file), "Ingress")
    for path in ("/metrics", "/healthz", "/readyz", "/wsx", "/apix"):
        assert _backend(ingress, path) is None, path


def test_local_values_use_kind_images_and_nip_io() -> None:
    manifests = render_chart("values-local.yaml")
    (c,) = deployment(manifests, "gateway")["spec"]["template"]["spec"]["containers"]
    assert (c["image"], c["imagePullPolicy"]) == ("urumi:dev", "Never")
    ingress = find(manifests, "Ingress")
    assert ingress["spec"]["ingressClassName"] == "nginx"
    assert ingress["spec"]["rules"][0]["host"] == "urumi.127.0.0.1.nip.io"
    config = find(manifests, "ConfigMap", "urumi-config")["data"]
    assert config["URUMI_BASE_DOMAIN"] == "127.0.0.1.nip.io"
    assert config["URUMI_NOTIFIER_URL"] == "ws://urumi.127.0.0.1.nip.io/ws"


def test_k3s_values_use_traefik_and_cert_manager() -> None:
    manifests = render_chart("values-k3s.yaml")
    ingress = find(manifests, "Ingress")
    assert ingress["spec"]["ingressClassName"] == "traefik"
    assert ingress["metadata"]["annotations"]["cert-manager.io/cluster-issuer"] == (
        "letsencrypt-prod"
    )
    assert ingress["spec"]["tls"] == [{"hosts": ["urumi.example.com"], "secretName": "urumi-tls"}]
    config = find(manifests, "ConfigMap", "urumi-config")["data"]
    assert config["URUMI_INGRESS_CLASS"] == "traefik"
    assert config["URUMI_TLS_ISSUER"] == "letsencrypt-prod"
    assert config["URUMI_TLS_MODE"] == "http01"
    # Traefik runs in kube-system on k3s: stores and the platform admit it from there.
    assert config["URUMI_INGRESS_NAMESPACE"] == "kube-system"
    assert config["URUMI_NOTIFIER_URL"] == "wss://urumi.example.com/ws"
    policy = find(manifests, "NetworkPolicy", "urumi-gateway-from-ingress")
    selector = policy["spec"]["ingress"][0]["from"][0]["namespaceSelector"]
    assert selector == {"matchLabels": {"kubernetes.io/metadata.name": "kube-system"}}


@pytest.mark.parametrize("values_file", VALUES_FILES)
def test_network_policies_deny_by_default(values_file: str) -> None:
    manifests = render_chart(values_file)
    deny = find(manifests, "NetworkPolicy", "urumi-default-deny")
    assert deny["spec"]["policyTypes"] == ["Ingress", "Egress"]
    assert "ingress" not in deny["spec"] and "egress" not in deny["spec"]
    nats = find(manifests, "NetworkPolicy", "urumi-nats")
    ports = [p["port"] for rule in nats["spec"]["ingress"] for p in rule["ports"]]
    assert ports == [4222, 6222]  # clients, then peers; monitoring only via the kubelet
    api = find(manifests, "NetworkPolicy", "urumi-to-apiserver")
    components = api["spec"]["podSelector"]["matchExpressions"][1]["values"]
    assert components == ["provisioner", "watcher"]


@pytest.mark.parametrize(
    ("nameserver", "cidr", "port"),
    [("10.0.0.10", "10.0.0.10/32", 53), ("10.0.0.10:5353", "10.0.0.10/32", 5353),
     ("[fd00::10]:54", "fd00::10/128", 54)],
)  # fmt: skip
def test_the_gateway_checks_own_domains_with_the_resolver_named_and_may_reach_it(
    nameserver: str, cidr: str, port: int
) -> None:
    manifests = render_chart(sets=[f"gateway.dnsNameserver={nameserver}"])
    env = env_of(deployment(manifests, "gateway")["spec"]["template"]["spec"]["containers"][0])
    assert env["URUMI_DNS_NAMESERVER"] == nameserver
    (rule,) = find(manifests, "NetworkPolicy", "urumi-gateway-to-resolver")["spec"]["egress"]
    assert rule["to"] == [{"ipBlock": {"cidr": cidr}}]
    assert rule["ports"] == [{"protocol": p, "port": port} for p in ("UDP", "TCP")]


def test_without_a_resolver_named_the_gateway_uses_the_cluster_s() -> None:
    manifests = render_chart()
    env = env_of(deployment(manifests, "gateway")["spec"]["template"]["spec"]["containers"][0])
    assert env["URUMI_DNS_NAMESERVER"] == ""
    assert not [m for m in manifests if m["metadata"]["name"] == "urumi-gateway-to-resolver"]
    schema = json.loads((CHART / "values.schema.json").read_text())
    pattern = schema["properties"]["gateway"]["properties"]["dnsNameserver"]["pattern"]
    assert pattern == NAMESERVER_PATTERN  # the chart refuses what the gateway would
    refused = subprocess.run(
        [helm_path(), "template", "x", str(CHART), "--set", "gateway.dnsNameserver=dns.local"],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert refused.returncode != 0 and "/gateway/dnsNameserver" in refused.stderr


def test_dns_reaches_a_resolver_that_is_not_a_pod() -> None:
    """NodeLocal DNSCache answers on a link-local address, which no pod selector
    matches: the operator names it."""
    cache = "169.254.20.10/32"
    manifests = render_chart(sets=(f"networkPolicy.dns.ipBlocks={{{cache}}}",))
    (rule,) = find(manifests, "NetworkPolicy", "urumi-dns")["spec"]["egress"]
    assert rule["to"] == [{"namespaceSelector": {}}, {"ipBlock": {"cidr": cache}}]
    assert {p["port"] for p in rule["ports"]} == {53}


# -- the image ---------------------------------------------------------------------


def test_dockerfile_runs_urumi_as_non_root_with_the_pinned_helm() -> None:
    text = (REPO_ROOT / "deploy" / "Dockerfile").read_text()
    stages = re.findall(r"^FROM (\S+)(?: AS (\w+))?$", text, re.MULTILINE)
    assert [s[1] for s in stages] == ["render", "build", ""]
    assert re.search(r"^ARG PYTHON_IMAGE=python:3\.11-slim$", text, re.MULTILINE)
    final = text[text.rindex("\nFROM ") :]
    assert re.search(r"^USER 10001:10001$", final, re.MULTILINE)
    assert re.search(r'^ENTRYPOINT \["urumi"\]$', final, re.MULTILINE)
    assert "HOME=/tmp" in final
    assert "URUMI_RENDER_BINARY=/usr/local/bin/urumi-render" in final
    # The renderer's Helm is the one the tests' helm is built from.
    build_sh = (REPO_ROOT / "deploy" / "devcluster" / "build.sh").read_text()
    pinned = re.search(r"^HELM_VERSION=(\S+)", build_sh, re.MULTILINE)
    assert pinned is not None
    go_mod = (REPO_ROOT / "deploy" / "render" / "go.mod").read_text()
    assert f"helm.sh/helm/v3 {pinned.group(1)}\n" in go_mod


def test_the_plans_whose_stores_wake_on_a_visit_reach_the_gateway() -> None:
    def plans(sets: list[str]) -> str:
        gateway = deployment(render_chart(sets=sets), "gateway")
        value: str = env_of(gateway["spec"]["template"]["spec"]["containers"][0])[
            "URUMI_WAKE_ON_VISIT_PLANS"
        ]
        return value

    assert plans([]) == "medium,large"
    assert plans(["gateway.wakeOnVisitPlans=large"]) == "large"
    assert plans(["gateway.wakeOnVisitPlans="]) == ""
    bad = [helm_path(), "template", "x", str(CHART), "--set", "gateway.wakeOnVisitPlans=huge"]
    proc = subprocess.run(bad, capture_output=True, text=True, check=False)
    assert proc.returncode != 0 and "wakeOnVisitPlans" in proc.stderr, proc.stderr


def test_notifier_runs_the_workers_asked_for() -> None:
    """`notifier.workers` processes share the pod's port (URUMI_NOTIFIER_WORKERS)."""

    def workers(manifests: list[Manifest]) -> object:
        pod = deployment(manifests, "notifier")["spec"]["template"]["spec"]
        return env_of(pod["containers"][0])["URUMI_NOTIFIER_WORKERS"]

    assert workers(render_chart()) == "1"
    assert workers(render_chart(sets=["notifier.workers=2"])) == "2"
