"""Medusa: spec + platform → chart values, plan arithmetic, engine registration."""

import re
from datetime import UTC, datetime
from typing import Any

import pytest

from services.contracts.store import Engine, Plan, StoreSpec
from services.provisioner.engines import (
    ENGINES,
    MEDUSA,
    MEDUSA_ADMIN_EMAIL,
    engine_for,
    generate_secret,
)
from services.provisioner.medusa_values import MEDUSA_PLANS, medusa_values
from services.provisioner.settings import ProvisionerSettings
from services.provisioner.values import StoreIngress
from services.runtime.settings import load_settings

AT = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
INGRESS = StoreIngress(base_domain="shops.example.com", ingress_class="traefik")

_UNITS = {"m": 1e-3, "": 1.0, "Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40}


def qty(text: str) -> float:
    match = re.fullmatch(r"([0-9.]+)(m|Ki|Mi|Gi|Ti)?", text)
    assert match, text
    return float(match[1]) * _UNITS[match[2] or ""]


def spec(plan: Plan = Plan.SMALL, **kw: Any) -> StoreSpec:
    return StoreSpec(id="acme-shop", tenant="acme", engine=Engine.MEDUSA, plan=plan, **kw)


def test_registered_as_an_engine() -> None:
    assert engine_for(Engine.MEDUSA) is MEDUSA
    assert ENGINES[Engine.MEDUSA].chart == "medusa"
    assert MEDUSA.values is medusa_values
    assert MEDUSA.admin_path == "/app/"


def test_secret_keys_generated_once_per_store() -> None:
    first, second = generate_secret(MEDUSA), generate_secret(MEDUSA)
    assert set(first) == {
        "postgres-password",
        "redis-password",
        "medusa-jwt-secret",
        "medusa-cookie-secret",
        "medusa-admin-email",
        "medusa-admin-password",
    }
    assert first["medusa-admin-email"] == MEDUSA_ADMIN_EMAIL
    assert MEDUSA.admin_user_key == "medusa-admin-email"
    assert MEDUSA.admin_password_key == "medusa-admin-password"
    for key in ("postgres-password", "redis-password", "medusa-admin-password"):
        assert first[key] != second[key]
        # Spliced into DATABASE_URL / REDIS_URL by the chart: URL-safe only.
        assert re.fullmatch(r"[A-Za-z0-9_-]{24,}", first[key])
    for key in ("medusa-jwt-secret", "medusa-cookie-secret"):
        assert len(first[key]) >= 48
        assert first[key] != second[key]


def test_store_identity_and_host() -> None:
    values = medusa_values(spec(Plan.MEDIUM, display_name="Acme"), 3, AT, INGRESS)
    assert values["store"] == {
        "id": "acme-shop",
        "tenant": "acme",
        "engine": "medusa",
        "generation": 3,
        "appliedAt": "2026-01-02T03:04:05Z",
        "host": "acme-shop.shops.example.com",
        "domains": [],
        "displayName": "Acme",
    }
    assert values["plan"] == "medium"


@pytest.mark.parametrize("plan", list(Plan))
def test_every_tier_gets_the_plan(plan: Plan) -> None:
    preset = MEDUSA_PLANS[plan]
    values = medusa_values(spec(plan), 1, AT, INGRESS)
    assert values["database"] == {
        "storage": preset.database_storage,
        "resources": preset.database.resources(),
    }
    assert values["cache"] == {"resources": preset.cache.resources()}
    assert values["server"] == {
        "storage": preset.uploads_storage,
        "resources": preset.server.resources(),
    }
    assert values["worker"] == {"resources": preset.worker.resources()}
    assert values["setup"] == {"resources": preset.setup.resources()}
    assert values["quota"] == {
        "requestsCpu": preset.quota_cpu_requests,
        "requestsMemory": preset.quota_memory_requests,
        "limitsCpu": preset.quota_cpu_limits,
        "limitsMemory": preset.quota_memory_limits,
        "requestsStorage": preset.quota_storage,
    }
    assert values["limitRange"] == {
        "max": {"cpu": preset.max_cpu, "memory": preset.max_memory},
        "maxStorage": preset.database_storage,
    }


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
    values = medusa_values(spec(), 1, AT, ingress)
    assert values["ingress"] == {
        "className": "traefik",
        "port": 8443,
        "tls": {"mode": "http01", "clusterIssuer": "letsencrypt"},
    }
    assert values["networkPolicy"]["ingressController"]["namespace"] == "kube-system"
    assert values["store"]["host"] == "acme-shop.example.org"


def test_no_secret_material_in_values() -> None:
    text = repr(medusa_values(spec(), 1, AT, INGRESS)).lower()
    for word in ("password", "secret", "token", MEDUSA_ADMIN_EMAIL):
        assert word not in text


@pytest.mark.parametrize("plan", list(Plan))
def test_each_plan_fits_its_own_quota(plan: Plan) -> None:
    """All five tiers at their limits at once stay inside the namespace quota,
    and no container exceeds the LimitRange maximum."""
    p = MEDUSA_PLANS[plan]
    tiers = (p.database, p.cache, p.server, p.worker, p.setup)
    assert sum(qty(t.cpu_limit) for t in tiers) <= qty(p.quota_cpu_limits)
    assert sum(qty(t.memory_limit) for t in tiers) <= qty(p.quota_memory_limits)
    assert sum(qty(t.cpu_request) for t in tiers) <= qty(p.quota_cpu_requests)
    assert sum(qty(t.memory_request) for t in tiers) <= qty(p.quota_memory_requests)
    assert qty(p.database_storage) + qty(p.uploads_storage) <= qty(p.quota_storage)
    assert qty(p.uploads_storage) <= qty(p.database_storage)  # LimitRange maxStorage
    for tier in tiers:
        assert qty(tier.cpu_request) <= qty(tier.cpu_limit) <= qty(p.max_cpu)
        assert qty(tier.memory_request) <= qty(tier.memory_limit) <= qty(p.max_memory)


@pytest.mark.parametrize("plan", [Plan.SMALL, Plan.LARGE])
def test_a_changed_plan_keeps_the_volumes_it_was_created_with(plan: Plan) -> None:
    values = medusa_values(spec(plan, storage_plan=Plan.MEDIUM), 2, AT, INGRESS)
    compute, volumes = MEDUSA_PLANS[plan], MEDUSA_PLANS[Plan.MEDIUM]
    assert values["server"] == {
        "storage": volumes.uploads_storage,
        "resources": compute.server.resources(),
    }
    assert values["database"]["storage"] == volumes.database_storage
    assert values["quota"]["requestsStorage"] == volumes.quota_storage
    assert values["quota"]["limitsCpu"] == compute.quota_cpu_limits
    assert values["limitRange"]["maxStorage"] == volumes.database_storage


def test_plans_grow() -> None:
    small, medium, large = (MEDUSA_PLANS[p] for p in (Plan.SMALL, Plan.MEDIUM, Plan.LARGE))
    for field in ("quota_cpu_limits", "quota_memory_limits", "quota_storage", "max_memory"):
        assert qty(getattr(small, field)) < qty(getattr(medium, field)) < qty(getattr(large, field))


def test_values_are_deterministic() -> None:
    assert medusa_values(spec(), 1, AT, INGRESS) == medusa_values(spec(), 1, AT, INGRESS)
