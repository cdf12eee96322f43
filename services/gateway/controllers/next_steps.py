"""/api/v1/next-steps: the platform's one table of what to do about a failure
reason (services/contracts/next_steps.py), which the dashboard loads at start."""

from litestar import get

from services.contracts.next_steps import NEXT_STEPS, NextSteps


@get(
    "/api/v1/next-steps",
    tags=["stores"],
    summary="What a person can do about a failed or degraded store, by its reason",
    sync_to_thread=False,
)
def next_steps() -> NextSteps:
    return NEXT_STEPS
