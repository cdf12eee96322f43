"""ReconcileStore: re-apply a store's current generation, restoring what changed
outside Urumi, and say what was restored (timeline and a Kubernetes Event).

The spec comes from the provisioner's own record of the CreateStore it last
applied per store (a KV bucket): the commands stream is a work queue, so an
applied command is gone from it, and the cluster's copy is what may have drifted.
"""

import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any

import msgspec
from nats.js.errors import KeyNotFoundError
from nats.js.kv import KeyValue

from services.contracts.commands import RESYNC, CreateStore, ReconcileStore
from services.contracts.events import StepState
from services.contracts.ids import namespace_for
from services.provisioner.apply import Applier, describe
from services.provisioner.fight import FightLimit
from services.provisioner.kube_events import record_event
from services.provisioner.ordering import Manifest, key
from services.provisioner.progress import Progress, utcnow
from services.provisioner.provision import Provisioner
from services.provisioner.restored import what_changed

log = logging.getLogger(__name__)

STEP = "restore"


class AppliedRecord(msgspec.Struct, frozen=True):
    """The last CreateStore applied to a store, and its restores since."""

    command: CreateStore
    restores: list[datetime] = []  # inside the fight window only
    last_restored: list[str] = []
    stopped: bool = False  # fought over: nothing restored until the next generation


class AppliedSpecs:
    def __init__(self, kv: KeyValue) -> None:
        self.kv = kv

    async def get(self, store: str) -> AppliedRecord | None:
        try:
            entry = await self.kv.get(store)
        except KeyNotFoundError:  # also covers a deleted key
            return None
        return msgspec.json.decode(entry.value or b"", type=AppliedRecord)

    async def put(self, store: str, record: AppliedRecord) -> None:
        await self.kv.put(store, msgspec.json.encode(record))

    async def forget(self, store: str) -> None:
        await self.kv.delete(store)


class SelfHealer:
    """Runs under the store's lock, like every command, so it never races an apply."""

    def __init__(
        self,
        provisioner: Provisioner,
        applied: AppliedSpecs,
        limit: FightLimit,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.provisioner = provisioner
        self.applier: Applier = provisioner.applier
        self.progress: Progress = provisioner.progress
        self.applied = applied
        self.limit = limit
        self.clock = clock

    async def remember(self, cmd: CreateStore) -> None:
        """A generation applied: what later reconciles restore (and a fresh fight count)."""
        await self.applied.put(cmd.store, AppliedRecord(command=cmd))

    async def forget(self, store: str) -> None:
        await self.applied.forget(store)

    async def reconcile(self, cmd: ReconcileStore) -> None:
        record = await self.applied.get(cmd.store)
        why_not = _not_restorable(cmd, record)
        live_ns = await self.applier.namespace(namespace_for(cmd.store))
        if why_not is None and (live_ns is None or live_ns["metadata"].get("deletionTimestamp")):
            why_not = "the store is deleted or being deleted"  # never resurrected
        if why_not is not None or record is None or live_ns is None:
            log.info("nothing restored", extra={"store": cmd.store, "why": why_not})
            return
        now = self.clock()
        recent = self.limit.recent(record.restores, now)
        if len(recent) >= self.limit.limit:
            # A resync saw no drift: only an ask for drift proves the fight goes on.
            if cmd.reason != RESYNC:
                await self._stop(cmd, msgspec.structs.replace(record, restores=recent))
            return
        try:
            restored = await self._restore(record.command, live_ns)
        except Exception:
            if await self._deleted(cmd.store):
                log.info("not restored: store deletion began", extra={"store": cmd.store})
                return
            raise
        if restored:
            names = [name for name, _, _ in restored]
            await self.applied.put(
                cmd.store,
                msgspec.structs.replace(record, restores=[*recent, now], last_restored=names),
            )
            await self._announce(cmd, restored)
        log.info(
            "reconciled",
            extra={"store": cmd.store, "asked": cmd.reason, "restored": len(restored)},
        )

    async def _deleted(self, store: str) -> bool:
        live = await self.applier.namespace(namespace_for(store))
        return live is None or bool(live["metadata"].get("deletionTimestamp"))

    async def _restore(
        self, cmd: CreateStore, live_ns: dict[str, Any]
    ) -> list[tuple[str, str, dict[str, Any]]]:
        """Apply every object of the generation; (name, why, object) of those it changed."""
        ns = namespace_for(cmd.store)
        manifests = await self.provisioner.manifests(cmd, live_ns)
        before: dict[tuple[str, str, str], Manifest] = {
            key(ref): obj for ref, obj in await self.applier.live_objects(ns, cmd.store)
        }
        before[key(manifests[0])] = live_ns
        restored = []
        for manifest in manifests:
            after = await self.applier.server_side_apply(manifest)
            why = what_changed(before.get(key(manifest)), after)
            if why is not None:
                restored.append((describe(manifest), why, after))
        return restored

    async def _announce(
        self, cmd: ReconcileStore, restored: list[tuple[str, str, dict[str, Any]]]
    ) -> None:
        for name, why, obj in restored:
            message = f"restored {name.replace('/', ' ', 1)}: {why}"
            await self.progress.step(cmd, STEP, StepState.SUCCEEDED, message)
            await record_event(self.applier.api, obj, "Restored", message, "Normal", self.clock())

    async def _stop(self, cmd: ReconcileStore, record: AppliedRecord) -> None:
        if record.stopped:
            return  # said once already
        message = self.limit.explain(record.last_restored)
        log.warning("self-healing stopped", extra={"store": cmd.store})
        await self.applied.put(cmd.store, msgspec.structs.replace(record, stopped=True))
        await self.progress.step(cmd, STEP, StepState.FAILED, message)
        live_ns = await self.applier.namespace(namespace_for(cmd.store))
        if live_ns is not None:
            await record_event(
                self.applier.api, live_ns, "RestoreStopped", message, "Warning", self.clock()
            )


def _not_restorable(cmd: ReconcileStore, record: AppliedRecord | None) -> str | None:
    if record is None:
        return "no applied generation recorded"
    if record.command.generation != cmd.generation:
        return f"generation {cmd.generation} is not the one applied last"
    if record.stopped:
        return "self-healing stopped for this generation (fought over)"
    return None
