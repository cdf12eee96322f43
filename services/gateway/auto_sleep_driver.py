"""Auto-sleep, level-triggered from the database alone.

Every gateway replica runs it while any plan has an idle limit
(URUMI_AUTO_SLEEP_AFTER). A pass reads the awake stores (no lock), then puts
each one idle past its plan's limit to sleep in a transaction of its own that
reads it again: the same next generation, outbox command and audit row as its
owner's `POST …/sleep`, as `system:auto-sleep`. A visit or a wake recorded
meanwhile, or a second replica's pass, leaves it as it is.
"""

import asyncio
import logging
from datetime import timedelta

from services.contracts.store import Plan
from services.gateway import auto_sleep, spec_changes
from services.gateway import repository as repo
from services.gateway.deps import GatewayDeps
from services.gateway.passes import run_passes

log = logging.getLogger(__name__)

# The longest between two passes; a shorter limit (a test's) is checked a few
# times within it.
LONGEST_PASS_S = 60.0


async def run_auto_sleep(deps: GatewayDeps, stop: asyncio.Event) -> None:
    limits = deps.settings.auto_sleep_limits()
    if not limits:
        return  # no plan sleeps on its own
    interval = min(LONGEST_PASS_S, min(limits.values()).total_seconds() / 4)
    await run_passes(
        "auto-sleep",
        lambda: drive(deps, limits),
        asyncio.Event(),  # nothing but time makes a store idle
        deps.outbox.wake,
        stop,
        interval_s=interval,
    )


async def drive(deps: GatewayDeps, limits: dict[Plan, timedelta]) -> bool:
    """One pass over the awake stores; whether it put any to sleep."""
    now = repo.now()
    idle = [
        s.id
        for s in await repo.awake_stores(deps.db.reader)
        if auto_sleep.idle_limit(s, limits, now)
    ]
    changed = False
    for store_id in idle:
        changed |= await _put_to_sleep(deps, store_id, limits)
    return changed


async def _put_to_sleep(deps: GatewayDeps, store_id: str, limits: dict[Plan, timedelta]) -> bool:
    async with deps.db.transaction() as conn:
        store = await repo.get_store(conn, store_id)
        limit = None if store is None else auto_sleep.idle_limit(store, limits, repo.now())
        if store is None or limit is None:
            return False  # visited, woken, slept or deleted meanwhile
        asleep = auto_sleep.put_to_sleep(store, limit)
        if asleep is None:
            return False
        why = f"no visit for {auto_sleep.describe(limit)}"
        action = f"sleep store at generation {asleep.generation}: {why}"
        await spec_changes.regenerated(conn, asleep, auto_sleep.AUTO_SLEEP_ACTOR, action)
    log.info("store put to sleep", extra={"store": store_id, "why": why})
    return True
