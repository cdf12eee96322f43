"""Per-store locks on a real nats-server KV bucket (services/provisioner/locking.py)."""

from nats.js import JetStreamContext

from services.contracts.streams import PROVISIONER_LOCKS
from services.provisioner.locking import StoreLock
from services.runtime import bus


async def test_a_held_store_is_refused_to_others_and_free_once_released(
    js: JetStreamContext,
) -> None:
    kv = await bus.ensure_bucket(js, PROVISIONER_LOCKS)
    mine, theirs = StoreLock(kv, "shop", "replica-a"), StoreLock(kv, "shop", "replica-b")
    assert await mine.acquire()
    assert not await theirs.acquire()
    await mine.release()
    assert await theirs.acquire()
    await theirs.release()


async def test_a_refresh_that_landed_unanswered_does_not_keep_the_store_locked(
    js: JetStreamContext,
) -> None:
    """NATS applied a refresh whose reply was lost (an outage): the holder's
    revision is old, and its release must still free the store at once, not
    after the bucket's TTL."""
    kv = await bus.ensure_bucket(js, PROVISIONER_LOCKS)
    lock = StoreLock(kv, "shop", "replica-a")
    assert await lock.acquire()
    entry = await kv.get("shop")
    await kv.update("shop", entry.value or b"", last=entry.revision)  # the unanswered refresh
    await lock.release()
    other = StoreLock(kv, "shop", "replica-b")
    assert await other.acquire(), f"still locked for {PROVISIONER_LOCKS.ttl_s}s"
    await other.release()
