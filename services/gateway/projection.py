"""A store row's projection: the shared fold (contracts.store_state), saved only
when it changes something a reader sees."""

import msgspec

from services.contracts.events import StoreProgress, StoreStatus
from services.contracts.store_state import StoreState, fold


def apply(current: StoreState, event: StoreStatus | StoreProgress) -> StoreState | None:
    """The new projection, or None when the event changes nothing."""
    merged = fold(current, event)
    return None if merged is None or _same(merged, current) else merged


def _same(a: StoreState, b: StoreState) -> bool:
    return msgspec.structs.replace(a, updated_at=None) == msgspec.structs.replace(
        b, updated_at=None
    )
