"""NATS connection and idempotent JetStream setup from the contract definitions."""

import asyncio
import logging
from typing import Final

import nats
from nats.aio.client import Client
from nats.js import JetStreamContext
from nats.js.api import (
    AckPolicy,
    ConsumerConfig,
    DeliverPolicy,
    KeyValueConfig,
    RetentionPolicy,
    StorageType,
    StreamConfig,
)
from nats.js.errors import NotFoundError
from nats.js.kv import KeyValue

from services.contracts.streams import STREAMS, BucketDef, ConsumerDef, Retention, StreamDef
from services.runtime.backoff import Backoff, BackoffPolicy
from services.runtime.settings import Settings
from services.runtime.shutdown import sleep_or_stop

log = logging.getLogger(__name__)

# One client of a server that is starting or restarting: no replicas to spread out.
CONNECT_RETRY: Final = BackoffPolicy(base_s=0.2, cap_s=5.0, jitter=False)

_RETENTION: Final = {
    Retention.WORK_QUEUE: RetentionPolicy.WORK_QUEUE,
    Retention.LIMITS: RetentionPolicy.LIMITS,
}


async def connect(url: str, name: str, stop: asyncio.Event | None = None) -> Client:
    """Connect, retrying until NATS answers (or `stop` is set); reconnect forever after.

    Replies come to `_INBOX_<name>.>`, so NATS can keep one service from reading
    another's replies (credentials travel as a reply).
    """
    if stop is None:
        stop = asyncio.Event()  # never set: wait for NATS however long it takes
    backoff = Backoff(CONNECT_RETRY)
    while True:
        try:
            return await nats.connect(
                url,
                name=name,
                inbox_prefix=f"_INBOX_{name}",
                allow_reconnect=True,
                max_reconnect_attempts=-1,
                reconnect_time_wait=1,
                connect_timeout=2,
                disconnected_cb=_on_disconnect,
                reconnected_cb=_on_reconnect,
                error_cb=_on_error,
            )
        except Exception as exc:
            if stop.is_set():
                raise
            log.warning("nats unreachable, retrying", extra={"url": url, "error": str(exc)})
            await sleep_or_stop(stop, backoff.failed())


async def _on_disconnect() -> None:
    log.warning("nats disconnected")


async def _on_reconnect() -> None:
    log.info("nats reconnected")


async def _on_error(exc: Exception) -> None:
    log.warning("nats error", extra={"error": str(exc)})


def stream_config(d: StreamDef, replicas: int = 1) -> StreamConfig:
    return StreamConfig(
        name=d.name,
        subjects=list(d.subjects),
        retention=_RETENTION[d.retention],
        storage=StorageType.FILE,
        duplicate_window=d.duplicate_window_s,
        max_age=d.max_age_s or None,
        max_bytes=d.max_bytes,
        max_msg_size=d.max_msg_size,
        max_consumers=d.max_consumers,
        num_replicas=replicas,
    )


def consumer_config(d: ConsumerDef) -> ConsumerConfig:
    return ConsumerConfig(
        durable_name=d.durable,
        filter_subjects=list(d.filter_subjects),
        ack_policy=AckPolicy.EXPLICIT,
        deliver_policy=DeliverPolicy.ALL,
        ack_wait=d.ack_wait_s,
        max_deliver=d.max_deliver,
        max_ack_pending=d.max_ack_pending,
    )


async def ensure_streams(
    js: JetStreamContext, defs: tuple[StreamDef, ...] = STREAMS, replicas: int = 1
) -> None:
    """Create each stream, or bring an existing one to the declared config."""
    for d in defs:
        config = stream_config(d, replicas)
        try:
            await js.stream_info(d.name)
        except NotFoundError:
            await js.add_stream(config)
        else:
            await js.update_stream(config)


async def ensure_consumer(js: JetStreamContext, d: ConsumerDef) -> None:
    """Create or update a durable consumer (NATS ≥ 2.10 updates in place)."""
    await js.add_consumer(d.stream, consumer_config(d))


async def ensure_bucket(js: JetStreamContext, d: BucketDef, replicas: int = 1) -> KeyValue:
    try:
        return await js.key_value(d.name)
    except Exception:  # nats-py raises BucketNotFoundError or NotFoundError by version
        return await js.create_key_value(
            KeyValueConfig(bucket=d.name, ttl=d.ttl_s, history=d.history, replicas=replicas)
        )


async def prepare_streams(js: JetStreamContext, settings: Settings, stop: asyncio.Event) -> bool:
    """Create or update the streams, or, where another service owns them (production
    NATS permissions allow stream changes to the gateway only), wait for them.

    True when they are ready; False when `stop` came first (the caller shuts down)."""
    if settings.manage_streams:
        await ensure_streams(js, replicas=settings.jetstream_replicas)
        return True
    for d in STREAMS:
        while True:
            try:
                await js.stream_info(d.name)
                break
            except NotFoundError:
                if stop.is_set():
                    return False
                log.info("waiting for stream", extra={"stream": d.name})
                await sleep_or_stop(stop, 1)
    return True
