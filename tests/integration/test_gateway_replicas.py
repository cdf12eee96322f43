"""Three gateway replicas on one PostgreSQL: every call served by any of them,
nothing lost or doubled when one dies, limits held in total."""

import asyncio
import itertools
import time
import uuid

import httpx
from nats.js import JetStreamContext

from services.contracts import streams
from services.contracts.events import StepState
from services.devtools.natsserver import NatsServer
from services.devtools.procs import ServiceProcess
from services.gateway.migrations import MIGRATIONS
from services.gateway.pg import PgDatabase
from tests.fixtures.postgres import PostgresServer
from tests.fixtures.processes import StartService
from tests.fixtures.waiting import eventually
from tests.integration.gateway_support import auth, gateway_env, new_tenant, query
from tests.integration.provisioner_support import ProgressLog

REPLICAS = 3
KILL_BURST = 90  # creates in flight over the three replicas
KILL_AFTER = 15  # accepted creates before the first replica is SIGKILLed


def _replicas(
    start_service: StartService, nats_url: str, database: str, **extra: str
) -> list[ServiceProcess]:
    env = gateway_env(nats_url, database, **extra)
    started = [start_service("gateway", env, wait=False) for _ in range(REPLICAS)]
    for replica in started:
        replica.wait_ready()
    return started


async def _commands_per_store(js: JetStreamContext) -> dict[str, int]:
    """How many commands JetStream holds for each store (subject `…<tenant>.<store>`)."""
    info = await js.stream_info(streams.COMMANDS.name, subjects_filter=">")
    return {subject.rsplit(".", 1)[-1]: n for subject, n in (info.state.subjects or {}).items()}


async def _commands_stored(js: JetStreamContext) -> int:
    """How many commands the stream has ever stored (its last sequence): a work
    queue drops each one its consumer acks, so what it still holds undercounts."""
    info = await js.stream_info(streams.COMMANDS.name)
    return int(info.state.last_seq)


async def test_creates_spread_over_replicas_are_stored_published_and_audited_once(
    nats_server: NatsServer,
    js: JetStreamContext,
    start_service: StartService,
    postgres_server: PostgresServer,
) -> None:
    database = postgres_server.new_database()
    replicas = _replicas(
        start_service, nats_server.url, database, URUMI_RATE_LIMIT_PER_MINUTE="100000"
    )
    token = await new_tenant(replicas[0].base_url, "acme", max_stores=1000)
    ids = [f"shop-{n:03d}" for n in range(300)]
    turn = itertools.cycle(replicas)
    async with httpx.AsyncClient(headers=auth(token), timeout=30) as http:
        for start in range(0, len(ids), 30):
            answers = await asyncio.gather(
                *(
                    http.post(f"{next(turn).base_url}/api/v1/stores", json={"id": i})
                    for i in ids[start : start + 30]
                )
            )
            assert {r.status_code for r in answers} == {202}, [r.text for r in answers]

    async def all_published() -> dict[str, int] | None:
        found = await _commands_per_store(js)
        return found if len(found) == len(ids) else None

    published = await eventually(all_published, within=60, what="300 commands published")
    assert published == dict.fromkeys(ids, 1)
    assert await query(database, "SELECT COUNT(*) FROM stores") == [(300,)]
    audit = await query(
        database,
        "SELECT status_code, COUNT(*) FROM audit WHERE action = 'POST /api/v1/stores' "
        "GROUP BY status_code",
    )
    assert audit == [(202, 300)]


