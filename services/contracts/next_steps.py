"""What a person can do about a failed or degraded store, by the state's reason.

The one table every reader uses: the terminal client prints from it, and the
gateway serves it as JSON (``GET /api/v1/next-steps``) for the dashboard to load
at start. A reason is the watcher's Kubernetes reason (services/watcher/status.py)
or, for a failure only the provisioner saw, the name of its step that failed
(see store_state.fold).
"""

from typing import Final

import msgspec


class NextSteps(msgspec.Struct, frozen=True):
    reasons: dict[str, str]
    default: str


_IMAGE: Final = (
    "The store's software image could not be downloaded. Delete this store and create "
    "it again; if it keeps happening, contact support."
)

NEXT_STEPS: Final = NextSteps(
    reasons={
        "ImagePullBackOff": _IMAGE,
        "ErrImagePull": _IMAGE,
        "CrashLoopBackOff": "Part of the store keeps crashing; its Kubernetes events say why. "
        "Delete the store and create it again; if it repeats, contact support with the "
        "store id.",
        "JobFailed": "Setting up the store (installing the shop and its sample products) "
        "failed. Delete the store and create it again.",
        "CreateContainerConfigError": "The store is misconfigured on our side. Contact "
        "support with the store id.",
        "CreateContainerError": "The store could not be started on our side. Contact "
        "support with the store id.",
        "Unschedulable": "The platform has no room for this plan right now. Delete the "
        "store and try a smaller plan, or try again later.",
        "DeadlineExceeded": "Setting up took longer than it should. Delete the store and "
        "create it again.",
        # The provisioner's steps whose failure fails the store (services/provisioner/
        # consumer.py); a failed `delete` leaves it deleting.
        "provision": "Urumi could not create the store's resources. Delete it and try "
        "again; if it repeats, contact support with the store id.",
        "restore": "Urumi could not restore the store's resources. Delete it and create it "
        "again; if it repeats, contact support with the store id.",
    },
    default="Delete this store and create it again. If it fails again, contact support "
    "with the store id and the reason given.",
)


def next_step(reason: str) -> str:
    return NEXT_STEPS.reasons.get(reason, NEXT_STEPS.default)
