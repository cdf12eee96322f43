"""Sleeping stores, the pure parts: what a sleeping store's chart renders for
either engine, the Namespace's first apply, the gateway's decision and the page
a sleeping store's host answers with, and which visits wake a store."""

from datetime import UTC, datetime
from typing import Any

import pytest

from services.contracts import labels
from services.contracts.phases import Phase
from services.contracts.store import Engine, Plan, StoreSpec
from services.gateway.domain_errors import ConflictError
from services.gateway.models import StoreView
from services.gateway.settings import GatewaySettings
from services.gateway.sleep import toggled, woken_by_visit
from services.gateway.sleep_page import page, store_of_host
from services.provisioner.engines import DEFAULT_CHARTS, engine_for
from services.provisioner.ordering import Manifest
from services.provisioner.provision import still_at_live_generation
from services.provisioner.render import Renderer
from services.provisioner.values import StoreIngress
from services.runtime.settings import SettingsError, load_settings
from tests.fixtures.charts import one, render_store

AT = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
INGRESS = StoreIngress(
    base_domain="shops.example.com",
    sleep_page_host="urumi-gateway.urumi.svc.cluster.local",
    sleep_page_port=80,
)
# Each engine's Service the Ingress routes a store that is awake to.
SHOP_SERVICE = {Engine.WOOCOMMERCE: "wordpress", Engine.MEDUSA: "medusa-server"}


async def rendered(renderer: Renderer, engine: Engine, asleep: bool) -> list[Manifest]:
    spec = StoreSpec(id="acme-shop", tenant="acme", engine=engine, asleep=asleep)
    values = engine_for(engine).values(spec, 3, AT, INGRESS)
    return await render_store(renderer, DEFAULT_CHARTS / engine.value, "acme-shop", values)


def _backend(manifests: list[Manifest]) -> str:
    ingress = one(manifests, "Ingress")
    name: str = ingress["spec"]["rules"][0]["http"]["paths"][0]["backend"]["service"]["name"]
    return name


@pytest.mark.parametrize("engine", list(Engine))
async def test_a_sleeping_store_runs_nothing_keeps_its_volumes_and_shows_the_asleep_page(
    renderer: Renderer, engine: Engine
) -> None:
    awake, asleep = await rendered(renderer, engine, False), await rendered(renderer, engine, True)
    scaled = [m for m in asleep if m["kind"] in ("Deployment", "StatefulSet")]
    assert scaled and all(m["spec"]["replicas"] == 0 for m in scaled)
    assert all(m["spec"]["replicas"] >= 1 for m in awake if m["kind"] in ("Deployment",))
    assert one(asleep, "Job")["spec"]["suspend"] is True
    assert "suspend" not in one(awake, "Job")["spec"]
    # The same volumes: the claims and the StatefulSets' claim templates are unchanged.
    for kind in ("PersistentVolumeClaim", "StatefulSet"):
        before = {m["metadata"]["name"]: m["spec"].get("volumeClaimTemplates", m["spec"])
                  for m in awake if m["kind"] == kind}  # fmt: skip
        after = {m["metadata"]["name"]: m["spec"].get("volumeClaimTemplates", m["spec"])
                 for m in asleep if m["kind"] == kind}  # fmt: skip
        assert before == after, kind
    # The ingress: the same host, routed to the gateway's page through an
    # ExternalName Service of the store's own namespace.
    assert _backend(awake) == SHOP_SERVICE[engine]
    assert _backend(asleep) == "sleep-page"
    assert one(asleep, "Ingress")["spec"]["rules"][0]["host"] == "acme-shop.shops.example.com"
    page_service = one(asleep, "Service", "sleep-page")
    assert page_service["spec"]["type"] == "ExternalName"
    assert page_service["spec"]["externalName"] == "urumi-gateway.urumi.svc.cluster.local"
    assert page_service["spec"]["ports"] == [{"name": "http", "port": 80}]
    assert not [m for m in awake if m["metadata"]["name"] == "sleep-page"]
    namespace = one(asleep, "Namespace")["metadata"]["annotations"]
    assert namespace[labels.SLEEP] == labels.ASLEEP_VALUE
    assert labels.SLEEP not in one(awake, "Namespace")["metadata"]["annotations"]


