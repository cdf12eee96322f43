"""`helm template` of charts/woocommerce per plan: what the cluster will get."""

import subprocess
from datetime import UTC, datetime
from pathlib import Path

import pytest

from services.contracts import labels
from services.contracts.labels import Component
from services.contracts.store import Plan, StoreSpec
from services.provisioner.engines import DEFAULT_CHARTS, SECRET_NAME
from services.provisioner.errors import PermanentError
from services.provisioner.ordering import Manifest
from services.provisioner.render import Renderer, operator_values
from services.provisioner.values import PLANS, StoreIngress, woocommerce_values
from tests.fixtures.charts import one, pod_spec, render_store, workloads

CHART = DEFAULT_CHARTS / "woocommerce"
AT = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
INGRESS = StoreIngress(base_domain="shops.example.com", ingress_namespace="ingress-nginx")
OFFICIAL = {"wordpress", "mariadb"}


async def rendered(
    renderer: Renderer,
    plan: Plan = Plan.SMALL,
    ingress: StoreIngress = INGRESS,
    store: str = "acme-shop",
    storage_plan: Plan | None = None,
) -> list[Manifest]:
    spec = StoreSpec(id=store, tenant="acme", plan=plan, storage_plan=storage_plan)
    values = woocommerce_values(spec, 2, AT, ingress)
    return await render_store(renderer, CHART, store, values)


