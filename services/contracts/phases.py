"""Store lifecycle phases and the moves between them."""

from enum import StrEnum
from typing import Final


class Phase(StrEnum):
    PENDING = "pending"
    PROVISIONING = "provisioning"
    READY = "ready"
    DEGRADED = "degraded"
    FAILED = "failed"
    DELETING = "deleting"
    DELETED = "deleted"


TERMINAL: Final = frozenset({Phase.DELETED})
# Phases that count against a tenant's store quota and block re-creating the id.
LIVE: Final = frozenset(set(Phase) - {Phase.DELETED})
