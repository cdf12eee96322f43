"""Level-triggered check of the command work queue against its consumer.

A work queue drops a command once it is acknowledged, so every command it still
holds must be either ahead of the consumer or awaiting an ack. After an unclean
nats-server stop (SIGKILL, node loss) the consumer's state, written
asynchronously, can come back disagreeing with the stream: commands still stored
but at or below the consumer's ack floor are never delivered again (nats-server
issues 4736, 5679), and the same goes for commands it has no record of having
delivered. Redelivery alone cannot repair that, so the provisioner
looks at both sides and, when they disagree twice in a row, rebuilds the
consumer: a fresh one delivers every command the queue still holds. Each runs
under its store's lock, and one already handled is dropped as a duplicate
(`locking.Handled`), so nothing is applied twice.
"""

import asyncio
import contextlib
import logging
import random
from dataclasses import dataclass
from typing import Final

from nats.js import JetStreamContext
from nats.js.errors import NotFoundError
from prometheus_client import Counter

from services.contracts.streams import ConsumerDef
from services.runtime import bus
from services.runtime.shutdown import sleep_or_stop

log = logging.getLogger(__name__)

AUDIT_EVERY_S: Final = 20.0
REBUILDS: Final = Counter(
    "urumi_provisioner_consumer_rebuilds", "Times the command consumer was rebuilt"
)


@dataclass(frozen=True)
class QueueView:
    """The consumer's state, with the stream's read just before and just after it."""

    ack_floor: int  # the consumer's: every command up to this sequence is done
    unsettled: int  # commands the consumer has yet to deliver or to see acked
    messages: int  # commands the stream holds (the read after)
    first_seq: int  # the oldest of them
    steady: bool  # no command was published between the two stream reads


def stranded(view: QueueView) -> bool:
    """The queue holds a command the consumer will never deliver.

    Acks between the reads only shrink `messages`, so they cannot make a healthy
    queue look stranded; a publish between them could, hence `steady`.
    """
    if not view.steady or view.messages == 0:
        return False
    return view.first_seq <= view.ack_floor or view.messages > view.unsettled


class QueueAudit:
    def __init__(self, js: JetStreamContext, consumer: ConsumerDef) -> None:
        self.js = js
        self.consumer = consumer
        self._suspect = False

    async def view(self) -> QueueView:
        before = (await self.js.stream_info(self.consumer.stream)).state
        info = await self.js.consumer_info(self.consumer.stream, self.consumer.durable)
        after = (await self.js.stream_info(self.consumer.stream)).state
        return QueueView(
            ack_floor=info.ack_floor.stream_seq if info.ack_floor else 0,
            unsettled=(info.num_pending or 0) + (info.num_ack_pending or 0),
            messages=after.messages,
            first_seq=after.first_seq,
            steady=before.last_seq == after.last_seq,
        )

    async def check(self) -> bool:
        """One audit; True when it (re)built the consumer."""
        try:
            view = await self.view()
        except NotFoundError:  # a rebuild cut short by an outage, or a hand-deleted one
            log.warning("the command consumer is missing: creating it")
            await bus.ensure_consumer(self.js, self.consumer)
            return True
        if not stranded(view):
            self._suspect = False
            return False
        if not self._suspect:  # a second look before acting on it
            self._suspect = True
            return False
        self._suspect = False
        log.warning(
            "the consumer will never deliver some queued commands: rebuilding it",
            extra={
                "queued": view.messages,
                "unsettled": view.unsettled,
                "ack_floor": view.ack_floor,
            },
        )
        with contextlib.suppress(Exception):  # another replica may have done it already
            await self.js.delete_consumer(self.consumer.stream, self.consumer.durable)
        await bus.ensure_consumer(self.js, self.consumer)
        REBUILDS.inc()
        return True

    async def run(self, stop: asyncio.Event, every_s: float = AUDIT_EVERY_S) -> None:
        """Look at once (a provisioner restarted after an outage finds out soonest),
        then every `every_s`, with jitter so that replicas rarely look together."""
        while not stop.is_set():
            try:
                await self.check()
            except Exception as exc:  # NATS away: look again next time
                log.info("queue audit skipped", extra={"error": str(exc)})
            await sleep_or_stop(stop, every_s * random.uniform(0.75, 1.25))
