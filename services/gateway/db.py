"""SQLite backend: one writer behind a lock, one reader; WAL lets them overlap.

One process only (the chart refuses more replicas on SQLite), so every
transaction is exclusive and the outbox needs no row locks.
"""

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import aiosqlite

from services.gateway import repository as repo
from services.gateway.migrations import MIGRATIONS
from services.gateway.sql import Dialect, OutboxBatch, Row


class SqliteConn:
    dialect: Dialect = "sqlite"

    def __init__(self, conn: aiosqlite.Connection) -> None:
        self.conn = conn

    async def execute(self, sql: str, *params: Any) -> int:
        async with self.conn.execute(sql, params) as cur:
            return cur.rowcount

    async def fetchone(self, sql: str, *params: Any) -> Row | None:
        async with self.conn.execute(sql, params) as cur:
            row: Row | None = await cur.fetchone()
            return row

    async def fetchall(self, sql: str, *params: Any) -> list[Row]:
        async with self.conn.execute(sql, params) as cur:
            return list(await cur.fetchall())


class Database:
    def __init__(self, path: str) -> None:
        self.path = path
        self._writer: SqliteConn | None = None
        self._reader: SqliteConn | None = None
        self._lock = asyncio.Lock()

    async def open(self) -> None:
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        writer = await self._connect()
        await migrate(writer)
        self._writer = SqliteConn(writer)
        self._reader = SqliteConn(await self._connect())

    async def _connect(self) -> aiosqlite.Connection:
        conn = await aiosqlite.connect(self.path, isolation_level=None)
        conn.row_factory = aiosqlite.Row
        await conn.execute("PRAGMA journal_mode=WAL")
        await conn.execute("PRAGMA synchronous=NORMAL")
        await conn.execute("PRAGMA foreign_keys=ON")
        await conn.execute("PRAGMA busy_timeout=5000")
        return conn

    async def close(self) -> None:
        for wrapped in (self._reader, self._writer):
            if wrapped is not None:
                await wrapped.conn.close()
        self._reader = self._writer = None

    @property
    def is_open(self) -> bool:
        return self._writer is not None

    @property
    def reader(self) -> SqliteConn:
        assert self._reader is not None, "database not open"
        return self._reader

    @asynccontextmanager
    async def transaction(self, exclusive: bool = True) -> AsyncIterator[SqliteConn]:
        """BEGIN IMMEDIATE … COMMIT, rolled back on any error; one at a time."""
        assert self._writer is not None, "database not open"
        conn = self._writer.conn
        async with self._lock:
            await conn.execute("BEGIN IMMEDIATE")
            try:
                yield self._writer
            except BaseException:
                await conn.execute("ROLLBACK")
                raise
            await conn.execute("COMMIT")

    @asynccontextmanager
    async def claim_outbox(self, limit: int) -> AsyncIterator[OutboxBatch]:
        # Read outside the writer lock: publishing must not hold up the API.
        batch = OutboxBatch(await repo.unsent_outbox(self.reader, limit))
        yield batch
        if batch.sent:
            async with self.transaction() as conn:
                await repo.mark_sent(conn, batch.sent)


async def migrate(conn: aiosqlite.Connection) -> None:
    async with conn.execute("PRAGMA user_version") as cur:
        row = await cur.fetchone()
    version = int(row[0]) if row else 0
    for number, script in enumerate(MIGRATIONS[version:], start=version + 1):
        await conn.executescript(f"BEGIN;\n{script}\nPRAGMA user_version={number};\nCOMMIT;")