@pytest.mark.parametrize("engine", list(Engine))
async def test_a_sleeping_store_reserves_no_cpu_or_memory_only_storage(
    renderer: Renderer, engine: Engine
) -> None:
    awake = one(await rendered(renderer, engine, False), "ResourceQuota")["spec"]["hard"]
    asleep = one(await rendered(renderer, engine, True), "ResourceQuota")["spec"]["hard"]
    for compute in ("requests.cpu", "requests.memory", "limits.cpu", "limits.memory"):
        assert asleep[compute] == "0", compute
        assert awake[compute] != "0", compute
    assert asleep["requests.storage"] == awake["requests.storage"]
    assert asleep["persistentvolumeclaims"] == awake["persistentvolumeclaims"]


def _namespace(annotations: dict[str, str]) -> Manifest:
    return {"apiVersion": "v1", "kind": "Namespace",
            "metadata": {"name": "store-shop", "annotations": annotations}}  # fmt: skip


def test_the_namespace_first_applied_stays_asleep_or_awake_as_the_live_generation() -> None:
    """A wake's running objects are applied after the Namespace: until the
    Namespace names the new generation the watcher must keep judging the old one
    (asleep), and a sleep's must not look asleep while its pods still run."""
    old = {labels.GENERATION: "4", labels.APPLIED_AT: "2026-04-30T10:00:00Z"}
    waking = _namespace({labels.GENERATION: "5", labels.APPLIED_AT: "2026-05-01T00:00:00Z"})
    live_asleep: dict[str, Any] = {"metadata": {"annotations": {**old, labels.SLEEP: "asleep"}}}
    first = still_at_live_generation(waking, live_asleep)
    assert first["metadata"]["annotations"] == {**old, labels.SLEEP: "asleep"}
    sleeping = _namespace({labels.GENERATION: "5", labels.SLEEP: "asleep"})
    live_awake: dict[str, Any] = {"metadata": {"annotations": old}}
    assert still_at_live_generation(sleeping, live_awake)["metadata"]["annotations"] == old
    assert still_at_live_generation(sleeping, None) == sleeping  # a new store: nothing older


def _store(
    phase: Phase = Phase.READY, asleep: bool = False, name: str = "", plan: Plan = Plan.SMALL
) -> StoreView:
    return StoreView(
        id="shop", tenant="acme", engine=Engine.WOOCOMMERCE, plan=plan, display_name=name,
        storage_plan=Plan.SMALL, phase=phase, generation=2, url="http://shop.shops.test",
        reason="", message="", conditions=[], created_at=AT, updated_at=AT, asleep=asleep,
    )  # fmt: skip


def test_sleep_and_wake_are_the_next_generation_and_a_repeat_changes_nothing() -> None:
    asleep = toggled(_store(), asleep=True)
    assert asleep is not None
    assert (asleep.asleep, asleep.generation, asleep.phase) == (True, 3, Phase.PROVISIONING)
    assert (asleep.plan, asleep.release) == (Plan.SMALL, "")
    assert toggled(asleep, asleep=True) is None
    awake = toggled(asleep, asleep=False)
    assert awake is not None and (awake.asleep, awake.generation) == (False, 4)
    assert toggled(_store(), asleep=False) is None


@pytest.mark.parametrize("phase", [Phase.DELETING, Phase.DELETED])
def test_a_store_being_deleted_neither_sleeps_nor_wakes(phase: Phase) -> None:
    with pytest.raises(ConflictError, match=f"store 'shop' is {phase}; it can no longer sleep"):
        toggled(_store(phase), asleep=True)
    with pytest.raises(ConflictError, match="it can no longer wake"):
        toggled(_store(phase, asleep=True), asleep=False)


