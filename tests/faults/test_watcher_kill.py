"""Two watchers; SIGKILL the active one while stores are being provisioned: the
standby takes the lease over and every store's final status (`ready`) arrives."""

import asyncio
import json
from datetime import UTC, datetime

from services.contracts import streams
from services.contracts.events import StoreStatus
from services.contracts.phases import Phase
from services.contracts.subjects import EventKind, event_subject
from services.contracts.wire import decode_event
from services.devtools.procs import ServiceProcess
from services.watcher.lease import KEY
from tests.faults.platform import PlatformHarness, assert_no_leak, new_id
from tests.fixtures.waiting import eventually
from tests.integration.provisioner_support import ProgressLog


async def lease_holder(p: PlatformHarness) -> ServiceProcess | None:
    """The watcher process whose id the lease names (`<host>-<pid>-<nonce>`)."""
    kv = await p.js.key_value(streams.WATCHER_LEASE.name)
    holder = (await kv.get(KEY)).value or b""
    pid = int(holder.decode().rsplit("-", 2)[1])
    return next((w for w in p.stack.running("watcher") if w.proc and w.proc.pid == pid), None)


async def last_status(p: PlatformHarness, store: str) -> StoreStatus:
    subject = event_subject(p.tenant, store, EventKind.STATUS)
    msg = await p.js.get_last_msg(streams.EVENTS.name, subject)
    status = decode_event(msg.data or b"")
    assert isinstance(status, StoreStatus)
    return status


async def test_active_watcher_sigkilled_during_provisioning(platform: PlatformHarness) -> None:
    p = platform
    assert p.nc is not None
    await asyncio.to_thread(p.stack.add, "watcher")
    active: ServiceProcess = await eventually(
        lambda: lease_holder(p), 30, interval=0.5, what="a watcher holds the lease"
    )
    standby = next(w for w in p.stack.running("watcher") if w is not active)

    log = await ProgressLog().start(p.nc)
    stores = [new_id(f"watch{i}") for i in range(8)]
    await asyncio.gather(*(p.create(s) for s in stores))

    async def under_way() -> bool:
        return sum(1 for e in log.events if e.step == "apply") >= 3

    await eventually(under_way, 60, interval=0.5, what="provisioning under way")
    assert not any(phase == "ready" for phase in (await p.phases()).values())
    active.kill()
    killed_at = datetime.now(UTC)

    # The lease's TTL (10 s) runs out, then the standby takes over and catches up.
    await p.wait_phase(stores, "ready", within=120)
    assert await lease_holder(p) is standby
    statuses = [await last_status(p, s) for s in stores]
    assert all((s.phase, s.generation) == (Phase.READY, 1) for s in statuses), statuses
    assert all(s.observed_at > killed_at for s in statuses), "ready before the kill?"

    assert_no_leak(await p.leak_scan())
    standby_log = (p.root / "logs" / "watcher-1.log").read_text().splitlines()
    acquired = [json.loads(line)["ts"] for line in standby_log if "lease acquired" in line]
    took = (datetime.fromisoformat(acquired[-1]) - killed_at).total_seconds()
    assert 0 < took <= streams.WATCHER_LEASE.ttl_s + 5, f"standby active {took:.1f}s after"
