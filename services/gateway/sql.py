"""What the repository needs from a database, whichever backend holds it.

SQL is written once, with `?` placeholders and syntax both SQLite and
PostgreSQL accept; each backend's `Conn` adapts placeholders and result shapes.
"""

from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

Dialect = Literal["sqlite", "postgresql"]


class Row(Protocol):
    """A result row, by column name or position (sqlite3.Row, asyncpg.Record)."""

    def __getitem__(self, key: str | int, /) -> Any: ...


class Conn(Protocol):
    dialect: Dialect

    async def execute(self, sql: str, *params: Any) -> int:
        """Run one statement; the number of rows it changed."""
        ...

    async def fetchone(self, sql: str, *params: Any) -> Row | None: ...

    async def fetchall(self, sql: str, *params: Any) -> list[Row]: ...


@dataclass
class OutboxBatch:
    """Unsent outbox rows this replica may publish; ids appended to `sent` are
    marked sent when the batch closes without an error."""

    rows: list[Row]
    sent: list[int] = field(default_factory=list)


class Backend(Protocol):
    """A gateway database: SQLite (`db.Database`) or PostgreSQL (`pg.PgDatabase`)."""

    @property
    def is_open(self) -> bool: ...

    @property
    def reader(self) -> Conn: ...

    async def open(self) -> None: ...

    async def close(self) -> None: ...

    def transaction(self, exclusive: bool = True) -> AbstractAsyncContextManager[Conn]:
        """A transaction, rolled back on any error. `exclusive` ones run one at a
        time across every replica (check-then-write sequences such as quotas);
        the others only insert or touch rows they alone address."""
        ...

    def claim_outbox(self, limit: int) -> AbstractAsyncContextManager[OutboxBatch]: ...