def test_helm_lint_is_clean(helm: str) -> None:
    result = subprocess.run(
        [helm, "lint", "--strict", str(CHART)], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr


async def test_objects_and_order(renderer: Renderer) -> None:
    kinds = [(m["kind"], m["metadata"]["name"]) for m in await rendered(renderer)]
    assert kinds[0] == ("Namespace", "store-acme-shop")
    assert kinds[-1] == ("Ingress", "wordpress")
    assert {k for k, _ in kinds} == {
        "Namespace",
        "ResourceQuota",
        "LimitRange",
        "NetworkPolicy",
        "PersistentVolumeClaim",
        "Service",
        "StatefulSet",
        "Deployment",
        "Job",
        "Ingress",
    }
    assert "Secret" not in {k for k, _ in kinds}  # created by the provisioner, once


async def test_every_object_is_labelled(renderer: Renderer) -> None:
    expected_component = {
        "StatefulSet": Component.DATABASE,
        "Deployment": Component.WEB,
        "Job": Component.SETUP,
    }
    for m in await rendered(renderer):
        got = m["metadata"]["labels"]
        assert got[labels.MANAGED_BY] == labels.MANAGED_BY_VALUE
        assert got[labels.STORE] == "acme-shop"
        assert got[labels.TENANT] == "acme"
        assert got[labels.ENGINE] == "woocommerce"
        assert got[labels.COMPONENT]
        if m["kind"] in expected_component:
            assert got[labels.COMPONENT] == expected_component[m["kind"]]
            pod_labels = m["spec"]["template"]["metadata"]["labels"]
            assert pod_labels[labels.COMPONENT] == expected_component[m["kind"]]
            assert pod_labels[labels.STORE] == "acme-shop"


async def test_namespace_annotations_and_pod_security(renderer: Renderer) -> None:
    ns = one(await rendered(renderer), "Namespace")
    assert ns["metadata"]["annotations"] == {
        labels.GENERATION: "2",
        labels.APPLIED_AT: "2026-01-02T03:04:05Z",
        labels.HOST: "acme-shop.shops.example.com",
    }
    got = ns["metadata"]["labels"]
    for mode in ("enforce", "audit", "warn"):
        assert got[f"pod-security.kubernetes.io/{mode}"] == "restricted"


@pytest.mark.parametrize("plan", list(Plan))
async def test_quota_and_limits_follow_the_plan(renderer: Renderer, plan: Plan) -> None:
    manifests = await rendered(renderer, plan)
    preset = PLANS[plan]
    hard = one(manifests, "ResourceQuota")["spec"]["hard"]
    assert hard["requests.cpu"] == preset.quota_cpu_requests
    assert hard["requests.memory"] == preset.quota_memory_requests
    assert hard["limits.cpu"] == preset.quota_cpu_limits
    assert hard["limits.memory"] == preset.quota_memory_limits
    assert hard["requests.storage"] == preset.quota_storage
    assert hard["services.loadbalancers"] == "0"
    assert hard["services.nodeports"] == "0"
    container_limits = one(manifests, "LimitRange")["spec"]["limits"][0]
    assert container_limits["type"] == "Container"
    assert container_limits["max"] == {"cpu": preset.max_cpu, "memory": preset.max_memory}
    tiers = {"StatefulSet": preset.database, "Deployment": preset.web, "Job": preset.setup}
    for m in workloads(manifests):
        (container,) = pod_spec(m)["containers"]
        assert container["resources"] == tiers[m["kind"]].resources()
    db = one(manifests, "StatefulSet")
    claim = db["spec"]["volumeClaimTemplates"][0]
    assert claim["spec"]["resources"]["requests"]["storage"] == preset.database_storage
    web_pvc = one(manifests, "PersistentVolumeClaim", "wordpress")
    assert web_pvc["spec"]["resources"]["requests"]["storage"] == preset.web_storage


async def test_a_plan_change_leaves_what_kubernetes_cannot_update(renderer: Renderer) -> None:
    """A StatefulSet's volume claim templates (and every selector) are immutable:
    a store moving from small to large must render them exactly as before."""
    before = await rendered(renderer, Plan.SMALL)
    after = await rendered(renderer, Plan.LARGE, storage_plan=Plan.SMALL)
    claims = [one(m, "StatefulSet")["spec"]["volumeClaimTemplates"] for m in (before, after)]
    assert claims[0] == claims[1]
    for kind in ("StatefulSet", "Deployment"):
        assert one(before, kind)["spec"]["selector"] == one(after, kind)["spec"]["selector"]
    assert one(after, "Deployment")["metadata"]["labels"]["urumi.dev/plan"] == "large"
    # Setup runs the same whatever the plan: the same Job, not a new run of wp-cli.
    assert one(before, "Job")["metadata"]["name"] == one(after, "Job")["metadata"]["name"]


async def test_official_pinned_images(renderer: Renderer) -> None:
    images = {
        c["image"] for m in workloads(await rendered(renderer)) for c in pod_spec(m)["containers"]
    }
    assert len(images) == 3
    for image in images:
        repo, _, tag = image.partition(":")
        assert repo in OFFICIAL
        assert tag
        assert tag != "latest"
        assert any(ch.isdigit() for ch in tag)
    assert any(i.startswith("wordpress:cli-") for i in images)


async def test_hardened_pods_with_resources(renderer: Renderer) -> None:
    for m in workloads(await rendered(renderer)):
        spec = pod_spec(m)
        assert spec["securityContext"]["runAsNonRoot"] is True
        assert spec["securityContext"]["runAsUser"] in (33, 999)
        assert spec["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
        assert spec["automountServiceAccountToken"] is False
        for c in spec["containers"]:
            sc = c["securityContext"]
            assert sc["allowPrivilegeEscalation"] is False
            assert sc["capabilities"] == {"drop": ["ALL"]}
            assert sc["runAsNonRoot"] is True
            assert sc["readOnlyRootFilesystem"] is True
            assert set(c["resources"]) == {"requests", "limits"}
            assert set(c["resources"]["limits"]) == {"cpu", "memory"}


async def test_probes_on_long_running_tiers(renderer: Renderer) -> None:
    manifests = await rendered(renderer)
    for kind in ("StatefulSet", "Deployment"):
        (c,) = pod_spec(one(manifests, kind))["containers"]
        assert c["readinessProbe"]
        assert c["livenessProbe"]
    (web,) = pod_spec(one(manifests, "Deployment"))["containers"]
    assert web["readinessProbe"]["httpGet"]["path"] == "/wp-login.php"


async def test_secrets_by_reference_only(renderer: Renderer) -> None:
    manifests = await rendered(renderer)
    refs = set()
    for m in workloads(manifests):
        for c in pod_spec(m)["containers"]:
            for env in c.get("env", []):
                assert "password" not in env["name"].lower() or "valueFrom" in env
                if "valueFrom" in env:
                    refs.add(env["valueFrom"]["secretKeyRef"]["name"])
    assert refs == {SECRET_NAME}


async def test_network_policies(renderer: Renderer) -> None:
    policies = {
        m["metadata"]["name"]: m["spec"]
        for m in await rendered(renderer)
        if m["kind"] == "NetworkPolicy"
    }
    deny = policies["default-deny"]
    assert deny == {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}

    web_in = policies["web-from-ingress-controller"]
    assert web_in["podSelector"]["matchLabels"][labels.COMPONENT] == "web"
    (rule,) = web_in["ingress"]
    assert rule["from"] == [
        {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "ingress-nginx"}}}
    ]
    assert rule["ports"] == [{"protocol": "TCP", "port": 80}]

    db_in = policies["database-from-web"]
    assert db_in["podSelector"]["matchLabels"][labels.COMPONENT] == "database"
    (rule,) = db_in["ingress"]
    allowed = rule["from"][0]["podSelector"]["matchExpressions"][0]["values"]
    assert allowed == ["web", "setup", "backup"]
    assert rule["ports"] == [{"protocol": "TCP", "port": 3306}]

    egress = policies["web-egress"]
    assert egress["policyTypes"] == ["Egress"]
    to_db, dns, internet, _own_host = egress["egress"]
    assert to_db["to"][0]["podSelector"]["matchLabels"][labels.COMPONENT] == "database"
    assert to_db["ports"] == [{"protocol": "TCP", "port": 3306}]
    assert {p["port"] for p in dns["ports"]} == {53}
    assert dns["to"][0]["namespaceSelector"]["matchLabels"] == {
        "kubernetes.io/metadata.name": "kube-system"
    }
    block = internet["to"][0]["ipBlock"]
    assert block["cidr"] == "0.0.0.0/0"
    assert {"10.0.0.0/8", "169.254.0.0/16", "192.168.0.0/16"} <= set(block["except"])
    assert {p["port"] for p in internet["ports"]} == {80, 443}
    # The web tier, the setup Job and backups get egress; the database stays offline.
    for p in policies.values():
        if "Egress" in p["policyTypes"] and p["podSelector"]:
            assert "database" not in p["podSelector"]["matchExpressions"][0]["values"]


