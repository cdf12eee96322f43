"""What a re-apply restored, and why, from the object before and after it (pure).

A server-side apply that changes nothing leaves the resourceVersion as it was,
so an object that is new or has a new resourceVersion is one the re-apply had
to put back.
"""

from collections.abc import Mapping
from typing import Any, Final

from services.contracts.labels import FIELD_MANAGER

Obj = Mapping[str, Any]
DELETED: Final = "deleted outside Urumi"
CHANGED: Final = "changed outside Urumi"


def what_changed(before: Obj | None, after: Obj) -> str | None:
    """Why the re-apply wrote `after` ("deleted …", "changed … by X"), or None."""
    if before is None:
        return DELETED
    version = (before.get("metadata") or {}).get("resourceVersion")
    if version == (after.get("metadata") or {}).get("resourceVersion"):
        return None
    who = changed_by(before)
    return f"{CHANGED} by {who}" if who else CHANGED


def changed_by(obj: Obj) -> str:
    """The field manager that wrote the object last, other than Urumi and status
    writers: who most likely made the change ("" when none is recorded)."""
    entries = [
        e
        for e in (obj.get("metadata") or {}).get("managedFields") or []
        if e.get("manager") != FIELD_MANAGER and e.get("subresource", "") != "status"
    ]
    if not entries:
        return ""
    newest = max(entries, key=lambda e: str(e.get("time") or ""))
    return str(newest.get("manager") or "")
