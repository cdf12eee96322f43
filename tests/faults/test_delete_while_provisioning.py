"""Stores deleted while they are still being provisioned — before any provisioner
has seen the create, once provisioning has started, and in the middle of the
apply — end `deleted` with nothing left in the cluster, and nothing is applied
after the delete began."""

import asyncio

from kubernetes_asyncio.client import ApiClient

from tests.faults.platform import (
    PlatformHarness,
    applied_after_delete,
    assert_no_leak,
    commands_drained,
    namespace_exists,
    new_id,
    progress_events,
)
from tests.fixtures.waiting import eventually
from tests.integration.provisioner_support import ProgressLog


async def test_stores_deleted_while_provisioning(
    platform: PlatformHarness, kube: ApiClient
) -> None:
    p = platform
    assert p.nc is not None
    log = await ProgressLog().start(p.nc)
    queued, started, mid_apply = new_id("gone-queued"), new_id("gone-started"), new_id("gone-mid")

    # Both commands on the queue before any provisioner has seen the create.
    await asyncio.to_thread(p.stack.running("provisioner")[0].stop)
    await p.create(queued)
    await p.delete(queued)
    await asyncio.to_thread(p.stack.add, "provisioner")

    await p.create(started)

    async def provisioning() -> bool:
        phase: str = (await p.store(started))["phase"]
        return phase == "provisioning"

    await eventually(provisioning, 60, interval=0.1, what=f"{started} provisioning")
    await p.delete(started)

    await p.create(mid_apply)

    async def applying() -> bool:
        return sum(1 for e in log.of(mid_apply) if e.step == "apply") >= 1

    await eventually(applying, 60, interval=0.05, what=f"{mid_apply} half applied")
    await p.delete(mid_apply)

    stores = [queued, started, mid_apply]
    await p.wait_phase(stores, "deleted", within=120)
    await eventually(
        lambda: commands_drained(p.js), 60, interval=0.5, what="every command handled and acked"
    )
    events = await progress_events(p.js, p.tenant)
    for store in stores:
        assert (await p.store(store))["phase"] == "deleted"
        assert not applied_after_delete(events, store), store
        assert not await namespace_exists(kube, store), f"{store}: left in the cluster"
    assert any(e.step == "apply" for e in log.of(mid_apply))

    assert_no_leak(await p.leak_scan())