HTTP01 = StoreIngress(
    base_domain="shops.example.com",
    tls_mode="http01",
    tls_issuer="letsencrypt",
    ingress_class="traefik",
    ingress_namespace="kube-system",
)
WILDCARD = StoreIngress(base_domain="shops.example.com", tls_mode="wildcard")


def site_url(manifests: list[Manifest]) -> str:
    env = pod_spec(one(manifests, "Job"))["containers"][0]["env"]
    return str(next(e["value"] for e in env if e["name"] == "STORE_URL"))


async def test_ingress_host_class_and_optional_tls(renderer: Renderer) -> None:
    plain = await rendered(renderer)
    ingress = one(plain, "Ingress")
    assert ingress["spec"]["ingressClassName"] == "nginx"
    assert ingress["spec"]["rules"][0]["host"] == "acme-shop.shops.example.com"
    assert "tls" not in ingress["spec"]
    assert site_url(plain) == "http://acme-shop.shops.example.com"

    # HTTP-01: cert-manager's ingress-shim issues Certificate acme-shop-tls.
    http01 = await rendered(renderer, ingress=HTTP01)
    tls = one(http01, "Ingress")
    assert tls["metadata"]["annotations"]["cert-manager.io/cluster-issuer"] == "letsencrypt"
    assert tls["spec"]["tls"] == [
        {"hosts": ["acme-shop.shops.example.com"], "secretName": "acme-shop-tls"}
    ]
    assert tls["spec"]["ingressClassName"] == "traefik"
    assert site_url(http01) == "https://acme-shop.shops.example.com"

    # Wildcard: https on the ingress controller's default certificate, nothing to issue.
    wildcard = await rendered(renderer, ingress=WILDCARD)
    tls = one(wildcard, "Ingress")
    assert "cert-manager.io/cluster-issuer" not in tls["metadata"].get("annotations", {})
    assert tls["spec"]["tls"] == [{"hosts": ["acme-shop.shops.example.com"]}]
    assert site_url(wildcard) == "https://acme-shop.shops.example.com"


