"""The outbox keeps sent commands a day (for an operator's look), then drops
them: at most once a minute, not after every publish."""

from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest

from services.gateway import repository as repo
from services.gateway.db import Database
from services.gateway.outbox import OutboxRelay


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    db = Database(str(tmp_path / "g.db"))
    await db.open()
    yield db
    await db.close()


async def _row(db: Database, command_id: str, sent_ago: timedelta | None) -> None:
    async with db.transaction() as conn:
        await repo.add_outbox(conn, command_id, "urumi.cmd.acme.shop", b"{}")
        if sent_ago is not None:
            sent = (repo.now() - sent_ago).isoformat()
            await conn.execute(
                "UPDATE outbox SET sent_at = ? WHERE command_id = ?", sent, command_id
            )


async def _ids(db: Database) -> list[str]:
    rows = await db.reader.fetchall("SELECT command_id FROM outbox ORDER BY id")
    return [r["command_id"] for r in rows]


async def test_sent_rows_older_than_a_day_go_and_pruning_waits_a_minute(db: Database) -> None:
    await _row(db, "old", timedelta(days=2))
    await _row(db, "recent", timedelta(hours=1))
    await _row(db, "unsent", None)
    relay = OutboxRelay(db)
    await relay.prune()
    assert await _ids(db) == ["recent", "unsent"]

    await _row(db, "old-too", timedelta(days=3))
    await relay.prune()  # within the minute: nothing is scanned
    assert await _ids(db) == ["recent", "unsent", "old-too"]
