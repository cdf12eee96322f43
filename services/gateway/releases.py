"""The store's engine release at the API: which one a create gets, which change a
PATCH may make, and what the view says about newer ones. Pure: the catalog is
loaded once at start-up (services/runtime/releases.py); refusals are domain errors."""

from collections.abc import Mapping

import msgspec
from litestar.openapi.spec import Reference, Schema

from services.contracts.store import Engine
from services.gateway.domain_errors import ConflictError, InvalidFieldError
from services.gateway.models import CatalogView, EngineReleasesView, ReleaseView, StoreView
from services.runtime.releases import Catalog, Release, UnknownReleaseError


def _named(catalog: Catalog, engine: Engine, name: str, of_store: bool = False) -> Release:
    """The release; another engine's name is invalid in a create's body, and a
    conflict with an existing store (`of_store`)."""
    try:
        return catalog.release(engine, name)
    except UnknownReleaseError as exc:
        other = [e for e in Engine if e != engine and name in catalog.of(e).names()]
        if not other:
            raise InvalidFieldError("release", str(exc)) from None
        message = (
            f"'{name}' is a release of {other[0].value}, and this store's engine is "
            f"{engine.value} (its releases: {', '.join(exc.known)})"
        )
        if of_store:
            raise ConflictError(f"`release`: {message}") from None
        raise InvalidFieldError("release", message) from None


def for_create(catalog: Catalog, engine: Engine, requested: str) -> str:
    """The release a new store gets: the one named, else its engine's default."""
    if not requested:
        return catalog.of(engine).default.name
    return _named(catalog, engine, requested).name


def same_for_recreate(catalog: Catalog, existing: StoreView, requested: str) -> bool:
    """Whether a create naming `requested` ("": any) matches the existing store."""
    return not requested or requested == current(catalog, existing)


def current(catalog: Catalog, store: StoreView) -> str:
    """The release the store runs ('' in its row: made before releases existed)."""
    if store.release:
        return store.release
    return catalog.of(store.engine).legacy.name


def for_update(
    catalog: Catalog, store: StoreView, requested: str | None, allow_downgrade: bool
) -> str:
    """The store's release after a PATCH: its own when unchanged (as stored), else
    the requested one, refused when unknown to its engine or older than its own
    without `allow_downgrade`."""
    now = current(catalog, store)
    if requested is None or requested == now:
        return store.release
    # The body is valid (a release of the catalog); it is the store that has another engine.
    target = _named(catalog, store.engine, requested, of_store=True)
    if not allow_downgrade and _newer(catalog, store.engine, now, target.name) is False:
        raise ConflictError(
            f"`release` {target.name} is older than the store's {now}: its database "
            "was migrated forward and migrations are one-way, so the older software "
            "may not run on it. Send allow_downgrade: true to do it anyway."
        )
    return target.name


def still_shipped(catalog: Catalog, engine: Engine, name: str) -> None:
    """Refuse a rollback to a release gone from the catalog ("": the legacy one,
    always there): the provisioner could not render it."""
    if name and name not in catalog.of(engine).names():
        raise ConflictError(
            f"cannot roll back to release {name}: it is no longer in the platform's "
            f"catalog (its {engine.value} releases: {', '.join(catalog.of(engine).names())})"
        )


def _newer(catalog: Catalog, engine: Engine, than: str, name: str) -> bool | None:
    """Whether release `name` is newer than `than`; None when `than` is no longer
    in the catalog (an operator's release removed), so they cannot be compared."""
    try:
        return catalog.rank(engine, name) > catalog.rank(engine, than)
    except UnknownReleaseError:
        return None


def behind(catalog: Catalog, store: StoreView, target: str) -> bool:
    """Whether moving the store to release `target` is an upgrade (from a release
    gone from the catalog, it is)."""
    release = current(catalog, store)
    return target != release and _newer(catalog, store.engine, release, target) is not False


def present(catalog: Catalog, store: StoreView) -> StoreView:
    """The view with its release, its engine's latest, and whether that is an
    upgrade."""
    latest = catalog.of(store.engine).latest.name
    return msgspec.structs.replace(
        store,
        release=current(catalog, store),
        latest_release=latest,
        upgrade_available=behind(catalog, store, latest),
    )


def for_fleet(catalog: Catalog, engine: Engine, name: str) -> str:
    """The release a fleet upgrade moves `engine`'s stores to (the field is
    `to_release`)."""
    try:
        return catalog.release(engine, name).name
    except UnknownReleaseError as exc:
        raise InvalidFieldError("to_release", str(exc)) from None


def catalog_view(catalog: Catalog) -> CatalogView:
    """Every engine's releases, oldest first, without their chart values (which
    name the operator's registries and settings)."""
    engines = []
    for engine in Engine:
        entry = catalog.of(engine)
        engines.append(
            EngineReleasesView(
                engine=engine,
                default=entry.default.name,
                latest=entry.latest.name,
                releases=[
                    ReleaseView(
                        name=r.name, released=r.released, chart=r.chart, versions=r.versions
                    )
                    for r in entry.releases
                ],
            )
        )
    return CatalogView(engines=engines)


def document(schemas: Mapping[str, Schema | Reference], catalog: Catalog) -> None:
    """Name in the OpenAPI document the releases this gateway takes (its catalog,
    an operator's included): a create's `release` is one of its engine's (no
    `engine`: WooCommerce's) or "", a change's one of the catalog's, a fleet
    upgrade's `to_release` one of its engine's."""
    create, update = schemas.get("CreateStoreRequest"), schemas.get("UpdateStoreRequest")
    if isinstance(create, Schema):
        create.any_of = [
            Schema(
                properties={
                    "engine": Schema(enum=[engine.value]),
                    "release": Schema(enum=["", *catalog.of(engine).names()]),
                },
                required=[] if engine is Engine.WOOCOMMERCE else ["engine"],
            )
            for engine in Engine
        ]
    release = (update.properties or {}).get("release") if isinstance(update, Schema) else None
    if isinstance(release, Schema):
        release.enum = [*(name for e in Engine for name in catalog.of(e).names()), None]
    fleet = schemas.get("StartFleetRequest")
    if isinstance(fleet, Schema):
        fleet.any_of = [
            Schema(
                properties={
                    "engine": Schema(enum=[engine.value]),
                    "to_release": Schema(enum=list(catalog.of(engine).names())),
                },
            )
            for engine in Engine
        ]
