"""JetStream streams, durable consumers and KV buckets, declared in one place.

Plain data: `services.runtime.bus` turns these into nats-py configs.
"""

from enum import StrEnum
from typing import Final

import msgspec

from services.contracts import subjects


class Retention(StrEnum):
    WORK_QUEUE = "workqueue"
    LIMITS = "limits"


class StreamDef(msgspec.Struct, frozen=True):
    name: str
    subjects: tuple[str, ...]
    retention: Retention
    duplicate_window_s: float
    max_age_s: float = 0
    max_bytes: int = -1
    max_msg_size: int = 64 * 1024
    # -1: the server's default, which nats-server >= 2.15 caps at 1,000 per stream
    # (and -1 does not opt out: only a positive number does).
    max_consumers: int = -1


class ConsumerDef(msgspec.Struct, frozen=True):
    stream: str
    durable: str
    filter_subjects: tuple[str, ...]
    ack_wait_s: float
    max_deliver: int
    max_ack_pending: int


class BucketDef(msgspec.Struct, frozen=True):
    name: str
    ttl_s: float
    history: int = 1


DAY: Final = 24 * 3600.0

COMMANDS: Final = StreamDef(
    name="URUMI_COMMANDS",
    subjects=(subjects.COMMANDS_ALL,),
    retention=Retention.WORK_QUEUE,
    duplicate_window_s=15 * 60,
)

# Statuses are the snapshot source for the notifier, so they are kept a month;
# a store that changes nothing for longer is re-announced by the watcher on start.
# Every notifier websocket has its own ephemeral consumer on this stream, so the
# consumer limit is the platform's limit on open sockets (docs/benchmarks.md).
EVENTS: Final = StreamDef(
    name="URUMI_EVENTS",
    subjects=(subjects.EVENTS_ALL,),
    retention=Retention.LIMITS,
    duplicate_window_s=2 * 60,
    max_age_s=30 * DAY,
    max_bytes=1024**3,
    max_consumers=100_000,
)

STREAMS: Final = (COMMANDS, EVENTS)

PROVISIONER: Final = ConsumerDef(
    stream=COMMANDS.name,
    durable="provisioner",
    filter_subjects=(subjects.COMMANDS_ALL,),
    ack_wait_s=60,
    max_deliver=-1,
    max_ack_pending=256,
)

GATEWAY_PROJECTOR: Final = ConsumerDef(
    stream=EVENTS.name,
    durable="gateway-projector",
    filter_subjects=(subjects.EVENTS_ALL,),
    ack_wait_s=30,
    max_deliver=-1,
    max_ack_pending=1024,
)

WATCHER_LEASE: Final = BucketDef(name="urumi-watcher-lease", ttl_s=10)

# Per-store mutual exclusion across provisioner replicas: a key per store,
# created to take it, refreshed by compare-and-swap; a crashed holder's key
# expires with the bucket TTL.
PROVISIONER_LOCKS: Final = BucketDef(name="urumi-provisioner-locks", ttl_s=30)
# Newest command handled per store (no TTL): older ones, and that one delivered
# again, are dropped.
PROVISIONER_GENERATIONS: Final = BucketDef(name="urumi-provisioner-generations", ttl_s=0)
# The CreateStore last applied per store (no TTL), with its recent restores: what a
# ReconcileStore re-applies, and how often it already had to.
PROVISIONER_APPLIED: Final = BucketDef(name="urumi-provisioner-applied", ttl_s=0)
