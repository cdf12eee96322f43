"""Versioned schema, written in SQLite's dialect; `pg.to_postgres` adapts it.
A migration the two cannot share (triggers) is a `PerDialect` pair.

SQLite records how far a file has come in `PRAGMA user_version`, PostgreSQL in
the `schema_version` table.
"""

from typing import Final, NamedTuple


class PerDialect(NamedTuple):
    sqlite: str
    postgresql: str  # as PostgreSQL takes it (no `to_postgres`)


Migration = str | PerDialect


def for_sqlite(migration: Migration) -> str:
    return migration.sqlite if isinstance(migration, PerDialect) else migration


# 12: `tenants.live_stores`, the tenant's stores in any phase but `deleted`,
# kept by triggers on every write to `stores` (whichever code path or replica
# makes it), so the quota check of a create reads one row instead of counting
# the tenant's stores (a create cost ~0.1 ms per 1,000 stores).
_LIVE_STORES_SQLITE: Final = """
    ALTER TABLE tenants ADD COLUMN live_stores INTEGER NOT NULL DEFAULT 0;
    UPDATE tenants SET live_stores = (SELECT COUNT(*) FROM stores
        WHERE stores.tenant_id = tenants.id AND stores.phase != 'deleted');
    CREATE TRIGGER stores_live_insert AFTER INSERT ON stores WHEN NEW.phase != 'deleted'
    BEGIN
        UPDATE tenants SET live_stores = live_stores + 1 WHERE id = NEW.tenant_id;
    END;
    CREATE TRIGGER stores_live_delete AFTER DELETE ON stores WHEN OLD.phase != 'deleted'
    BEGIN
        UPDATE tenants SET live_stores = live_stores - 1 WHERE id = OLD.tenant_id;
    END;
    CREATE TRIGGER stores_live_update AFTER UPDATE OF phase, tenant_id ON stores
    WHEN (OLD.phase = 'deleted') != (NEW.phase = 'deleted') OR OLD.tenant_id != NEW.tenant_id
    BEGIN
        UPDATE tenants SET live_stores = live_stores - 1
            WHERE id = OLD.tenant_id AND OLD.phase != 'deleted';
        UPDATE tenants SET live_stores = live_stores + 1
            WHERE id = NEW.tenant_id AND NEW.phase != 'deleted';
    END;
"""
_LIVE_STORES_POSTGRESQL: Final = """
    ALTER TABLE tenants ADD COLUMN live_stores BIGINT NOT NULL DEFAULT 0;
    UPDATE tenants SET live_stores = (SELECT COUNT(*) FROM stores
        WHERE stores.tenant_id = tenants.id AND stores.phase != 'deleted');
    CREATE FUNCTION urumi_count_live_stores() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP IN ('UPDATE', 'DELETE') AND OLD.phase != 'deleted' THEN
            UPDATE tenants SET live_stores = live_stores - 1 WHERE id = OLD.tenant_id;
        END IF;
        IF TG_OP IN ('UPDATE', 'INSERT') AND NEW.phase != 'deleted' THEN
            UPDATE tenants SET live_stores = live_stores + 1 WHERE id = NEW.tenant_id;
        END IF;
        RETURN NULL;
    END $$;
    CREATE TRIGGER stores_live_insert_delete AFTER INSERT OR DELETE ON stores
        FOR EACH ROW EXECUTE FUNCTION urumi_count_live_stores();
    CREATE TRIGGER stores_live_update AFTER UPDATE OF phase, tenant_id ON stores
        FOR EACH ROW WHEN ((OLD.phase = 'deleted') IS DISTINCT FROM (NEW.phase = 'deleted')
            OR OLD.tenant_id IS DISTINCT FROM NEW.tenant_id)
        EXECUTE FUNCTION urumi_count_live_stores();
"""

