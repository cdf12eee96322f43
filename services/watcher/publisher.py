"""Publish StoreStatus (only when it changed) and KubeEvents to URUMI_EVENTS."""

import logging
from collections.abc import Iterable

from nats.js import JetStreamContext

from services.contracts import wire
from services.contracts.backups import BackupStatus
from services.contracts.events import KubeEvent, StoreStatus
from services.contracts.ids import namespace_for
from services.contracts.streams import EVENTS
from services.contracts.subjects import EventKind, event_subject
from services.watcher import metrics
from services.watcher.backups import same_report
from services.watcher.status import same_status

log = logging.getLogger(__name__)

PUBLISH_TIMEOUT_S = 5.0


class Publisher:
    def __init__(self, js: JetStreamContext) -> None:
        self.js = js
        self._last: dict[str, StoreStatus] = {}  # namespace → last status acknowledged
        self._backups: dict[tuple[str, str], BackupStatus] = {}  # (store, backup) → last sent

    def previous(self, namespace: str) -> StoreStatus | None:
        return self._last.get(namespace)

    def prime(self, statuses: Iterable[StoreStatus]) -> None:
        """Start from what the stream holds (taking over, or a fresh start)."""
        self._last = {namespace_for(s.store): s for s in statuses}

    def known(self) -> dict[str, StoreStatus]:
        return dict(self._last)

    async def status(self, namespace: str, status: StoreStatus, *, force: bool = False) -> bool:
        """Publish when different from the last one (or `force`); True if sent."""
        if not force and same_status(self._last.get(namespace), status):
            return False
        subject = event_subject(status.tenant, status.store, EventKind.STATUS)
        await self.js.publish(
            subject, wire.encode(status), stream=EVENTS.name, timeout=PUBLISH_TIMEOUT_S
        )
        self._last[namespace] = status
        metrics.STATUSES.labels(status.phase.value).inc()
        log.info(
            "status",
            extra={
                "store": status.store,
                "tenant": status.tenant,
                "phase": status.phase.value,
                "generation": status.generation,
                "reason": status.reason,
            },
        )
        return True

    async def kube_event(self, event: KubeEvent, msg_id: str) -> None:
        subject = event_subject(event.tenant, event.store, EventKind.KUBE)
        await self.js.publish(
            subject,
            wire.encode(event),
            stream=EVENTS.name,
            timeout=PUBLISH_TIMEOUT_S,
            headers={"Nats-Msg-Id": msg_id},
        )

    async def backups(self, reports: Iterable[BackupStatus]) -> None:
        """Publish each backup's report that changed since the last one sent (after
        a restart or a take-over, each once more: the gateway's fold ignores repeats)."""
        for report in reports:
            key = (report.store, report.backup)
            if same_report(self._backups.get(key), report):
                continue
            subject = event_subject(report.tenant, report.store, EventKind.BACKUP)
            await self.js.publish(
                subject, wire.encode(report), stream=EVENTS.name, timeout=PUBLISH_TIMEOUT_S
            )
            self._backups[key] = report
            log.info(
                "backup",
                extra={"store": report.store, "backup": report.backup, "state": report.state.value},
            )
