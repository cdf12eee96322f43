"""Kubernetes labels and annotations that the provisioner writes and the watcher reads."""

from typing import Final

MANAGED_BY: Final = "app.kubernetes.io/managed-by"
MANAGED_BY_VALUE: Final = "urumi"
MANAGED_SELECTOR: Final = f"{MANAGED_BY}={MANAGED_BY_VALUE}"
STORE: Final = "urumi.dev/store"
TENANT: Final = "urumi.dev/tenant"
ENGINE: Final = "urumi.dev/engine"
# Namespace label: the engine release (charts/releases.yaml) the store was last
# rendered at.
RELEASE: Final = "urumi.dev/release"
COMPONENT: Final = "app.kubernetes.io/component"
# The provisioner's server-side apply manager: the fields its Apply entry owns
# are what the watcher guards against drift.
FIELD_MANAGER: Final = "urumi-provisioner"

# Namespace annotations: the generation the provisioner applied (or is deleting),
# and when that generation's apply started (the watcher's deadline clock).
GENERATION: Final = "urumi.dev/generation"
APPLIED_AT: Final = "urumi.dev/applied-at"
HOST: Final = "urumi.dev/host"
# Set to SETUP_DISABLED when the chart renders no setup Job (operator value
# `setup.enabled: false`): nothing is left to wait for to call the store configured.
SETUP: Final = "urumi.dev/setup"
SETUP_DISABLED: Final = "disabled"
# Set to ASLEEP_VALUE while the store is asleep (its spec `asleep`): no pod
# should run, and its ingress routes to the platform's "asleep" page.
SLEEP: Final = "urumi.dev/sleep"
ASLEEP_VALUE: Final = "asleep"


class Component:
    """`app.kubernetes.io/component` values the watcher derives conditions from."""

    DATABASE: Final = "database"  # StatefulSet(s): DatabaseReady
    CACHE: Final = "cache"  # counted with the database tier
    WEB: Final = "web"  # Deployment serving the shop: WebReady
    WORKER: Final = "worker"  # background Deployment, counted with the web tier
    SETUP: Final = "setup"  # Job configuring the store: StoreConfigured
