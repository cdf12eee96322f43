"""StoreProgress events: what the provisioner did, on the store's progress subject."""

import logging
from collections.abc import Callable
from datetime import UTC, datetime

from nats.js import JetStreamContext

from services.contracts.backups import BackupStatus
from services.contracts.commands import Command
from services.contracts.events import StepState, StoreProgress
from services.contracts.phases import Phase
from services.contracts.subjects import EventKind, event_subject
from services.contracts.wire import encode

log = logging.getLogger(__name__)


def utcnow() -> datetime:
    return datetime.now(UTC)


class Progress:
    """Publishes through JetStream, so a step is recorded once it returns."""

    def __init__(self, js: JetStreamContext, clock: Callable[[], datetime] = utcnow) -> None:
        self.js = js
        self.clock = clock

    async def step(
        self,
        cmd: Command,
        step: str,
        state: StepState,
        message: str = "",
        phase: Phase | None = None,
    ) -> None:
        event = StoreProgress(
            tenant=cmd.tenant,
            store=cmd.store,
            generation=cmd.generation,
            command_id=cmd.command_id,
            step=step,
            state=state,
            at=self.clock(),
            message=message,
            phase=phase,
        )
        await self.js.publish(
            event_subject(cmd.tenant, cmd.store, EventKind.PROGRESS), encode(event)
        )
        log.info(
            "progress",
            extra={
                "store": cmd.store,
                "generation": cmd.generation,
                "step": step,
                "state": state.value,
                "detail": message,
            },
        )

    async def backup(self, status: BackupStatus) -> None:
        """A backup's state the cluster will never show (its Job was never made)."""
        subject = event_subject(status.tenant, status.store, EventKind.BACKUP)
        await self.js.publish(subject, encode(status))
