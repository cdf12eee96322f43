"""SQL for store backups. No HTTP here."""

from datetime import datetime

from services.contracts.backups import BackupState, BackupTrigger
from services.gateway.backups import BackupRow
from services.gateway.sql import Conn, Row


def _ts(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _time(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def _row(row: Row) -> BackupRow:
    return BackupRow(
        store=row["store_id"],
        id=row["id"],
        tenant=row["tenant_id"],
        trigger=BackupTrigger(row["trigger"]),
        state=BackupState(row["state"]),
        created_at=datetime.fromisoformat(row["created_at"]),
        observed_at=datetime.fromisoformat(row["observed_at"]),
        host=row["host"],
        size_bytes=row["size_bytes"],
        message=row["message"],
        started_at=_time(row["started_at"]),
        completed_at=_time(row["completed_at"]),
    )


async def get_backup(conn: Conn, store: str, backup: str) -> BackupRow | None:
    row = await conn.fetchone("SELECT * FROM backups WHERE store_id = ? AND id = ?", store, backup)
    return _row(row) if row else None


async def list_backups(conn: Conn, store: str, limit: int) -> list[BackupRow]:
    sql = "SELECT * FROM backups WHERE store_id = ? ORDER BY created_at DESC, id DESC LIMIT ?"
    return [_row(r) for r in await conn.fetchall(sql, store, limit)]


async def save_backup(conn: Conn, b: BackupRow) -> None:
    await conn.execute(
        "INSERT INTO backups (store_id, id, tenant_id, trigger, state, size_bytes, message, "
        "host, created_at, started_at, completed_at, observed_at) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (store_id, id) DO UPDATE SET "
        "state = excluded.state, size_bytes = excluded.size_bytes, message = excluded.message, "
        "started_at = excluded.started_at, completed_at = excluded.completed_at, "
        "observed_at = excluded.observed_at",
        b.store,
        b.id,
        b.tenant,
        b.trigger.value,
        b.state.value,
        b.size_bytes,
        b.message,
        b.host,
        _ts(b.created_at),
        _ts(b.started_at),
        _ts(b.completed_at),
        _ts(b.observed_at),
    )
