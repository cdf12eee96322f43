"""SQLite backend: one writer on the event loop, one reader in a thread; WAL lets
them overlap.

One process only (the chart refuses more replicas on SQLite), so every
transaction is exclusive and the outbox needs no row locks.

Why the writer runs on the event loop: a transaction is a handful of indexed
statements of a few rows (tens of microseconds each, statements prepared once
and cached by the connection), while handing each statement to a worker thread
and its result back cost more than the statement itself — a create used to
make ~20 such hops. What could make a write slow is a WAL checkpoint (it writes
the database file and fsyncs it), so the writer never checkpoints: a thread of
its own does, on a connection of its own (`PASSIVE`: it never blocks a writer).
Reads that may return many rows (a page of 1,000 stores) go to the reader's
thread, one hop per statement.
"""

import asyncio
import logging
import sqlite3
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager, suppress
from pathlib import Path
from typing import Any, Final, TypeVar

from services.gateway import repository as repo
from services.gateway.migrations import MIGRATIONS, for_sqlite
from services.gateway.sql import Dialect, OutboxBatch, Row

log = logging.getLogger(__name__)

T = TypeVar("T")

# How often the checkpoint thread copies the WAL into the database file. At
# 200 creates/s a second of WAL is a few hundred pages; SQLite's own default
# (run by the committing writer) is every 1,000 pages.
CHECKPOINT_EVERY_S: Final = 1.0
# Prepared statements each connection keeps (the repository has ~100 distinct ones).
STATEMENT_CACHE: Final = 256


class SqliteConn:
    """The writer: statements run right here, on the event loop."""

    dialect: Dialect = "sqlite"

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn

    async def execute(self, sql: str, *params: Any) -> int:
        return self.conn.execute(sql, params).rowcount

    async def fetchone(self, sql: str, *params: Any) -> Row | None:
        row: Row | None = self.conn.execute(sql, params).fetchone()
        return row

    async def fetchall(self, sql: str, *params: Any) -> list[Row]:
        return self.conn.execute(sql, params).fetchall()


class ThreadedConn:
    """The reader: each statement, with its fetch, is one hop to its own thread."""

    dialect: Dialect = "sqlite"

    def __init__(self, conn: sqlite3.Connection, thread: ThreadPoolExecutor) -> None:
        self.conn = conn
        self._thread = thread

    async def _run(self, fn: Callable[[], T]) -> T:
        return await asyncio.get_running_loop().run_in_executor(self._thread, fn)

    async def execute(self, sql: str, *params: Any) -> int:
        return await self._run(lambda: self.conn.execute(sql, params).rowcount)

    async def fetchone(self, sql: str, *params: Any) -> Row | None:
        row: Row | None = await self._run(lambda: self.conn.execute(sql, params).fetchone())
        return row

    async def fetchall(self, sql: str, *params: Any) -> list[Row]:
        return await self._run(lambda: self.conn.execute(sql, params).fetchall())


def _connect(path: str, autocheckpoint: bool) -> sqlite3.Connection:
    conn = sqlite3.connect(
        path, isolation_level=None, check_same_thread=False, cached_statements=STATEMENT_CACHE
    )
    conn.row_factory = sqlite3.Row
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    conn.execute("PRAGMA foreign_keys=ON")
    conn.execute("PRAGMA busy_timeout=5000")
    if not autocheckpoint:
        conn.execute("PRAGMA wal_autocheckpoint=0")
    return conn


class Database:
    def __init__(self, path: str, checkpoint_every_s: float = CHECKPOINT_EVERY_S) -> None:
        self.path = path
        self.checkpoint_every_s = checkpoint_every_s
        self._writer: SqliteConn | None = None
        self._reader: ThreadedConn | None = None
        self._checkpointer: sqlite3.Connection | None = None
        self._threads: list[ThreadPoolExecutor] = []
        self._checkpoints: asyncio.Task[None] | None = None
        self._lock = asyncio.Lock()

    async def open(self) -> None:
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        writer = _connect(self.path, autocheckpoint=False)
        migrate(writer)
        self._writer = SqliteConn(writer)
        read_thread = ThreadPoolExecutor(1, thread_name_prefix="sqlite-reader")
        checkpoint_thread = ThreadPoolExecutor(1, thread_name_prefix="sqlite-checkpoint")
        self._threads = [read_thread, checkpoint_thread]
        self._reader = ThreadedConn(_connect(self.path, autocheckpoint=True), read_thread)
        self._checkpointer = _connect(self.path, autocheckpoint=True)
        self._checkpoints = asyncio.create_task(self._checkpoint_forever(checkpoint_thread))

    async def _checkpoint_forever(self, thread: ThreadPoolExecutor) -> None:
        """Copy the WAL into the database file, then let the next write start the
        WAL over. A write can start it over only once every frame is copied, and
        under steady writes new frames always arrive while the copy runs: the WAL
        then grew without end (100 MB in 10 s at 200 creates/s). So after the bulk
        copy, a second pass copies what came meanwhile with writes held back (they
        wait on the loop; nothing blocks it): a few milliseconds a second."""
        loop = asyncio.get_running_loop()
        while True:
            await asyncio.sleep(self.checkpoint_every_s)
            try:
                await loop.run_in_executor(thread, self._checkpoint)
                async with self._lock:
                    await loop.run_in_executor(thread, self._checkpoint)
            except sqlite3.Error as exc:
                log.warning("WAL checkpoint failed; will retry", extra={"error": repr(exc)})

    def _checkpoint(self) -> None:
        if self._checkpointer is not None:
            self._checkpointer.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()

    async def close(self) -> None:
        if self._checkpoints is not None:
            self._checkpoints.cancel()
            with suppress(asyncio.CancelledError):
                await self._checkpoints
        for thread in self._threads:
            thread.shutdown(wait=True)
        for conn in (self._checkpointer, self._reader, self._writer):
            if conn is not None:
                (conn if isinstance(conn, sqlite3.Connection) else conn.conn).close()
        self._reader = self._writer = self._checkpointer = self._checkpoints = None
        self._threads = []

    @property
    def is_open(self) -> bool:
        return self._writer is not None

    @property
    def reader(self) -> ThreadedConn:
        assert self._reader is not None, "database not open"
        return self._reader

    @asynccontextmanager
    async def transaction(self, exclusive: bool = True) -> AsyncIterator[SqliteConn]:
        """BEGIN IMMEDIATE … COMMIT, rolled back on any error; one at a time."""
        assert self._writer is not None, "database not open"
        conn = self._writer.conn
        async with self._lock:
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield self._writer
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")

    @asynccontextmanager
    async def claim_outbox(self, limit: int) -> AsyncIterator[OutboxBatch]:
        # A short indexed read on the writer (under its lock: never inside another
        # coroutine's open transaction); publishing happens outside the lock.
        assert self._writer is not None, "database not open"
        async with self._lock:
            rows = await repo.unsent_outbox(self._writer, limit)
        batch = OutboxBatch(rows)
        yield batch
        if batch.sent:
            async with self.transaction() as conn:
                await repo.mark_sent(conn, batch.sent)


def migrate(conn: sqlite3.Connection) -> None:
    row = conn.execute("PRAGMA user_version").fetchone()
    version = int(row[0]) if row else 0
    for number, migration in enumerate(MIGRATIONS[version:], start=version + 1):
        script = for_sqlite(migration)
        conn.executescript(f"BEGIN;\n{script}\nPRAGMA user_version={number};\nCOMMIT;")