async def test_http01_solver_is_let_in_from_the_ingress_controller_only(renderer: Renderer) -> None:
    """cert-manager's solver pod runs in the store's namespace, under its default deny."""
    name = "acme-solver-from-ingress-controller"
    solver = one(await rendered(renderer, ingress=HTTP01), "NetworkPolicy", name)["spec"]
    assert solver["podSelector"] == {"matchLabels": {"acme.cert-manager.io/http01-solver": "true"}}
    assert solver["policyTypes"] == ["Ingress"]
    assert solver["ingress"] == [
        {
            "from": [
                {
                    "namespaceSelector": {
                        "matchLabels": {"kubernetes.io/metadata.name": "kube-system"}
                    }
                }
            ],
            "ports": [{"protocol": "TCP", "port": 8089}],
        }
    ]
    # Its Service (ClusterIP) and pod fit the store's quota beside the chart's own.
    manifests = await rendered(renderer, ingress=HTTP01)
    hard = one(manifests, "ResourceQuota")["spec"]["hard"]
    services = [m for m in manifests if m["kind"] == "Service"]
    assert len(services) + 1 <= int(hard["services"])
    assert hard["services.nodeports"] == "0"
    for ingress in (INGRESS, WILDCARD):
        policies = [m["metadata"]["name"] for m in await rendered(renderer, ingress=ingress)]
        assert name not in policies


async def test_http01_without_an_issuer_is_rejected(renderer: Renderer) -> None:
    bad = StoreIngress(base_domain="shops.example.com", tls_mode="http01")
    with pytest.raises(PermanentError) as info:
        await rendered(renderer, ingress=bad)
    assert "clusterIssuer" in str(info.value)


async def test_setup_job_is_idempotent_and_named_by_content(renderer: Renderer) -> None:
    small = one(await rendered(renderer), "Job")
    again = one(await rendered(renderer), "Job")
    assert small["metadata"]["name"] == again["metadata"]["name"]
    moved = StoreIngress(base_domain="shops.example.org", ingress_namespace="ingress-nginx")
    elsewhere = one(await rendered(renderer, ingress=moved), "Job")
    # A changed pod template (here the store's address) is a new Job, never an
    # in-place edit of an immutable one.
    assert elsewhere["metadata"]["name"].startswith("setup-")
    assert elsewhere["metadata"]["name"] != small["metadata"]["name"]
    script = pod_spec(small)["containers"][0]["args"][0]
    for step in (
        "wp core is-installed",
        "wp plugin install woocommerce",
        "storefront",
        "woocommerce_cod_settings",
        "woocommerce_coming_soon no",
        "wp wc product create",
    ):
        assert step in script
    env = {e["name"]: e for e in pod_spec(small)["containers"][0]["env"]}
    assert env["HOME"]["value"] == "/tmp"
    assert env["STORE_URL"]["value"] == "http://acme-shop.shops.example.com"


@pytest.mark.parametrize("plan", list(Plan))
async def test_apache_and_php_are_sized_by_the_plan(renderer: Renderer, plan: Plan) -> None:
    """The image's own command, with the plan's sizing as `-c` directives."""
    manifests = await rendered(renderer, plan)
    sized = woocommerce_values(StoreSpec(id="acme-shop", tenant="acme", plan=plan), 2, AT, INGRESS)
    web = pod_spec(one(manifests, "Deployment"))["containers"][0]
    assert web["args"] == [
        "apache2-foreground",
        "-c",
        f"MaxRequestWorkers {sized['web']['maxRequestWorkers']}",
        "-c",
        f"php_admin_value memory_limit {sized['web']['phpMemoryLimit']}",
    ]
    setup = pod_spec(one(manifests, "Job"))["containers"][0]
    assert {"name": "PHP_INI_SCAN_DIR", "value": ":/tmp/php"} in setup["env"]
    assert f"memory_limit = {sized['setup']['phpMemoryLimit']}" in setup["args"][0]