MIGRATIONS: Final[tuple[Migration, ...]] = (
    """
    CREATE TABLE tenants (
        id TEXT PRIMARY KEY,
        display_name TEXT NOT NULL DEFAULT '',
        max_stores INTEGER NOT NULL,
        created_at TEXT NOT NULL
    );
    CREATE TABLE tokens (
        hash TEXT PRIMARY KEY,
        tenant_id TEXT NOT NULL REFERENCES tenants(id),
        created_at TEXT NOT NULL
    );
    CREATE TABLE stores (
        id TEXT PRIMARY KEY,
        tenant_id TEXT NOT NULL REFERENCES tenants(id),
        engine TEXT NOT NULL,
        plan TEXT NOT NULL,
        display_name TEXT NOT NULL,
        phase TEXT NOT NULL,
        generation INTEGER NOT NULL,
        first_generation INTEGER NOT NULL,
        url TEXT NOT NULL DEFAULT '',
        reason TEXT NOT NULL DEFAULT '',
        message TEXT NOT NULL DEFAULT '',
        conditions TEXT NOT NULL DEFAULT '[]',
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL
    );
    CREATE INDEX stores_by_tenant ON stores (tenant_id, id);
    CREATE TABLE store_events (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        stream_seq INTEGER UNIQUE,
        store_id TEXT NOT NULL,
        generation INTEGER NOT NULL,
        type TEXT NOT NULL,
        at TEXT NOT NULL,
        body TEXT NOT NULL
    );
    CREATE INDEX store_events_by_store ON store_events (store_id, seq);
    CREATE TABLE outbox (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        command_id TEXT NOT NULL UNIQUE,
        subject TEXT NOT NULL,
        payload BLOB NOT NULL,
        created_at TEXT NOT NULL,
        sent_at TEXT
    );
    CREATE INDEX outbox_unsent ON outbox (id) WHERE sent_at IS NULL;
    CREATE TABLE audit (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        at TEXT NOT NULL,
        actor TEXT NOT NULL,
        action TEXT NOT NULL,
        target TEXT NOT NULL,
        source TEXT NOT NULL,
        status_code INTEGER NOT NULL,
        result TEXT NOT NULL
    );
    """,
    # 2: plans can change; volumes keep the size of the plan a store was created with.
    """
    ALTER TABLE stores ADD COLUMN storage_plan TEXT NOT NULL DEFAULT '';
    UPDATE stores SET storage_plan = plan;
    """,
    # 3: when a store was first ready, so POST → ready is measured once per
    # store. Stores already past it count as ready before the upgrade.
    """
    ALTER TABLE stores ADD COLUMN ready_at TEXT;
    UPDATE stores SET ready_at = updated_at WHERE phase IN ('ready', 'degraded');
    """,
    # 4: rate limit buckets, shared by every replica (a limit kept per replica
    # would be the limit times the replicas). `at` is in seconds since the epoch.
    """
    CREATE TABLE rate_buckets (
        key TEXT PRIMARY KEY,
        tokens REAL NOT NULL,
        at REAL NOT NULL
    );
    """,
    # 5: the engine release a store runs. '' for stores made before releases
    # existed: they run the catalog's `legacy` release of their engine.
    """
    ALTER TABLE stores ADD COLUMN release TEXT NOT NULL DEFAULT '';
    """,
    # 6: every generation's spec, so a store can return to its previous one
    # (a rollback). `cause`: create, update, rollback or auto-rollback; a failed
    # auto-rollback is never rolled back again. Live stores start with their
    # current spec.
    """
    CREATE TABLE store_specs (
        store_id TEXT NOT NULL,
        generation INTEGER NOT NULL,
        plan TEXT NOT NULL,
        display_name TEXT NOT NULL,
        release TEXT NOT NULL,
        cause TEXT NOT NULL,
        at TEXT NOT NULL,
        PRIMARY KEY (store_id, generation)
    );
    INSERT INTO store_specs (store_id, generation, plan, display_name, release, cause, at)
        SELECT id, generation, plan, display_name, release, 'create', updated_at FROM stores
        WHERE phase NOT IN ('deleting', 'deleted');
    """,
    # 7: fleet upgrades: every store of an engine moved to one release in waves,
    # driven from these rows (so a restart of any service loses nothing).
    """
    CREATE TABLE fleets (
        id TEXT PRIMARY KEY,
        engine TEXT NOT NULL,
        to_release TEXT NOT NULL,
        wave_size INTEGER NOT NULL,
        max_failures INTEGER NOT NULL,
        store_timeout_s INTEGER NOT NULL,
        state TEXT NOT NULL,
        wave INTEGER NOT NULL,
        waves INTEGER NOT NULL,
        actor TEXT NOT NULL,
        message TEXT NOT NULL DEFAULT '',
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL
    );
    CREATE TABLE fleet_members (
        fleet_id TEXT NOT NULL REFERENCES fleets(id),
        store_id TEXT NOT NULL,
        tenant_id TEXT NOT NULL,
        wave INTEGER NOT NULL,
        from_release TEXT NOT NULL,
        state TEXT NOT NULL,
        generation INTEGER NOT NULL DEFAULT 0,
        reason TEXT NOT NULL DEFAULT '',
        started_at TEXT,
        PRIMARY KEY (fleet_id, store_id)
    );
    CREATE INDEX fleet_members_upgrading ON fleet_members (store_id, generation)
        WHERE state = 'upgrading';
    """,
    # 8: sleeping stores. 1 while the store's spec has it asleep (its workloads
    # at zero replicas, its host on the platform's "asleep" page); a sleep or a
    # wake is a generation of its own, not a spec change a rollback returns to.
    """
    ALTER TABLE stores ADD COLUMN asleep INTEGER NOT NULL DEFAULT 0;
    """,
    # 9: store backups, one row per backup Job (its name is the id): asked for
    # here (pending) or first seen by the watcher (scheduled), then as the watcher
    # reports it. Kept when the store is deleted, so it can still be cloned.
    """
    CREATE TABLE backups (
        store_id TEXT NOT NULL,
        id TEXT NOT NULL,
        tenant_id TEXT NOT NULL,
        trigger TEXT NOT NULL,
        state TEXT NOT NULL,
        size_bytes INTEGER NOT NULL DEFAULT 0,
        message TEXT NOT NULL DEFAULT '',
        host TEXT NOT NULL DEFAULT '',
        created_at TEXT NOT NULL,
        started_at TEXT,
        completed_at TEXT,
        observed_at TEXT NOT NULL,
        PRIMARY KEY (store_id, id)
    );
    """,
    # 10: a store on its own domains. `store_domains`: one row per domain (unique
    # across tenants), its ownership token, its state and the last DNS check,
    # driven from here by every replica. `stores.domains`: the JSON list of the
    # verified domains in the store's spec (routed to it, the first its address).
    """
    ALTER TABLE stores ADD COLUMN domains TEXT NOT NULL DEFAULT '[]';
    CREATE TABLE store_domains (
        domain TEXT PRIMARY KEY,
        store_id TEXT NOT NULL,
        tenant_id TEXT NOT NULL,
        token TEXT NOT NULL,
        state TEXT NOT NULL,
        reason TEXT NOT NULL DEFAULT '',
        dns_ok INTEGER NOT NULL DEFAULT 0,
        dns_problem TEXT NOT NULL DEFAULT '',
        checked_at TEXT,
        routed_generation INTEGER NOT NULL DEFAULT 0,
        applied INTEGER NOT NULL DEFAULT 0,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL
    );
    CREATE INDEX store_domains_by_store ON store_domains (store_id, created_at);
    """,
    # 11: auto-sleep. `stores.last_visit_at`: the store's last visit the platform
    # saw (the ingress controller's counters through the watcher, its asleep
    # page), its creation or its last wake, whichever is latest; a plan's idle
    # limit counts from it. A store made before counts from its last change.
    """
    ALTER TABLE stores ADD COLUMN last_visit_at TEXT NOT NULL DEFAULT '';
    UPDATE stores SET last_visit_at = updated_at;
    """,
    PerDialect(_LIVE_STORES_SQLITE, _LIVE_STORES_POSTGRESQL),
)
