"""`helm template` of charts/medusa per plan: what the cluster will get."""

import re
import subprocess
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from services.contracts import labels
from services.contracts.labels import Component
from services.contracts.store import Engine, Plan, StoreSpec
from services.provisioner.engines import DEFAULT_CHARTS, MEDUSA, SECRET_NAME
from services.provisioner.errors import PermanentError
from services.provisioner.medusa_values import MEDUSA_PLANS, medusa_values
from services.provisioner.ordering import Manifest
from services.provisioner.render import Renderer
from services.provisioner.values import StoreIngress
from tests.fixtures.charts import one, pod_spec, render_store, workloads

CHART = DEFAULT_CHARTS / "medusa"
REPO_ROOT = Path(__file__).resolve().parents[2]
AT = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
INGRESS = StoreIngress(base_domain="shops.example.com", ingress_namespace="ingress-nginx")
HTTP01 = StoreIngress(
    base_domain="shops.example.com",
    tls_mode="http01",
    tls_issuer="letsencrypt",
    ingress_class="traefik",
    ingress_namespace="kube-system",
)
WILDCARD = StoreIngress(base_domain="shops.example.com", tls_mode="wildcard")
STORE = "acme-shop"
APP = ["web", "worker", "setup"]


async def rendered(
    renderer: Renderer,
    plan: Plan = Plan.SMALL,
    ingress: StoreIngress = INGRESS,
    storage_plan: Plan | None = None,
) -> list[Manifest]:
    spec = StoreSpec(
        id=STORE, tenant="acme", engine=Engine.MEDUSA, plan=plan, storage_plan=storage_plan
    )
    values = medusa_values(spec, 2, AT, ingress)
    return await render_store(renderer, CHART, STORE, values)


def containers(m: Manifest) -> list[dict[str, Any]]:
    spec = pod_spec(m)
    return list(spec.get("initContainers", [])) + list(spec["containers"])


