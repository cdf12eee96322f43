"""SIGKILL the provisioner in the middle of a 20-store burst, delete two stores
while it is down, restart it: every other store ends `ready` with its Secret
created exactly once, and nothing is applied for the deleted ones."""

import asyncio

from kubernetes_asyncio.client import ApiClient

from services.contracts.events import StepState, StoreProgress
from services.contracts.ids import namespace_for
from tests.faults.platform import (
    PlatformHarness,
    applied_after_delete,
    assert_no_leak,
    commands_drained,
    namespace_exists,
    new_id,
    progress_events,
    provision_check,
    unacked_commands,
)
from tests.fixtures.waiting import eventually
from tests.integration.provisioner_support import ProgressLog


def stores_with(log: ProgressLog, step: str, state: StepState) -> set[str]:
    return {e.store for e in log.events if e.step == step and e.state == state}


async def test_provisioner_sigkilled_mid_burst(platform: PlatformHarness, kube: ApiClient) -> None:
    p = platform
    assert p.nc is not None
    log = await ProgressLog().start(p.nc)
    victim = p.stack.running("provisioner")[0]
    at_kill: dict[str, set[str]] = {}

    def kill_mid_apply(_: StoreProgress) -> None:
        """SIGKILL (synchronously, between two steps it reports) once a few stores
        are done and another has its Secret but is not done yet."""
        if at_kill:
            return
        done = stores_with(log, "provision", StepState.SUCCEEDED)
        with_secret = stores_with(log, "secret", StepState.SUCCEEDED) - done
        if len(done) >= 3 and with_secret:
            victim.kill()
            started = stores_with(log, "provision", StepState.STARTED)
            at_kill.update(done=done, in_flight=started - done, with_secret=with_secret)

    log.callbacks.append(kill_mid_apply)
    stores = [new_id(f"burst{i:02d}") for i in range(20)]
    await asyncio.gather(*(p.create(s) for s in stores))
    await eventually(lambda: bool(at_kill), 180, interval=0.5, what="the kill mid-burst")
    assert not victim.alive()
    # Acknowledged commands leave the work queue; what is left may run again.
    unacked = await unacked_commands(p.js)

    # Delete, while no provisioner runs, a store whose command died mid-apply (it is
    # redelivered after the ack wait, after the delete) and one not yet started or,
    # if every store had started, one that was done.
    not_started = [s for s in stores if s not in at_kill["in_flight"] | at_kill["done"]]
    died = sorted(at_kill["with_secret"] & unacked or at_kill["with_secret"])
    doomed = [died[0], (not_started or sorted(at_kill["done"]))[0]]
    for store in doomed:
        await p.delete(store)
    await asyncio.to_thread(p.stack.add, "provisioner")
    live = [s for s in stores if s not in doomed]
    # What the test saw lags the victim by a few ms: count only what it left unacked.
    assert (at_kill["in_flight"] & unacked) - set(doomed), "no surviving store was mid-apply"

    # The dead process's commands come back after the consumer's ack wait (60 s).
    await p.wait_phase(live, "ready", within=240)
    await p.wait_phase(doomed, "deleted", within=120)
    await eventually(
        lambda: commands_drained(p.js), 120, interval=0.5, what="every command handled and acked"
    )

    events = await progress_events(p.js, p.tenant)
    problems = [problem for s in live for problem in provision_check(events, s, s in unacked)]
    assert not problems, problems
    for store in live:
        versions = p.secrets.versions.get(namespace_for(store), set())
        assert len(versions) == 1, f"{store}: Secret versions {versions}"
    # The stores killed after their Secret was made kept it when re-applied.
    for store in (at_kill["with_secret"] & unacked) - set(doomed):
        kept = [e for e in events if e.store == store and e.step == "secret"]
        assert [e.message for e in kept][-1] == "existing credentials kept", kept
    for store in doomed:
        assert not applied_after_delete(events, store), store
        assert not await namespace_exists(kube, store), f"{store}: objects left behind"

    assert_no_leak(await p.leak_scan())