async def test_a_replica_killed_mid_burst_loses_and_doubles_nothing(
    nats_server: NatsServer,
    js: JetStreamContext,
    start_service: StartService,
    postgres_server: PostgresServer,
    provisioner: None,
    progress: ProgressLog,
    stores: list[str],
) -> None:
    """Every create a client saw accepted is published once and provisioned once,
    though a replica died with requests and transactions in flight."""
    database = postgres_server.new_database()
    replicas = _replicas(
        start_service, nats_server.url, database, URUMI_RATE_LIMIT_PER_MINUTE="100000"
    )
    token = await new_tenant(replicas[0].base_url, "acme", max_stores=1000)
    before = await _commands_stored(js)
    burst = [f"kill-{uuid.uuid4().hex[:6]}-{n:03d}" for n in range(KILL_BURST)]
    accepted: list[str] = []
    kill_now = asyncio.Event()

    async def create(http: httpx.AsyncClient, replica: ServiceProcess, store: str) -> None:
        try:
            r = await http.post(f"{replica.base_url}/api/v1/stores", json={"id": store})
        except httpx.HTTPError:
            return  # the killed replica: not accepted, as far as the client knows
        if r.status_code == 202:
            accepted.append(store)
            if len(accepted) == KILL_AFTER:
                kill_now.set()

    async with httpx.AsyncClient(headers=auth(token), timeout=30) as http:
        tasks = [
            asyncio.create_task(create(http, replicas[n % REPLICAS], store))
            for n, store in enumerate(burst)
        ]
        await kill_now.wait()
        replicas[0].kill()  # SIGKILL: no shutdown, its transactions cut off
        await asyncio.gather(*tasks)
    survivors = {store for n, store in enumerate(burst) if n % REPLICAS}
    assert survivors <= set(accepted)  # the others kept serving throughout

    stored = {row[0] for row in await query(database, "SELECT id FROM stores")}
    stores.extend(stored)

    # The provisioner consumes the queue meanwhile: count what was stored.
    async def every_store_published() -> bool:
        return await _commands_stored(js) - before >= len(stored)

    await eventually(every_store_published, within=60, what="every store published")
    assert set(accepted) <= stored

    def provisioned(store: str) -> bool:
        return progress.has(store, "provision", StepState.SUCCEEDED, 1)

    await eventually(
        lambda: all(map(provisioned, stored)), within=240, what="every store provisioned"
    )
    starts = {
        s: sum(e.step == "provision" and e.state == StepState.STARTED for e in progress.of(s))
        for s in stored
    }
    assert starts == dict.fromkeys(stored, 1)  # no command applied twice
    # One command stored per store: a re-publish of a row the killed replica
    # sent but never marked was dropped by its Nats-Msg-Id.
    assert await _commands_stored(js) - before == len(stored)


async def test_replicas_migrating_an_empty_database_at_once_make_one_schema(
    postgres_server: PostgresServer,
) -> None:
    url = postgres_server.new_database()
    replicas = [PgDatabase(url) for _ in range(4)]
    await asyncio.gather(*(db.open() for db in replicas))
    try:
        assert await query(url, "SELECT version FROM schema_version") == [(len(MIGRATIONS),)]
        tables = await query(
            url,
            "SELECT table_name FROM information_schema.tables "
            "WHERE table_schema = 'public' ORDER BY table_name",
        )
        assert [t[0] for t in tables] == [
            "audit", "backups", "fleet_members", "fleets", "outbox", "rate_buckets",
            "schema_version", "store_domains", "store_events", "store_specs", "stores",
            "tenants", "tokens",
        ]  # fmt: skip
    finally:
        for db in replicas:
            await db.close()


async def test_a_rate_limit_holds_in_total_across_replicas(
    nats_server: NatsServer, start_service: StartService, postgres_server: PostgresServer
) -> None:
    """60/min: a burst of 10, then 1/s, whichever replica is asked."""
    per_minute = 60
    database = postgres_server.new_database()
    replicas = _replicas(
        start_service, nats_server.url, database, URUMI_RATE_LIMIT_PER_MINUTE=str(per_minute)
    )
    token = await new_tenant(replicas[0].base_url, "acme")
    began = time.monotonic()
    allowed = 0
    async with httpx.AsyncClient(headers=auth(token)) as http:
        for replica in itertools.islice(itertools.cycle(replicas), 60):
            r = await http.get(f"{replica.base_url}/api/v1/stores")
            assert r.status_code in (200, 429)
            allowed += r.status_code == 200
            await asyncio.sleep(0.03)
    elapsed = time.monotonic() - began
    burst, rate = per_minute // 6, per_minute / 60
    assert burst <= allowed <= burst + elapsed * rate + 1  # per replica: 3 times as many
