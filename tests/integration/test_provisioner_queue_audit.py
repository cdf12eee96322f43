"""The provisioner's queue audit against a real nats-server: a consumer whose state
has moved past commands the work queue still holds is rebuilt, and they arrive;
a healthy queue under load is left alone."""

import asyncio
import shutil
from pathlib import Path

import pytest
from nats.aio.msg import Msg
from nats.js import JetStreamContext

from services.contracts.streams import PROVISIONER
from services.contracts.wire import decode_command
from services.devtools.natsserver import NatsServer
from services.provisioner.queue_audit import QueueAudit
from services.runtime import bus
from tests.integration import provisioner_support as ps


async def _fetch(js: JetStreamContext, n: int, wait: float = 5.0) -> list[Msg]:
    sub = await js.pull_subscribe_bind(durable=PROVISIONER.durable, stream=PROVISIONER.stream)
    try:
        return await sub.fetch(n, timeout=wait)
    finally:
        await sub.unsubscribe()


async def fetch_stores(js: JetStreamContext, n: int) -> list[str]:
    return [decode_command(m.data).store for m in await _fetch(js, n)]


async def test_commands_the_consumer_skipped_past_are_delivered_after_a_rebuild(
    tmp_path: Path,
) -> None:
    server = NatsServer(tmp_path / "nats")
    server.start()
    try:
        stores = await _strand_commands(server)
        nc = await bus.connect(server.url, "tests")
        js = nc.jetstream()
        with pytest.raises(TimeoutError):  # stuck: nats-server will not deliver them
            await _fetch(js, 3, wait=1.0)
        audit = QueueAudit(js, PROVISIONER)
        assert not await audit.check(), "acted on a single look"
        assert await audit.check(), "did not rebuild on the second look"
        assert sorted(await fetch_stores(js, 3)) == sorted(stores)
        assert not await audit.check() and not await audit.check(), "rebuilt a healthy one"
        await nc.close()
    finally:
        server.stop()


async def _strand_commands(server: NatsServer) -> list[str]:
    """What an unclean stop can leave behind: the consumer's state saved after it
    acknowledged three commands, the stream's files from before they were removed."""
    nc = await bus.connect(server.url, "tests")
    js = nc.jetstream()
    await bus.ensure_streams(js)
    await bus.ensure_consumer(js, PROVISIONER)
    stores = [ps.store_id("stranded") for _ in range(3)]
    for store in stores:
        await ps.publish(js, ps.create(store))
    await nc.close()
    server.stop()
    msgs = next(server.store_dir.rglob(f"streams/{PROVISIONER.stream}/msgs"))
    saved = msgs.with_name("msgs-saved")
    shutil.copytree(msgs, saved)
    server.start()
    nc = await bus.connect(server.url, "tests")
    js = nc.jetstream()
    for msg in await _fetch(js, 3):
        await msg.ack_sync()
    await nc.close()
    server.stop()
    shutil.rmtree(msgs)
    saved.rename(msgs)
    server.start()
    return stores


async def test_a_busy_healthy_queue_is_left_alone(js: JetStreamContext) -> None:
    await bus.ensure_consumer(js, PROVISIONER)
    for _ in range(4):
        await ps.publish(js, ps.create(ps.store_id("busy")))
    sub = await js.pull_subscribe_bind(durable=PROVISIONER.durable, stream=PROVISIONER.stream)
    held = await sub.fetch(3, timeout=5)  # in flight: delivered, not yet acked
    await held[0].ack_sync()
    await held[1].nak(delay=30)  # waiting for its redelivery

    async def publishing() -> None:
        while True:
            await ps.publish(js, ps.create(ps.store_id("busy")))
            await asyncio.sleep(0.01)

    publisher = asyncio.create_task(publishing())
    try:
        audit = QueueAudit(js, PROVISIONER)
        rebuilt = [await audit.check() for _ in range(20)]
    finally:
        publisher.cancel()
    assert not any(rebuilt)
    info = await js.consumer_info(PROVISIONER.stream, PROVISIONER.durable)
    assert info.num_ack_pending == 2, "the consumer was replaced: in-flight work forgotten"


async def test_a_missing_consumer_is_created_again(js: JetStreamContext) -> None:
    """A rebuild cut short between delete and create must not stop provisioning."""
    await bus.ensure_consumer(js, PROVISIONER)
    store = ps.store_id("orphan")
    await ps.publish(js, ps.create(store))
    await js.delete_consumer(PROVISIONER.stream, PROVISIONER.durable)
    assert await QueueAudit(js, PROVISIONER).check()
    assert await fetch_stores(js, 1) == [store]
