"""A store's engine release as chart values.

The renderer layers values as Helm's --values flags, each over the one before:

    chart defaults < the release's values < the operator's (all.yaml, <engine>.yaml)
                   < the store's own (plan, identity, routing)

so a release pins the software, an operator can still point its images at a
mirror or turn the setup Job off, and the store's values always win.
"""

from services.contracts.store import StoreSpec
from services.provisioner.errors import PermanentError
from services.provisioner.values import Values
from services.runtime.releases import Catalog, Release, UnknownReleaseError


def store_release(catalog: Catalog, spec: StoreSpec) -> Release:
    """The release `spec` names ("": made before releases, the engine's legacy one)."""
    try:
        return catalog.release(spec.engine, spec.release)
    except UnknownReleaseError as exc:
        # The gateway checked the name against its catalog: this provisioner's
        # catalog is another (an operator's release file on one side only).
        raise PermanentError(
            f"release: {exc}; is URUMI_RELEASES_FILE the same for the gateway and the provisioner?"
        ) from None


def labelled(values: Values, release: Release) -> Values:
    """The store's values naming its release (`store.release`: the chart labels
    every object with it)."""
    return {**values, "store": {**values.get("store", {}), "release": release.name}}


def dumped_first(values: Values, release: Release, release_changed: bool) -> Values:
    """The values asking the setup step to dump the database before `release`
    touches it, when this generation changes the store's release (an upgrade or
    a rollback); else as they are, so other generations render as before."""
    if not release_changed:
        return values
    return {**values, "backup": {**values.get("backup", {}), "dumpBefore": release.name}}
