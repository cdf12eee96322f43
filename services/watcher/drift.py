"""Drift: an object Urumi applied was deleted, or fields its apply owns changed
(pure, no I/O).

Urumi's fields are those of the `urumi-provisioner` Apply entry in
managedFields. Another writer that changes one of them takes it over: the
field leaves Urumi's entry, whose time stays as it was (the API server stamps
only the writer's own entry). So Urumi's field set changing without a new
time of its own is drift; a new time is Urumi's own apply. Fields Urumi never
owned (an autoscaler's replicas where the chart leaves them out, a kubelet's
annotations, status) never appear in its entry, so changing them is not drift.
"""

from collections.abc import Iterable, Mapping
from typing import Any, NamedTuple

import msgspec

from services.contracts.labels import FIELD_MANAGER

Raw = Mapping[str, Any]
Key = tuple[str, str, str]  # kind, namespace, name

DELETED = "deleted outside Urumi"
CHANGED = "changed outside Urumi"
NAMESPACE = "Namespace"


class Signature(NamedTuple):
    """What Urumi's apply owns in one object, compared across watch events."""

    uid: str
    time: str  # of Urumi's Apply entry
    fields: int  # a digest of the entry's field set


class Drift(NamedTuple):
    namespace: str
    kind: str
    name: str
    reason: str

    def describe(self) -> str:
        return f"{self.kind}/{self.name} {self.reason}"


def _meta(raw: Raw) -> Mapping[str, Any]:
    return raw.get("metadata") or {}


def key(kind: str, raw: Raw) -> Key:
    meta = _meta(raw)
    name = str(meta.get("name", ""))
    # A store is its namespace: the Namespace object belongs to itself.
    return kind, str(meta.get("namespace") or name), name


def signature(raw: Raw) -> Signature | None:
    """Urumi's Apply entry of the object, or None when Urumi's apply owns nothing."""
    for entry in _meta(raw).get("managedFields") or []:
        if entry.get("manager") == FIELD_MANAGER and entry.get("operation") == "Apply":
            fields = msgspec.json.encode(entry.get("fieldsV1") or {}, order="sorted")
            return Signature(
                str(_meta(raw).get("uid", "")), str(entry.get("time", "")), hash(fields)
            )
    return None


def changed_by(raw: Raw) -> str:
    """The newest writer other than Urumi and status writers ("" if none)."""
    entries = [
        e
        for e in _meta(raw).get("managedFields") or []
        if e.get("manager") != FIELD_MANAGER and e.get("subresource", "") != "status"
    ]
    if not entries:
        return ""
    return str(max(entries, key=lambda e: str(e.get("time") or "")).get("manager") or "")


class DriftTracker:
    """Urumi's signature of every object seen; each event is judged against it."""

    def __init__(self) -> None:
        self._known: dict[Key, Signature] = {}

    def observe(self, kind: str, event_type: str, raw: Raw) -> Drift | None:
        k = key(kind, raw)
        old = self._known.pop(k, None)
        if event_type == "DELETED":
            if kind == NAMESPACE:  # a deleted store: never drift, never resurrected
                self.forget(k[1])
                return None
            if old is None:
                return None
            return Drift(k[1], kind, k[2], DELETED)
        new = signature(raw)
        if new is not None:
            self._known[k] = new
        if old is None or old.uid != str(_meta(raw).get("uid", "")):
            return None  # first sight, or a new object under the same name
        if new is None or (new.time == old.time and new.fields != old.fields):
            who = changed_by(raw)
            return Drift(k[1], kind, k[2], f"{CHANGED} by {who}" if who else CHANGED)
        return None

    def relist(self, kind: str, items: Iterable[Raw]) -> list[Drift]:
        """A full list (start or after a lost watch): what changed or vanished unseen."""
        listed = list(items)
        present = {key(kind, raw) for raw in listed}
        drifts = [d for raw in listed if (d := self.observe(kind, "MODIFIED", raw)) is not None]
        for k in [k for k in self._known if k[0] == kind and k not in present]:
            self._known.pop(k)
            if kind != NAMESPACE:
                drifts.append(Drift(k[1], kind, k[2], DELETED))
        return drifts

    def forget(self, namespace: str) -> None:
        for k in [k for k in self._known if k[1] == namespace]:
            del self._known[k]
