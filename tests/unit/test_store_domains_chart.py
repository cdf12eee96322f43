"""A store on its own domains, as each store chart renders it: the Ingress
answers on every domain too (with a cert-manager certificate of its own when
stores are on TLS), and the engine's own address is the first domain."""

from datetime import UTC, datetime
from typing import Any

import pytest

from services.contracts.store import Engine, StoreSpec
from services.provisioner.engines import DEFAULT_CHARTS
from services.provisioner.medusa_values import medusa_values
from services.provisioner.ordering import Manifest
from services.provisioner.render import Renderer
from services.provisioner.values import StoreIngress, woocommerce_values
from tests.fixtures.charts import one, pod_spec, render_store

AT = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
PLAIN = StoreIngress(base_domain="shops.example.com")
HTTP01 = StoreIngress(base_domain="shops.example.com", tls_mode="http01", tls_issuer="le")
WILDCARD_ISSUER = StoreIngress(
    base_domain="shops.example.com", tls_mode="wildcard", tls_issuer="le"
)
HOST = "acme-shop.shops.example.com"
OWN = ["shop.example.com", "www.example.org"]


async def rendered(
    renderer: Renderer, engine: Engine, domains: list[str], ingress: StoreIngress = PLAIN
) -> list[Manifest]:
    spec = StoreSpec(id="acme-shop", tenant="acme", engine=engine, domains=domains)
    values = (woocommerce_values if engine is Engine.WOOCOMMERCE else medusa_values)(
        spec, 3, AT, ingress
    )
    return await render_store(renderer, DEFAULT_CHARTS / engine.value, "acme-shop", values)


def hosts(manifests: list[Manifest]) -> list[str]:
    ingress = next(m for m in manifests if m["kind"] == "Ingress")
    rules: list[dict[str, Any]] = ingress["spec"]["rules"]
    assert len({str(r["http"]) for r in rules}) == 1  # every host: the same store
    return [r["host"] for r in rules]


def address(manifests: list[Manifest], engine: Engine) -> dict[str, str]:
    """Where the engine believes it lives (WordPress's home/siteurl from the setup
    Job; Medusa's URLs on its server)."""
    if engine is Engine.WOOCOMMERCE:
        env = pod_spec(one(manifests, "Job"))["containers"][0]["env"]
        return {"STORE_URL": next(e["value"] for e in env if e["name"] == "STORE_URL")}
    env = pod_spec(one(manifests, "Deployment", "medusa-server"))["containers"][0]["env"]
    wanted = ("STORE_CORS", "MEDUSA_FILE_URL")
    return {e["name"]: e["value"] for e in env if e["name"] in wanted}


@pytest.mark.parametrize("engine", list(Engine))
async def test_the_store_answers_on_its_own_domains_the_first_its_address(
    renderer: Renderer, engine: Engine
) -> None:
    alone = await rendered(renderer, engine, [])
    assert hosts(alone) == [HOST]
    routed = await rendered(renderer, engine, OWN)
    assert hosts(routed) == [HOST, *OWN]
    if engine is Engine.WOOCOMMERCE:
        assert address(alone, engine) == {"STORE_URL": f"http://{HOST}"}
        assert address(routed, engine) == {"STORE_URL": "http://shop.example.com"}
        # A new address is a new setup Job (its content names it), which sets it.
        assert one(alone, "Job")["metadata"]["name"] != one(routed, "Job")["metadata"]["name"]
    else:
        assert address(alone, engine) == {
            "STORE_CORS": f"http://{HOST}",
            "MEDUSA_FILE_URL": f"http://{HOST}/static",
        }
        assert address(routed, engine) == {
            "STORE_CORS": f"http://{HOST},http://shop.example.com,http://www.example.org",
            "MEDUSA_FILE_URL": "http://shop.example.com/static",
        }


@pytest.mark.parametrize("engine", list(Engine))
@pytest.mark.parametrize("ingress", [HTTP01, WILDCARD_ISSUER], ids=["http01", "wildcard"])
async def test_each_own_domain_asks_cert_manager_for_its_certificate(
    renderer: Renderer, engine: Engine, ingress: StoreIngress
) -> None:
    manifests = await rendered(renderer, engine, OWN, ingress)
    ing = one(manifests, "Ingress")
    assert ing["metadata"]["annotations"]["cert-manager.io/cluster-issuer"] == "le"
    own = ing["spec"]["tls"][1:]
    assert [t["hosts"] for t in own] == [[d] for d in OWN]
    secrets = [t["secretName"] for t in own]
    assert secrets[0].startswith("domain-shop-example-com-") and secrets[0].endswith("-tls")
    assert len(set(secrets)) == 2
    # STORE_URL, or MEDUSA_FILE_URL: on the first domain, over https.
    assert list(address(manifests, engine).values())[-1].startswith("https://shop.example.com")


@pytest.mark.parametrize("engine", list(Engine))
async def test_a_wildcard_platform_without_domains_asks_cert_manager_for_nothing(
    renderer: Renderer, engine: Engine
) -> None:
    ing = one(await rendered(renderer, engine, [], WILDCARD_ISSUER), "Ingress")
    assert "cert-manager.io/cluster-issuer" not in ing["metadata"].get("annotations", {})
    assert ing["spec"]["tls"] == [{"hosts": [HOST]}]
