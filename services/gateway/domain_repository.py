"""SQL for a store's own domains (table `store_domains`). No HTTP here."""

from datetime import datetime

from services.contracts.domains import DomainState
from services.gateway.domains import DomainRecord
from services.gateway.sql import Conn, Row

_COLUMNS = (
    "domain, store_id, tenant_id, token, state, reason, dns_ok, dns_problem, checked_at, "
    "routed_generation, applied, created_at, updated_at"
)


def _ts(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _record(row: Row) -> DomainRecord:
    checked_at = row["checked_at"]
    return DomainRecord(
        domain=row["domain"],
        store=row["store_id"],
        tenant=row["tenant_id"],
        token=row["token"],
        state=DomainState(row["state"]),
        reason=row["reason"],
        dns_ok=bool(row["dns_ok"]),
        dns_problem=row["dns_problem"],
        checked_at=datetime.fromisoformat(checked_at) if checked_at else None,
        routed_generation=row["routed_generation"],
        applied=bool(row["applied"]),
        created_at=datetime.fromisoformat(row["created_at"]),
        updated_at=datetime.fromisoformat(row["updated_at"]),
    )


async def get_domain(conn: Conn, domain: str) -> DomainRecord | None:
    sql = f"SELECT {_COLUMNS} FROM store_domains WHERE domain = ?"  # noqa: S608
    row = await conn.fetchone(sql, domain)
    return _record(row) if row else None


async def store_domains(conn: Conn, store_id: str) -> list[DomainRecord]:
    """The store's domains in the order they were added."""
    sql = (
        f"SELECT {_COLUMNS} FROM store_domains WHERE store_id = ? "  # noqa: S608
        "ORDER BY created_at, domain"
    )
    return [_record(r) for r in await conn.fetchall(sql, store_id)]


async def all_domains(conn: Conn) -> list[DomainRecord]:
    sql = f"SELECT {_COLUMNS} FROM store_domains ORDER BY domain"  # noqa: S608
    return [_record(r) for r in await conn.fetchall(sql)]


async def put_domain(conn: Conn, d: DomainRecord) -> None:
    """Write the domain's row (a new domain, or one settled; its identity and
    token never change)."""
    sql = (
        f"INSERT INTO store_domains ({_COLUMNS}) "  # noqa: S608
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (domain) DO UPDATE SET "
        "state = excluded.state, reason = excluded.reason, dns_ok = excluded.dns_ok, "
        "dns_problem = excluded.dns_problem, checked_at = excluded.checked_at, "
        "routed_generation = excluded.routed_generation, applied = excluded.applied, "
        "updated_at = excluded.updated_at"
    )
    await conn.execute(
        sql,
        d.domain,
        d.store,
        d.tenant,
        d.token,
        d.state.value,
        d.reason,
        int(d.dns_ok),
        d.dns_problem,
        _ts(d.checked_at),
        d.routed_generation,
        int(d.applied),
        _ts(d.created_at),
        _ts(d.updated_at),
    )


async def remove_domain(conn: Conn, domain: str) -> None:
    await conn.execute("DELETE FROM store_domains WHERE domain = ?", domain)