def env_of(container: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {e["name"]: e for e in container.get("env", [])}


def by_component(manifests: list[Manifest]) -> dict[str, Manifest]:
    return {m["metadata"]["labels"][labels.COMPONENT]: m for m in workloads(manifests)}


def test_helm_lint_is_clean(helm: str) -> None:
    result = subprocess.run(
        [helm, "lint", "--strict", str(CHART)], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_chart_defaults_render(helm: str) -> None:
    """The chart's defaults alone render (operators can `helm template` it)."""
    result = subprocess.run(
        [helm, "template", "demo", str(CHART)], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr


async def test_objects_and_order(renderer: Renderer) -> None:
    kinds = [(m["kind"], m["metadata"]["name"]) for m in await rendered(renderer)]
    assert kinds[0] == ("Namespace", f"store-{STORE}")
    assert kinds[-1] == ("Ingress", "medusa")
    names = set(kinds)
    for expected in (
        ("ResourceQuota", "store-quota"),
        ("LimitRange", "store-limits"),
        ("StatefulSet", "postgres"),
        ("Service", "postgres"),
        ("Deployment", "redis"),
        ("Service", "redis"),
        ("Deployment", "medusa-server"),
        ("Deployment", "medusa-worker"),
        ("Service", "medusa-server"),
        ("PersistentVolumeClaim", "medusa-uploads"),
    ):
        assert expected in names
    assert [k for k, _ in kinds].count("Job") == 1
    assert "Secret" not in {k for k, _ in kinds}  # created by the provisioner, once


async def test_components_for_the_watcher(renderer: Renderer) -> None:
    """The watcher derives readiness per component: label each tier right."""
    manifests = await rendered(renderer)
    got = {
        (m["kind"], m["metadata"]["name"]): m["metadata"]["labels"][labels.COMPONENT]
        for m in workloads(manifests)
    }
    job = one(manifests, "Job")["metadata"]["name"]
    assert got == {
        ("StatefulSet", "postgres"): Component.DATABASE,
        ("Deployment", "redis"): Component.CACHE,
        ("Deployment", "medusa-server"): Component.WEB,
        ("Deployment", "medusa-worker"): Component.WORKER,
        ("Job", job): Component.SETUP,
    }
    for m in manifests:
        got_labels = m["metadata"]["labels"]
        assert got_labels[labels.MANAGED_BY] == labels.MANAGED_BY_VALUE
        assert got_labels[labels.STORE] == STORE
        assert got_labels[labels.TENANT] == "acme"
        assert got_labels[labels.ENGINE] == "medusa"
        assert got_labels[labels.COMPONENT]
    for m in workloads(manifests):
        pod_labels = m["spec"]["template"]["metadata"]["labels"]
        assert pod_labels[labels.COMPONENT] == m["metadata"]["labels"][labels.COMPONENT]
        assert pod_labels[labels.STORE] == STORE
        if m["kind"] != "Job":
            assert m["spec"]["selector"]["matchLabels"] == {
                "app.kubernetes.io/instance": STORE,
                labels.COMPONENT: pod_labels[labels.COMPONENT],
            }


async def test_namespace_like_woocommerce(renderer: Renderer) -> None:
    ns = one(await rendered(renderer), "Namespace")
    assert ns["metadata"]["annotations"] == {
        labels.GENERATION: "2",
        labels.APPLIED_AT: "2026-01-02T03:04:05Z",
        labels.HOST: f"{STORE}.shops.example.com",
    }
    got = ns["metadata"]["labels"]
    for mode in ("enforce", "audit", "warn"):
        assert got[f"pod-security.kubernetes.io/{mode}"] == "restricted"


@pytest.mark.parametrize("plan", list(Plan))
async def test_quota_and_limits_follow_the_plan(renderer: Renderer, plan: Plan) -> None:
    manifests = await rendered(renderer, plan)
    preset = MEDUSA_PLANS[plan]
    hard = one(manifests, "ResourceQuota")["spec"]["hard"]
    assert hard["requests.cpu"] == preset.quota_cpu_requests
    assert hard["requests.memory"] == preset.quota_memory_requests
    assert hard["limits.cpu"] == preset.quota_cpu_limits
    assert hard["limits.memory"] == preset.quota_memory_limits
    assert hard["requests.storage"] == preset.quota_storage
    assert hard["pods"] == "8"
    assert hard["services.loadbalancers"] == "0"
    assert hard["services.nodeports"] == "0"
    container_limits, pvc_limits = one(manifests, "LimitRange")["spec"]["limits"]
    assert container_limits["max"] == {"cpu": preset.max_cpu, "memory": preset.max_memory}
    assert pvc_limits["max"] == {"storage": preset.database_storage}
    tiers = {
        "database": preset.database,
        "cache": preset.cache,
        "web": preset.server,
        "worker": preset.worker,
        "setup": preset.setup,
    }
    for component, m in by_component(manifests).items():
        main = pod_spec(m)["containers"]
        assert len(main) == 1
        assert main[0]["resources"] == tiers[component].resources()
    db = one(manifests, "StatefulSet", "postgres")
    claim = db["spec"]["volumeClaimTemplates"][0]
    assert claim["spec"]["resources"]["requests"]["storage"] == preset.database_storage
    uploads = one(manifests, "PersistentVolumeClaim", "medusa-uploads")
    assert uploads["spec"]["resources"]["requests"]["storage"] == preset.uploads_storage


async def test_images_official_or_the_medusa_value(renderer: Renderer) -> None:
    manifests = await rendered(renderer)
    parts = by_component(manifests)
    image = {c: pod_spec(m)["containers"][0]["image"] for c, m in parts.items()}
    assert image["database"] == "postgres:17.12"
    assert image["cache"] == "redis:8.0.2"
    medusa = {image["web"], image["worker"], image["setup"]}
    assert medusa == {"urumi-medusa:2.21.2"}
    for m in workloads(manifests):
        for c in containers(m):
            _, _, tag = c["image"].partition(":")
            assert tag and tag != "latest" and any(ch.isdigit() for ch in tag), c["image"]


def test_medusa_image_is_an_operator_value(helm: str) -> None:
    """No official Medusa image exists: operators point the chart at theirs."""
    result = subprocess.run(
        [
            helm,
            "template",
            "demo",
            str(CHART),
            "--set",
            "images.medusa.repository=registry.example.com/shop/medusa",
            "--set",
            "images.medusa.tag=2.21.2-1",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    assert result.stdout.count("image: registry.example.com/shop/medusa:2.21.2-1") == 5
    latest = subprocess.run(
        [helm, "template", "demo", str(CHART), "--set", "images.medusa.tag=latest"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert latest.returncode != 0


async def test_server_and_worker_modes(renderer: Renderer) -> None:
    manifests = await rendered(renderer)
    server = one(manifests, "Deployment", "medusa-server")
    worker = one(manifests, "Deployment", "medusa-worker")
    for deployment, mode, admin_off in ((server, "server", "false"), (worker, "worker", "true")):
        (c,) = pod_spec(deployment)["containers"]
        env = env_of(c)
        assert env["MEDUSA_WORKER_MODE"]["value"] == mode
        assert env["DISABLE_MEDUSA_ADMIN"]["value"] == admin_off
        assert env["NODE_ENV"]["value"] == "production"
        assert c["command"] == ["npx", "--no", "medusa", "start"]
        for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
            assert c[probe]["httpGet"]["path"] == "/health"
        assert deployment["spec"]["strategy"] == {"type": "Recreate"}
        (init,) = pod_spec(deployment)["initContainers"]
        assert init["name"] == "wait-for-setup"
        assert 'FROM "user"' in init["args"][0]
    # Both talk to the same Postgres and Redis.
    for c in (pod_spec(server)["containers"][0], pod_spec(worker)["containers"][0]):
        env = env_of(c)
        assert env["DATABASE_URL"]["value"] == (
            "postgres://medusa:$(POSTGRES_PASSWORD)@postgres:5432/medusa?sslmode=disable"
        )
        assert env["REDIS_URL"]["value"] == "redis://:$(REDIS_PASSWORD)@redis:6379"
        assert env["STORE_CORS"]["value"] == f"http://{STORE}.shops.example.com"
    mounts = {v["mountPath"] for v in pod_spec(server)["containers"][0]["volumeMounts"]}
    assert mounts == {"/app/static", "/tmp"}


async def test_hardened_pods_with_resources(renderer: Renderer) -> None:
    uids = {"database": 999, "cache": 999, "web": 1000, "worker": 1000, "setup": 1000}
    for component, m in by_component(await rendered(renderer)).items():
        spec = pod_spec(m)
        assert spec["securityContext"]["runAsNonRoot"] is True
        assert spec["securityContext"]["runAsUser"] == uids[component]
        assert spec["securityContext"]["fsGroup"] == uids[component]
        assert spec["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
        assert spec["automountServiceAccountToken"] is False
        assert spec["enableServiceLinks"] is False
        assert "hostNetwork" not in spec
        for c in containers(m):
            sc = c["securityContext"]
            assert sc["allowPrivilegeEscalation"] is False
            assert sc["capabilities"] == {"drop": ["ALL"]}
            assert sc["runAsNonRoot"] is True
            assert sc["readOnlyRootFilesystem"] is True
            assert sc["seccompProfile"] == {"type": "RuntimeDefault"}
            assert set(c["resources"]) == {"requests", "limits"}
            assert set(c["resources"]["limits"]) == {"cpu", "memory"}


async def test_probes_on_long_running_tiers(renderer: Renderer) -> None:
    parts = by_component(await rendered(renderer))
    for component in ("database", "cache", "web", "worker"):
        (c,) = pod_spec(parts[component])["containers"]
        assert c["readinessProbe"], component
        assert c["livenessProbe"], component
    (pg,) = pod_spec(parts["database"])["containers"]
    assert pg["readinessProbe"]["exec"]["command"][:3] == ["pg_isready", "-h", "127.0.0.1"]
    (redis,) = pod_spec(parts["cache"])["containers"]
    assert "redis-cli ping" in redis["readinessProbe"]["exec"]["command"][-1]


async def test_secrets_by_reference_only(renderer: Renderer) -> None:
    manifests = await rendered(renderer)
    refs: set[tuple[str, str]] = set()
    for m in workloads(manifests):
        for c in containers(m):
            for env in c.get("env", []):
                name = env["name"].lower()
                if (
                    any(w in name for w in ("password", "secret", "auth"))
                    and "CORS" not in env["name"]
                ):
                    assert "valueFrom" in env, env
                if "valueFrom" in env:
                    ref = env["valueFrom"]["secretKeyRef"]
                    refs.add((ref["name"], ref["key"]))
    assert {name for name, _ in refs} == {SECRET_NAME}
    # Every key the chart reads is one the provisioner generates.
    assert {key for _, key in refs} == set(MEDUSA.secret)


async def test_network_policies(renderer: Renderer) -> None:
    policies = {
        m["metadata"]["name"]: m["spec"]
        for m in await rendered(renderer)
        if m["kind"] == "NetworkPolicy"
    }
    assert set(policies) == {
        "default-deny",
        "web-from-ingress-controller",
        "database-from-app",
        "cache-from-app",
        "app-egress",
        "app-internet-egress",
    }
    assert policies["default-deny"] == {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}

    web_in = policies["web-from-ingress-controller"]
    assert web_in["podSelector"]["matchLabels"][labels.COMPONENT] == "web"
    (rule,) = web_in["ingress"]
    assert rule["from"] == [
        {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "ingress-nginx"}}}
    ]
    assert rule["ports"] == [{"protocol": "TCP", "port": 9000}]

    # Backups dump the database too.
    for name, component, port, clients in (
        ("database-from-app", "database", 5432, [*APP, "backup"]),
        ("cache-from-app", "cache", 6379, APP),
    ):
        spec = policies[name]
        assert spec["policyTypes"] == ["Ingress"]
        assert spec["podSelector"]["matchLabels"][labels.COMPONENT] == component
        (rule,) = spec["ingress"]
        assert rule["from"][0]["podSelector"]["matchExpressions"][0]["values"] == clients
        assert rule["ports"] == [{"protocol": "TCP", "port": port}]

    egress = policies["app-egress"]
    assert egress["policyTypes"] == ["Egress"]
    assert egress["podSelector"]["matchExpressions"][0]["values"] == [*APP, "backup"]
    to_db, to_cache, dns = egress["egress"]
    assert to_db["to"][0]["podSelector"]["matchLabels"][labels.COMPONENT] == "database"
    assert to_db["ports"] == [{"protocol": "TCP", "port": 5432}]
    assert to_cache["to"][0]["podSelector"]["matchLabels"][labels.COMPONENT] == "cache"
    assert to_cache["ports"] == [{"protocol": "TCP", "port": 6379}]
    assert {p["port"] for p in dns["ports"]} == {53}
    assert dns["to"][0]["namespaceSelector"]["matchLabels"] == {
        "kubernetes.io/metadata.name": "kube-system"
    }

    internet = policies["app-internet-egress"]
    # The setup Job needs nothing outside the namespace; Postgres and Redis
    # get no egress at all.
    assert internet["podSelector"]["matchExpressions"][0]["values"] == ["web", "worker"]
    (rule,) = internet["egress"]
    block = rule["to"][0]["ipBlock"]
    assert block["cidr"] == "0.0.0.0/0"
    assert {"10.0.0.0/8", "169.254.0.0/16", "192.168.0.0/16"} <= set(block["except"])
    assert {p["port"] for p in rule["ports"]} == {80, 443}
    for p in policies.values():
        if "Egress" in p["policyTypes"] and p["podSelector"]:
            selected = p["podSelector"]["matchExpressions"][0]["values"]
            assert "database" not in selected and "cache" not in selected


async def test_ingress_host_class_and_optional_tls(renderer: Renderer) -> None:
    plain = one(await rendered(renderer), "Ingress")
    assert plain["spec"]["ingressClassName"] == "nginx"
    (rule,) = plain["spec"]["rules"]
    assert rule["host"] == f"{STORE}.shops.example.com"
    (path,) = rule["http"]["paths"]
    assert path["path"] == "/"
    assert path["backend"]["service"] == {"name": "medusa-server", "port": {"name": "http"}}
    assert "tls" not in plain["spec"]
    manifests = await rendered(renderer, ingress=HTTP01)
    tls = one(manifests, "Ingress")
    assert tls["metadata"]["annotations"]["cert-manager.io/cluster-issuer"] == "letsencrypt"
    assert tls["spec"]["tls"] == [
        {"hosts": [f"{STORE}.shops.example.com"], "secretName": f"{STORE}-tls"}
    ]
    assert tls["spec"]["ingressClassName"] == "traefik"
    server = one(manifests, "Deployment", "medusa-server")
    cors = env_of(pod_spec(server)["containers"][0])["ADMIN_CORS"]["value"]
    assert cors == f"https://{STORE}.shops.example.com"

    # Wildcard: https on the ingress controller's default certificate, nothing to issue.
    manifests = await rendered(renderer, ingress=WILDCARD)
    tls = one(manifests, "Ingress")
    assert "cert-manager.io/cluster-issuer" not in tls["metadata"].get("annotations", {})
    assert tls["spec"]["tls"] == [{"hosts": [f"{STORE}.shops.example.com"]}]
    server = one(manifests, "Deployment", "medusa-server")
    cors = env_of(pod_spec(server)["containers"][0])["ADMIN_CORS"]["value"]
    assert cors == f"https://{STORE}.shops.example.com"


async def test_http01_solver_is_let_in_from_the_ingress_controller_only(renderer: Renderer) -> None:
    name = "acme-solver-from-ingress-controller"
    solver = one(await rendered(renderer, ingress=HTTP01), "NetworkPolicy", name)["spec"]
    assert solver["podSelector"] == {"matchLabels": {"acme.cert-manager.io/http01-solver": "true"}}
    (rule,) = solver["ingress"]
    assert rule["from"] == [
        {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "kube-system"}}}
    ]
    assert rule["ports"] == [{"protocol": "TCP", "port": 8089}]
    # Its Service (ClusterIP) and pod fit the store's quota beside the chart's own.
    manifests = await rendered(renderer, ingress=HTTP01)
    hard = one(manifests, "ResourceQuota")["spec"]["hard"]
    services = [m for m in manifests if m["kind"] == "Service"]
    assert len(services) + 1 <= int(hard["services"])
    assert hard["services.nodeports"] == "0"
    for ingress in (INGRESS, WILDCARD):
        assert name not in [
            m["metadata"]["name"] for m in await rendered(renderer, ingress=ingress)
        ]


@pytest.mark.parametrize(
    ("ingress", "url"),
    [
        (INGRESS, f"http://{STORE}.shops.example.com/static"),
        (
            HTTP01,
            f"https://{STORE}.shops.example.com/static",
        ),
        (
            StoreIngress(base_domain="127.0.0.1.nip.io", store_port=8443),
            f"http://{STORE}.127.0.0.1.nip.io:8443/static",
        ),
    ],
)
async def test_uploaded_files_are_served_from_the_stores_own_address(
    renderer: Renderer, ingress: StoreIngress, url: str
) -> None:
    """Not the local file provider's default, http://localhost:9000/static,
    which no shopper or admin can reach."""
    manifests = await rendered(renderer, ingress=ingress)
    for name in ("medusa-server", "medusa-worker"):
        (c,) = pod_spec(one(manifests, "Deployment", name))["containers"]
        assert env_of(c)["MEDUSA_FILE_URL"]["value"] == url, name
    # The image's config hands it to the local file provider (the server
    # serves its uploads volume at /static).
    config = (REPO_ROOT / "deploy" / "medusa" / "app" / "medusa-config.ts").read_text()
    provider = re.search(
        r'resolve: "@medusajs/medusa/file-local",\s*id: "local",\s*'
        r"options: \{ backend_url: (\w+) \}",
        config,
    )
    assert provider is not None
    assert f"const {provider[1]} = process.env.MEDUSA_FILE_URL\n" in config


async def test_setup_job_is_idempotent_and_named_by_content(renderer: Renderer) -> None:
    small = one(await rendered(renderer), "Job")
    again = one(await rendered(renderer), "Job")
    assert small["metadata"]["name"] == again["metadata"]["name"]
    moved = StoreIngress(base_domain="shops.example.org")
    elsewhere = one(await rendered(renderer, ingress=moved), "Job")
    assert elsewhere["metadata"]["name"].startswith("setup-")
    assert elsewhere["metadata"]["name"] != small["metadata"]["name"]
    (c,) = pod_spec(small)["containers"]
    script = c["args"][0]
    migrate = script.index("npx --no medusa db:migrate")
    seed = script.index('npx --no medusa exec "$SEED_SCRIPT"')
    admin = script.index('npx --no medusa exec "$ADMIN_SCRIPT"')
    assert migrate < seed < admin
    # Each step checks first, so a re-run converges (the admin script too).
    assert "FROM region" in script[migrate:seed]
    assert script.startswith("set -eu")
    env = env_of(c)
    assert env["ADMIN_SCRIPT"]["value"] == "./src/scripts/admin.js"
    # Not a restore: an existing admin keeps the password its owner gave it.
    assert env["RESTORED"]["value"] == "false"
    # The password reaches the script by the environment, never its arguments.
    assert "ADMIN_PASSWORD" not in script
    assert env["MEDUSA_WORKER_MODE"]["value"] == "worker"
    assert env["ADMIN_EMAIL"]["valueFrom"]["secretKeyRef"]["key"] == "medusa-admin-email"
    assert env["ADMIN_PASSWORD"]["valueFrom"]["secretKeyRef"]["key"] == "medusa-admin-password"
    assert small["spec"]["backoffLimit"] == 6
    assert pod_spec(small)["restartPolicy"] == "OnFailure"


async def test_invalid_value_is_rejected_with_a_useful_message(renderer: Renderer) -> None:
    bad = StoreIngress(base_domain="shops.example.com", ingress_class="Not_A_Class")
    with pytest.raises(PermanentError) as info:
        await rendered(renderer, ingress=bad)
    message = str(info.value)
    assert "ingress" in message
    assert "pattern" in message.lower()


async def test_a_plan_change_leaves_what_kubernetes_cannot_update(renderer: Renderer) -> None:
    before = await rendered(renderer, Plan.SMALL)
    after = await rendered(renderer, Plan.LARGE, storage_plan=Plan.SMALL)
    for kind, name in [("StatefulSet", "postgres"), ("PersistentVolumeClaim", None)]:
        old, new = one(before, kind, name), one(after, kind, name)
        if kind == "StatefulSet":
            assert old["spec"]["volumeClaimTemplates"] == new["spec"]["volumeClaimTemplates"]
        else:
            assert old["spec"] == new["spec"]
    assert one(before, "Job")["metadata"]["name"] == one(after, "Job")["metadata"]["name"]
    for m in workloads(after):
        if m["kind"] != "Job":
            assert (
                m["spec"]["selector"]
                == one(before, m["kind"], m["metadata"]["name"])["spec"]["selector"]
            )