async def test_operator_values_per_engine_can_leave_out_the_setup_job(
    renderer: Renderer, tmp_path: Path
) -> None:
    """`woocommerce.yaml` reaches only WooCommerce stores, over `all.yaml`;
    without a setup Job the namespace tells the watcher not to wait for one."""
    (tmp_path / "all.yaml").write_text("setup: {enabled: true}\nstorageClassName: fast\n")
    (tmp_path / "woocommerce.yaml").write_text("setup: {enabled: false}\n")
    (tmp_path / "medusa.yaml").write_text("storageClassName: other\n")
    overrides = operator_values(str(tmp_path), "woocommerce")
    assert [p.name for p in overrides] == ["all.yaml", "woocommerce.yaml"]
    spec = StoreSpec(id="acme-shop", tenant="acme")
    values = woocommerce_values(spec, 2, AT, INGRESS)
    manifests = await renderer.render(CHART, "acme-shop", "store-acme-shop", values, overrides)
    assert not [m for m in manifests if m["kind"] == "Job"]
    namespace = one(manifests, "Namespace")
    assert namespace["metadata"]["annotations"][labels.SETUP] == labels.SETUP_DISABLED
    assert one(manifests, "PersistentVolumeClaim")["spec"]["storageClassName"] == "fast"
    # By default the Job runs and the namespace says nothing about it.
    default = await rendered(renderer)
    assert one(default, "Job")
    assert labels.SETUP not in one(default, "Namespace")["metadata"]["annotations"]
    assert operator_values("", "woocommerce") == []


async def test_invalid_value_is_rejected_with_a_useful_message(renderer: Renderer) -> None:
    bad = StoreIngress(base_domain="shops.example.com", ingress_class="Not_A_Class")
    with pytest.raises(PermanentError) as info:
        await rendered(renderer, ingress=bad)
    message = str(info.value)
    assert "ingress.className" in message or "ingress" in message
    assert "pattern" in message.lower()


def test_chart_defaults_render(helm: str) -> None:
    """The chart's defaults alone render (operators can `helm template` it)."""
    result = subprocess.run(
        [helm, "template", "demo", str(CHART)], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize("chart", ["woocommerce", "medusa"])
@pytest.mark.parametrize("setting", ["podSecurity.level=baseline", "podSecurity.version=v1.25"])
def test_store_charts_refuse_a_weaker_pod_security(helm: str, chart: str, setting: str) -> None:
    """The provisioner's admission policy would refuse the namespace at apply
    time; the chart says so at render time, naming the value."""
    result = subprocess.run(
        [helm, "template", "demo", str(DEFAULT_CHARTS / chart), "--set", setting],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode != 0 and "podSecurity" in result.stderr, result.stderr


@pytest.mark.parametrize(
    ("setting", "refusal"),
    [
        ("images.wordpress.tag=6.6-php8.3-apache", "needs WordPress 6.7 or newer"),
        ("setup.woocommerceVersion=10.4.0", "no minimum WordPress for 10.4"),
        ("setup.woocommerceVersion=", "setup/woocommerceVersion"),
    ],
)
def test_woocommerce_and_wordpress_versions_must_match(
    helm: str, setting: str, refusal: str
) -> None:
    """A WooCommerce is pinned, known, and never meets a WordPress older than
    it supports: the setup would fail at `wp plugin install`, or worse, later."""
    result = subprocess.run(
        [helm, "template", "demo", str(CHART), "--set", setting],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode != 0 and refusal in result.stderr, result.stderr


async def test_the_pinned_woocommerce_is_installed(renderer: Renderer) -> None:
    script = pod_spec(one(await rendered(renderer), "Job"))["containers"][0]["args"][0]
    assert "wp plugin install woocommerce --version='9.9.5'" in script


async def test_the_web_tier_may_call_its_own_host_through_the_ingress(renderer: Renderer) -> None:
    """WP-cron and Action Scheduler request the store's own URL, which resolves
    to the ingress: the egress policy lets the web tier reach the controller."""
    egress = one(await rendered(renderer), "NetworkPolicy", "web-egress")["spec"]["egress"]
    to_controller = [
        rule
        for rule in egress
        if any(
            peer.get("namespaceSelector", {}).get("matchLabels")
            == {"kubernetes.io/metadata.name": "ingress-nginx"}
            for peer in rule["to"]
        )
    ]
    assert [p["port"] for rule in to_controller for p in rule["ports"]] == [80, 443]
