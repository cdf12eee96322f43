"""The outbox relay on real NATS JetStream and each database backend: a round's
commands reach the stream in the order they were committed; a command JetStream
refuses stays unsent and does not hold back the others; a command relayed twice
is stored once."""

from collections.abc import AsyncIterator

import pytest
from nats.js import JetStreamContext

from services.contracts import streams
from services.gateway import repository as repo
from services.gateway.db import Database
from services.gateway.outbox import OutboxRelay
from services.gateway.pg import PgDatabase
from services.gateway.sql import Backend

# No stream captures this subject: JetStream answers that nothing stored it.
NOWHERE = "urumi.nowhere.acme.shop"


@pytest.fixture
async def db(gateway_database: str) -> AsyncIterator[Backend]:
    pg = gateway_database.startswith("postgresql://")
    db: Backend = PgDatabase(gateway_database) if pg else Database(gateway_database)
    await db.open()
    yield db
    await db.close()


async def _commit(db: Backend, *commands: tuple[str, str]) -> None:
    async with db.transaction() as conn:
        for command_id, subject in commands:
            await repo.add_outbox(conn, command_id, subject, command_id.encode())


async def _unsent(db: Backend) -> list[str]:
    rows = await db.reader.fetchall(
        "SELECT command_id FROM outbox WHERE sent_at IS NULL ORDER BY id"
    )
    return [r["command_id"] for r in rows]


async def _stored(js: JetStreamContext, count: int) -> list[str]:
    """The payloads of the commands stream's first `count` messages, in stream order."""
    info = await js.stream_info(streams.COMMANDS.name)
    assert info.state.messages == count
    first = info.state.first_seq
    got = [await js.get_msg(streams.COMMANDS.name, first + i) for i in range(count)]
    return [(m.data or b"").decode() for m in got]


async def test_a_round_reaches_the_stream_in_commit_order(
    db: Backend, js: JetStreamContext
) -> None:
    ids = [f"cmd-{i:03d}" for i in range(60)]
    await _commit(db, *((c, f"urumi.cmd.acme.shop-{c}") for c in ids))

    assert await OutboxRelay(db).flush(js) == 60

    assert await _stored(js, 60) == ids
    assert await _unsent(db) == []


async def test_a_refused_command_stays_unsent_and_the_rest_go(
    db: Backend, js: JetStreamContext
) -> None:
    await _commit(db, ("first", "urumi.cmd.acme.one"), ("refused", NOWHERE))
    await _commit(db, ("last", "urumi.cmd.acme.two"))
    relay = OutboxRelay(db)

    with pytest.raises(Exception, match="no response from stream"):
        await relay.flush(js)

    assert await _stored(js, 2) == ["first", "last"]
    assert await _unsent(db) == ["refused"]


async def test_a_command_relayed_again_is_stored_once(db: Backend, js: JetStreamContext) -> None:
    await _commit(db, ("once", "urumi.cmd.acme.one"))
    relay = OutboxRelay(db)
    await relay.flush(js)
    # As after a crash between the publish and the mark: the row is unsent again.
    async with db.transaction() as conn:
        await conn.execute("UPDATE outbox SET sent_at = NULL")

    assert await relay.flush(js) == 1

    assert await _stored(js, 1) == ["once"]
    assert await _unsent(db) == []
