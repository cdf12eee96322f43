"""Under steady writes the SQLite WAL is started over after each checkpoint,
instead of growing for as long as the writes go on (the disk fills)."""

import asyncio
import os
import time
from pathlib import Path

from services.gateway import repository as repo
from services.gateway.db import Database

WRITE_EVERY_S = 0.002
WRITING_S = 3.0


async def _write_steadily(db: Database) -> int:
    """Outbox rows, one transaction each, without a pause long enough for a
    checkpoint to catch up on its own; the number written."""
    written = 0
    until = time.monotonic() + WRITING_S
    while time.monotonic() < until:
        async with db.transaction() as conn:
            await repo.add_outbox(conn, f"cmd-{written}", "urumi.cmd.acme.shop", os.urandom(2000))
        written += 1
        await asyncio.sleep(WRITE_EVERY_S)
    return written


async def test_the_wal_stays_small_while_writes_never_pause(tmp_path: Path) -> None:
    db = Database(str(tmp_path / "g.db"), checkpoint_every_s=0.2)
    await db.open()
    try:
        written = await _write_steadily(db)
        wal = (tmp_path / "g.db-wal").stat().st_size
    finally:
        await db.close()

    # Each write puts several pages in the WAL (the row, its indexes), ≈ 25 KiB:
    # never started over, the WAL holds them all; started over, the last 0.2 s.
    assert written > 300
    assert wal < written * 4096, f"{wal} bytes of WAL after {written} writes"
    db = Database(str(tmp_path / "g.db"))
    await db.open()
    try:
        rows = await db.reader.fetchall("SELECT count(*) FROM outbox")
        assert rows[0][0] == written
    finally:
        await db.close()