@pytest.mark.parametrize(
    ("host", "store"),
    [
        ("shop.shops.test", "shop"),
        ("Shop.Shops.Test:8088", "shop"),
        ("my-shop.shops.test.", "my-shop"),
        ("urumi.shops.test", None),  # reserved: the platform's own host
        ("shops.test", None),
        ("a.b.shops.test", None),
        ("127.0.0.1:8080", None),
        ("[::1]:8080", None),
        ("", None),
    ],
)
def test_a_store_host_names_its_store(host: str, store: str | None) -> None:
    assert store_of_host(host, "shops.test") == store


def test_the_page_says_the_store_is_asleep_and_how_its_owner_wakes_it() -> None:
    asleep = page("shop", _store(Phase.ASLEEP, asleep=True, name="Tea & <Cakes>"))
    assert asleep.status == 503
    assert ("retry-after", "3600") in asleep.headers
    assert ("cache-control", "no-store") in asleep.headers
    assert b"Tea &amp; &lt;Cakes&gt; is asleep" in asleep.body
    assert b"(Wake this store) or with `urumi stores wake shop`." in asleep.body
    assert b"<script>" not in asleep.body and b"refresh" not in asleep.body
    for gone in (None, _store(Phase.DELETED)):
        missing = page("shop", gone)
        assert missing.status == 404 and b"There is no store at shop." in missing.body


def test_the_waking_page_asks_again_until_the_shop_answers() -> None:
    """The shop answering (any status below 500, or a redirect) reloads the page;
    the ingress controller's own 502/503 while the pods start keeps it asking."""
    waking = page("shop", _store(Phase.PROVISIONING))
    assert waking.status == 503 and b"shop is waking up" in waking.body
    assert ("retry-after", "5") in waking.headers
    assert b'fetch(location.href,{cache:"no-store",redirect:"manual"})' in waking.body
    assert b'r.type==="opaqueredirect"||r.status<500){location.reload()}' in waking.body
    assert b'<noscript><meta http-equiv="refresh" content="5"></noscript>' in waking.body


WAKERS = frozenset({Plan.MEDIUM, Plan.LARGE})


@pytest.mark.parametrize("phase", [Phase.ASLEEP, Phase.PROVISIONING])
def test_a_visit_wakes_a_sleeping_store_of_a_plan_that_wakes_on_visits(phase: Phase) -> None:
    woken = woken_by_visit(_store(phase, asleep=True, plan=Plan.MEDIUM), WAKERS)
    assert woken is not None
    assert (woken.asleep, woken.generation, woken.phase) == (False, 3, Phase.PROVISIONING)
    assert woken.reason == "Waking"
    assert woken.message.startswith("a shopper's visit wakes the store")


@pytest.mark.parametrize(
    "store",
    [
        None,
        _store(Phase.ASLEEP, asleep=True, plan=Plan.SMALL),  # its plan waits for the owner
        _store(Phase.PROVISIONING, plan=Plan.MEDIUM),  # awake already: an earlier visit woke it
        _store(Phase.READY, plan=Plan.LARGE),
        _store(Phase.DELETING, asleep=True, plan=Plan.MEDIUM),
    ],
)
def test_a_visit_changes_nothing_else(store: StoreView | None) -> None:
    assert woken_by_visit(store, WAKERS) is None


def test_the_plans_that_wake_on_visits_are_the_operators_choice() -> None:
    def plans(value: str | None) -> frozenset[Plan]:
        env = {} if value is None else {"URUMI_WAKE_ON_VISIT_PLANS": value}
        return load_settings(GatewaySettings, env).wakes_on_visit()

    assert plans(None) == {Plan.MEDIUM, Plan.LARGE}
    assert plans("small") == {Plan.SMALL}
    assert plans("") == frozenset()
    with pytest.raises(SettingsError) as refused:
        plans("medium,huge")
    assert str(refused.value).startswith("URUMI_WAKE_ON_VISIT_PLANS: ")
    assert "(small|medium|large)" in str(refused.value)
