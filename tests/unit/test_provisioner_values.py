"""Spec + platform → chart values, and the plan presets' arithmetic."""

import re
from datetime import UTC, datetime
from typing import Any

import pytest

from services.contracts.store import Plan, StoreSpec
from services.provisioner.settings import ProvisionerSettings
from services.provisioner.values import (
    APACHE_BASE_MIB,
    PLANS,
    WORKER_MIB,
    StoreIngress,
    explain,
    mebibytes,
    woocommerce_values,
)
from services.runtime.settings import load_settings

AT = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
INGRESS = StoreIngress(base_domain="shops.example.com", ingress_class="traefik")

_UNITS = {"m": 1e-3, "": 1.0, "Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40}


def qty(text: str) -> float:
    match = re.fullmatch(r"([0-9.]+)(m|Ki|Mi|Gi|Ti)?", text)
    assert match, text
    return float(match[1]) * _UNITS[match[2] or ""]


def test_store_identity_and_host() -> None:
    spec = StoreSpec(id="acme-shop", tenant="acme", plan=Plan.MEDIUM, display_name="Acme")
    values = woocommerce_values(spec, 3, AT, INGRESS)
    assert values["store"] == {
        "id": "acme-shop",
        "tenant": "acme",
        "engine": "woocommerce",
        "generation": 3,
        "appliedAt": "2026-01-02T03:04:05Z",
        "host": "acme-shop.shops.example.com",
        "domains": [],
        "displayName": "Acme",
    }
    assert values["plan"] == "medium"


def test_platform_settings_reach_the_chart() -> None:
    ingress = StoreIngress.from_settings(
        load_settings(
            ProvisionerSettings,
            {
                "URUMI_BASE_DOMAIN": "example.org",
                "URUMI_INGRESS_CLASS": "traefik",
                "URUMI_TLS_ISSUER": "letsencrypt",
                "URUMI_INGRESS_NAMESPACE": "kube-system",
                "URUMI_STORE_PORT": "8443",
            },
        )
    )
    values = woocommerce_values(StoreSpec(id="shop", tenant="t"), 1, AT, ingress)
    assert values["ingress"] == {
        "className": "traefik",
        "port": 8443,
        "tls": {"mode": "http01", "clusterIssuer": "letsencrypt"},
    }
    assert values["networkPolicy"]["ingressController"]["namespace"] == "kube-system"
    assert values["store"]["host"] == "shop.example.org"


def test_tls_mode_wildcard_needs_no_issuer_and_none_turns_an_issuer_off() -> None:
    def tls(env: dict[str, str]) -> Any:
        ingress = StoreIngress.from_settings(
            load_settings(ProvisionerSettings, {"URUMI_BASE_DOMAIN": "x.org", **env})
        )
        return woocommerce_values(StoreSpec(id="shop", tenant="t"), 1, AT, ingress)["ingress"][
            "tls"
        ]

    assert tls({"URUMI_TLS_MODE": "wildcard"}) == {"mode": "wildcard", "clusterIssuer": ""}
    assert tls({"URUMI_TLS_MODE": "none", "URUMI_TLS_ISSUER": "le"})["mode"] == "none"
    assert tls({}) == {"mode": "none", "clusterIssuer": ""}


def test_no_secret_material_in_values() -> None:
    values = woocommerce_values(StoreSpec(id="shop", tenant="t"), 1, AT, INGRESS)
    assert "password" not in repr(values).lower()


@pytest.mark.parametrize("plan", list(Plan))
def test_each_plan_fits_its_own_quota(plan: Plan) -> None:
    """All three tiers at their limits at once stay inside the namespace quota,
    and no container exceeds the LimitRange maximum."""
    preset = PLANS[plan]
    tiers = (preset.database, preset.web, preset.setup)
    assert sum(qty(t.cpu_limit) for t in tiers) <= qty(preset.quota_cpu_limits)
    assert sum(qty(t.memory_limit) for t in tiers) <= qty(preset.quota_memory_limits)
    assert sum(qty(t.cpu_request) for t in tiers) <= qty(preset.quota_cpu_requests)
    assert sum(qty(t.memory_request) for t in tiers) <= qty(preset.quota_memory_requests)
    storage = qty(preset.database_storage) + qty(preset.web_storage)
    assert storage <= qty(preset.quota_storage)
    for tier in tiers:
        assert qty(tier.cpu_request) <= qty(tier.cpu_limit) <= qty(preset.max_cpu)
        assert qty(tier.memory_request) <= qty(tier.memory_limit) <= qty(preset.max_memory)


@pytest.mark.parametrize("plan", list(Plan))
def test_each_plan_leaves_room_for_cert_managers_http01_solver(plan: Plan) -> None:
    """The solver pod runs in the store's namespace while a certificate is ordered,
    beside every tier at its limits (cert-manager's default solver resources)."""
    preset = PLANS[plan]
    tiers = (preset.database, preset.web, preset.setup)
    assert sum(qty(t.cpu_limit) for t in tiers) + qty("100m") <= qty(preset.quota_cpu_limits)
    assert sum(qty(t.memory_limit) for t in tiers) + qty("64Mi") <= qty(preset.quota_memory_limits)
    assert sum(qty(t.cpu_request) for t in tiers) + qty("10m") <= qty(preset.quota_cpu_requests)
    assert sum(qty(t.memory_request) for t in tiers) + qty("64Mi") <= qty(
        preset.quota_memory_requests
    )


@pytest.mark.parametrize("plan", [Plan.SMALL, Plan.LARGE])
def test_a_changed_plan_keeps_the_volumes_it_was_created_with(plan: Plan) -> None:
    """Compute follows the new plan; volumes (a StatefulSet's claims cannot be
    resized by an apply, and none may shrink) stay those of the first plan."""
    spec = StoreSpec(id="shop", tenant="t", plan=plan, storage_plan=Plan.MEDIUM)
    values = woocommerce_values(spec, 2, AT, INGRESS)
    compute, volumes = PLANS[plan], PLANS[Plan.MEDIUM]
    assert values["web"]["storage"] == volumes.web_storage
    assert values["web"]["resources"] == compute.web.resources()
    assert values["database"]["storage"] == volumes.database_storage
    assert values["database"]["resources"] == compute.database.resources()
    assert values["quota"]["requestsStorage"] == volumes.quota_storage
    assert values["quota"]["requestsCpu"] == compute.quota_cpu_requests
    assert values["limitRange"] == {
        "max": {"cpu": compute.max_cpu, "memory": compute.max_memory},
        "maxStorage": volumes.database_storage,
    }


def test_plans_grow() -> None:
    small, medium, large = (PLANS[p] for p in (Plan.SMALL, Plan.MEDIUM, Plan.LARGE))
    for field in ("quota_cpu_limits", "quota_memory_limits", "quota_storage"):
        assert qty(getattr(small, field)) < qty(getattr(medium, field)) < qty(getattr(large, field))


def test_values_are_deterministic() -> None:
    spec = StoreSpec(id="shop", tenant="t")
    assert woocommerce_values(spec, 1, AT, INGRESS) == woocommerce_values(spec, 1, AT, INGRESS)


def test_rejected_values_name_their_setting() -> None:
    helm = "- at '/ingress/className': 'Bad_Class' does not match pattern '^[a-z]$'"
    assert explain(helm).endswith("(/ingress/className comes from URUMI_INGRESS_CLASS)")
    assert explain("- at '/setup/currency': bad") == "- at '/setup/currency': bad"


@pytest.mark.parametrize("plan", list(Plan))
def test_apache_and_php_fit_the_web_tier(plan: Plan) -> None:
    """Apache's workers at their average size, plus Apache itself, fit the web
    container's memory limit; one request may not take more than a quarter."""
    web = woocommerce_values(StoreSpec(id="shop", tenant="t", plan=plan), 1, AT, INGRESS)["web"]
    limit = qty(web["resources"]["limits"]["memory"]) / 2**20
    workers, php = web["maxRequestWorkers"], int(web["phpMemoryLimit"].removesuffix("M"))
    assert workers >= 2 and APACHE_BASE_MIB + workers * WORKER_MIB <= limit
    assert 128 <= php <= limit / 4
    setup = woocommerce_values(StoreSpec(id="shop", tenant="t", plan=plan), 1, AT, INGRESS)["setup"]
    assert (
        int(setup["phpMemoryLimit"].removesuffix("M"))
        < qty(setup["resources"]["limits"]["memory"]) / 2**20
    )


def test_bigger_plans_get_more_workers() -> None:
    workers = [
        woocommerce_values(StoreSpec(id="shop", tenant="t", plan=p), 1, AT, INGRESS)["web"][
            "maxRequestWorkers"
        ]
        for p in (Plan.SMALL, Plan.MEDIUM, Plan.LARGE)
    ]
    assert workers == sorted(workers) and len(set(workers)) == 3


def test_memory_quantities_other_than_mi_gi_are_refused() -> None:
    assert mebibytes("512Mi") == 512 and mebibytes("2Gi") == 2048
    with pytest.raises(ValueError, match="expected <n>Mi or <n>Gi"):
        mebibytes("1.5Gi")
