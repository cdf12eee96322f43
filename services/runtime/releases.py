"""The catalog of engine releases: which software versions a store can run.

The platform ships `charts/releases.yaml`; an operator's file of the same shape
(URUMI_RELEASES_FILE) is merged over it. Parsing and validation are pure
(`parse_catalog_file`, `merge`, `build_catalog`); `load_catalog` reads the files.
Every problem is a `CatalogError` naming the file and the entry at fault.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any, Final

import msgspec
import yaml

from services.contracts.store import Engine, ReleaseName

SHIPPED_FILE: Final = "releases.yaml"
# charts/ beside services/ in a checkout (the image names its copy in URUMI_CHARTS_DIR).
CHECKOUT_CHARTS: Final = Path(__file__).resolve().parents[2] / "charts"


class CatalogError(ValueError):
    """A catalog file that cannot be used; the message names the file and entry."""


class UnknownReleaseError(LookupError):
    """A release name the catalog has no release of that engine for."""

    def __init__(self, engine: Engine, name: str, known: Sequence[str]) -> None:
        self.engine, self.name, self.known = engine, name, tuple(known)
        super().__init__(
            f"'{name}' is not a release of {engine.value} (releases: {', '.join(known)})"
        )


class Release(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    name: ReleaseName
    released: date  # a later date is newer: moving to it is an upgrade
    chart: str  # the version of the engine's chart it was made with
    versions: dict[str, str]  # software → version, for people
    values: dict[str, Any] = {}  # chart values: over the chart's, under the operator's


class EngineEntry(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """One engine's part of a catalog file; an operator's file may name only
    some of these fields."""

    default: str = ""
    legacy: str = ""
    releases: list[Release] = []


CatalogFile = dict[str, EngineEntry]


@dataclass(frozen=True)
class EngineReleases:
    default: Release
    legacy: Release  # what a spec without a release (made before releases) runs
    releases: tuple[Release, ...]  # oldest first

    def names(self) -> list[str]:
        return [r.name for r in self.releases]

    @property
    def latest(self) -> Release:
        return self.releases[-1]


@dataclass(frozen=True)
class Catalog:
    engines: Mapping[Engine, EngineReleases]

    def of(self, engine: Engine) -> EngineReleases:
        return self.engines[engine]

    def release(self, engine: Engine, name: str) -> Release:
        """The named release of `engine`; "" is the engine's legacy release."""
        entry = self.engines[engine]
        if not name:
            return entry.legacy
        for release in entry.releases:
            if release.name == name:
                return release
        raise UnknownReleaseError(engine, name, entry.names())

    def rank(self, engine: Engine, name: str) -> int:
        """How new the release is among its engine's (0: the oldest)."""
        return self.engines[engine].releases.index(self.release(engine, name))


def parse_catalog_file(text: str, source: str) -> CatalogFile:
    """One catalog file's YAML, checked for shape (not yet for consistency)."""
    try:
        doc = yaml.safe_load(text) or {}
    except yaml.YAMLError as exc:
        raise CatalogError(f"{source}: not YAML: {exc}") from None
    if not isinstance(doc, dict):
        raise CatalogError(f"{source}: expected a mapping of engine → releases")
    parsed: CatalogFile = {}
    for engine, entry in doc.items():
        try:
            parsed[str(engine)] = msgspec.convert(entry or {}, EngineEntry, strict=False)
        except msgspec.ValidationError as exc:
            # msgspec says where from the entry's root (`$`): name the engine there.
            raise CatalogError(f"{source}: {str(exc).replace('`$', f'`{engine}')}") from None
    return parsed


def merge(shipped: CatalogFile, extra: CatalogFile, source: str) -> CatalogFile:
    """`extra`'s releases after the shipped ones; its `default` wins. `legacy` is
    what stores made before releases ran, a fact of the platform's history, so
    only the shipped catalog names it."""
    merged = dict(shipped)
    for engine, entry in extra.items():
        if entry.legacy:
            raise CatalogError(
                f"{source}: `{engine}.legacy` is the shipped catalog's; leave it out"
            )
        base = merged.get(engine, EngineEntry())
        merged[engine] = EngineEntry(
            default=entry.default or base.default,
            legacy=base.legacy,
            releases=[*base.releases, *entry.releases],
        )
    return merged


def build_catalog(doc: CatalogFile, source: str) -> Catalog:
    """Every engine with its releases oldest first; a name is unique across engines,
    and `default` and `legacy` name releases of their own engine."""
    known = [e.value for e in Engine]
    for key in doc:
        if key not in known:
            raise CatalogError(f"{source}: `{key}` is not an engine ({', '.join(known)})")
    seen: dict[str, str] = {}
    engines: dict[Engine, EngineReleases] = {}
    for engine in Engine:
        entry = doc.get(engine.value)
        if entry is None or not entry.releases:
            raise CatalogError(f"{source}: `{engine.value}` has no releases")
        for release in entry.releases:
            if release.name in seen:
                where = seen[release.name]
                twice = "twice" if where == engine.value else f"also in `{where}`"
                raise CatalogError(
                    f"{source}: `{engine.value}` lists release `{release.name}` {twice}; "
                    "a release name is unique"
                )
            seen[release.name] = engine.value
        # A stable sort: releases of one day keep the order they are listed in.
        ordered = tuple(sorted(entry.releases, key=lambda r: r.released))
        engines[engine] = EngineReleases(
            default=_named(ordered, entry.default, f"{source}: `{engine.value}.default`"),
            legacy=_named(ordered, entry.legacy, f"{source}: `{engine.value}.legacy`"),
            releases=ordered,
        )
    return Catalog(engines)


def _named(releases: Sequence[Release], name: str, where: str) -> Release:
    names = [r.name for r in releases]
    if not name:
        raise CatalogError(f"{where} is missing (releases: {', '.join(names)})")
    if name not in names:
        raise CatalogError(f"{where}: '{name}' is not one of its releases ({', '.join(names)})")
    return releases[names.index(name)]


def shipped_path(charts_dir: str) -> Path:
    """The platform's catalog, beside the store charts."""
    return (Path(charts_dir) if charts_dir else CHECKOUT_CHARTS) / SHIPPED_FILE


def load_catalog(charts_dir: str = "", extra_file: str = "") -> Catalog:
    """The shipped catalog, with the operator's `extra_file` (if any) merged over it."""
    shipped = shipped_path(charts_dir)
    doc = parse_catalog_file(_read(shipped, "the shipped catalog"), str(shipped))
    source = str(shipped)
    if extra_file:
        extra = parse_catalog_file(_read(Path(extra_file), "URUMI_RELEASES_FILE"), extra_file)
        doc, source = merge(doc, extra, extra_file), f"{shipped} + {extra_file}"
    return build_catalog(doc, source)


def _read(path: Path, what: str) -> str:
    try:
        return path.read_text()
    except OSError as exc:
        raise CatalogError(f"{what} {path}: {exc.strerror or exc}") from None
