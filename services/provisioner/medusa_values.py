"""Spec + platform settings → `charts/medusa` values. Pure: no I/O, no clock.

Medusa has five tiers (Postgres, Redis, the server, the worker, the setup Job),
so its plans are its own presets; the store identity, platform settings and
their names are shared with every engine (services/provisioner/values.py).
"""

from datetime import datetime
from typing import Final, NamedTuple

from services.contracts.store import Plan, StoreSpec
from services.provisioner.values import StoreIngress, Tier, Values, common_values


class MedusaPreset(NamedTuple):
    """One plan: each tier's container resources, volumes, and namespace totals.

    Quota totals leave room for every tier at its limits at once (the setup
    Job runs beside the others; the init containers count as their pod's
    largest container, so they need nothing extra).
    """

    database: Tier
    cache: Tier
    server: Tier
    worker: Tier
    setup: Tier
    database_storage: str
    uploads_storage: str
    quota_cpu_requests: str
    quota_memory_requests: str
    quota_cpu_limits: str
    quota_memory_limits: str
    quota_storage: str
    max_cpu: str
    max_memory: str


MEDUSA_PLANS: Final[dict[Plan, MedusaPreset]] = {
    Plan.SMALL: MedusaPreset(
        database=Tier("250m", "256Mi", "500m", "512Mi"),
        cache=Tier("50m", "64Mi", "250m", "128Mi"),
        server=Tier("250m", "512Mi", "1", "1Gi"),
        worker=Tier("100m", "384Mi", "500m", "768Mi"),
        setup=Tier("100m", "512Mi", "500m", "1Gi"),
        database_storage="2Gi",
        uploads_storage="1Gi",
        quota_cpu_requests="1",
        quota_memory_requests="2Gi",
        quota_cpu_limits="3",
        quota_memory_limits="4Gi",
        quota_storage="5Gi",
        max_cpu="1",
        max_memory="1Gi",
    ),
    Plan.MEDIUM: MedusaPreset(
        database=Tier("500m", "512Mi", "1", "1Gi"),
        cache=Tier("100m", "128Mi", "500m", "256Mi"),
        server=Tier("500m", "768Mi", "2", "1536Mi"),
        worker=Tier("250m", "512Mi", "1", "1Gi"),
        setup=Tier("100m", "512Mi", "500m", "1Gi"),
        database_storage="10Gi",
        uploads_storage="5Gi",
        quota_cpu_requests="2",
        quota_memory_requests="3Gi",
        quota_cpu_limits="6",
        quota_memory_limits="6Gi",
        quota_storage="20Gi",
        max_cpu="2",
        max_memory="2Gi",
    ),
    Plan.LARGE: MedusaPreset(
        database=Tier("1", "2Gi", "2", "4Gi"),
        cache=Tier("250m", "256Mi", "1", "512Mi"),
        server=Tier("1", "1536Mi", "3", "3Gi"),
        worker=Tier("500m", "1Gi", "2", "2Gi"),
        setup=Tier("100m", "512Mi", "500m", "1Gi"),
        database_storage="50Gi",
        uploads_storage="20Gi",
        quota_cpu_requests="3",
        quota_memory_requests="6Gi",
        quota_cpu_limits="10",
        quota_memory_limits="12Gi",
        quota_storage="100Gi",
        max_cpu="4",
        max_memory="4Gi",
    ),
}


def medusa_values(
    spec: StoreSpec, generation: int, applied_at: datetime, ingress: StoreIngress
) -> Values:
    """Chart values for `charts/medusa`; the chart's values.yaml has the rest."""
    preset, volumes = MEDUSA_PLANS[spec.plan], MEDUSA_PLANS[spec.volumes_plan]
    return {
        **common_values(spec, generation, applied_at, ingress, preset, volumes),
        "database": {"storage": volumes.database_storage, "resources": preset.database.resources()},
        "cache": {"resources": preset.cache.resources()},
        "server": {"storage": volumes.uploads_storage, "resources": preset.server.resources()},
        "worker": {"resources": preset.worker.resources()},
        "setup": {"resources": preset.setup.resources()},
    }
