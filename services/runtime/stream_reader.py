"""Reading back what a JetStream stream holds, with a throwaway pull consumer.

A pull consumer delivers nothing until asked, so its pending count at creation
is exactly what there is to read: one message per subject (the last), or every
message from a stream position on. Reading stops there, or at the first message
past `upto`: delivery is in stream order, so the rest are past it too (a live
feed that starts at `upto + 1` has them). The consumer is kept in memory only,
deleted when done (even when the reader is cancelled) and expires by itself if
that fails.
"""

import asyncio
import logging
from collections.abc import AsyncGenerator
from contextlib import aclosing
from typing import Final

import msgspec
from nats.aio.msg import Msg
from nats.js import JetStreamContext
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy

from services.contracts import wire
from services.contracts.events import StoreStatus

log = logging.getLogger(__name__)

FETCH_TIMEOUT_S: Final = 5.0
BATCH: Final = 256
INACTIVE_THRESHOLD_S: Final = 30.0


def reader_config(start: int | None) -> ConsumerConfig:
    """The last message per subject (`start` None), else every one from `start`."""
    return ConsumerConfig(
        deliver_policy=(
            DeliverPolicy.LAST_PER_SUBJECT if start is None else DeliverPolicy.BY_START_SEQUENCE
        ),
        opt_start_seq=start,
        ack_policy=AckPolicy.NONE,
        inactive_threshold=INACTIVE_THRESHOLD_S,
        mem_storage=True,
    )


async def read_stream(
    js: JetStreamContext,
    stream: str,
    subject: str,
    *,
    start: int | None = None,
    upto: int | None = None,
) -> AsyncGenerator[Msg, None]:
    """The messages of `stream` on `subject` (wildcards allowed), in stream order:
    the last per subject, or (with `start`) every one from stream position `start`;
    none past stream position `upto`. Use it under `contextlib.aclosing`, so that
    leaving early deletes the consumer at once."""
    sub = await js.pull_subscribe(subject, stream=stream, config=reader_config(start))
    info = await sub.consumer_info()
    try:
        pending = info.num_pending or 0
        while pending > 0:
            for msg in await sub.fetch(min(pending, BATCH), timeout=FETCH_TIMEOUT_S):
                pending = msg.metadata.num_pending
                if upto is not None and msg.metadata.sequence.stream > upto:
                    return
                yield msg
    finally:
        await _discard(js, stream, sub, info.name)


async def last_statuses(
    js: JetStreamContext, stream: str, subject: str, upto: int | None = None
) -> list[StoreStatus]:
    """The last StoreStatus on each subject matching `subject`, at or before `upto`."""
    statuses: list[StoreStatus] = []
    async with aclosing(read_stream(js, stream, subject, upto=upto)) as msgs:
        async for msg in msgs:
            status = decode_status(msg.data)
            if status is not None:
                statuses.append(status)
    return statuses


def decode_status(data: bytes) -> StoreStatus | None:
    """A StoreStatus, or None for another event or an undecodable message (logged)."""
    try:
        event = wire.decode_event(data)
    except msgspec.DecodeError:
        log.warning("undecodable status message skipped")
        return None
    return event if isinstance(event, StoreStatus) else None


async def _discard(
    js: JetStreamContext, stream: str, sub: JetStreamContext.PullSubscription, name: str
) -> None:
    """Unsubscribe and delete the consumer, even when the caller is cancelled."""
    try:
        await asyncio.shield(sub.unsubscribe())
        await asyncio.shield(js.delete_consumer(stream, name))
    except Exception as exc:
        log.debug(
            "stream reader cleanup failed",
            extra={"stream": stream, "consumer": name, "error": str(exc)},
        )
