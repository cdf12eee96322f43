"""Bad input is refused with 422 naming the field, and nothing is stored or published.

One gateway serves the whole module: each case checks that nothing at all was
written, so sharing it makes the assertions stronger, not weaker.
"""

from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest

from services.contracts import streams
from services.devtools.natsserver import NatsServer, free_port
from services.devtools.procs import ServiceProcess
from services.runtime import bus
from tests.fixtures.postgres import BACKENDS
from tests.integration.gateway_support import auth, gateway_env, new_tenant, query

BAD_IDS: list[Any] = [
    "Shop", "SHOP", "-shop", "shop-", "a" * 41, "ab", "admin", "www", "kube-system",
    "default", "ѕhop", "shоp", "../etc", "my shop", "", None, 42, "shop.one", "shop_one",
    "shop\n", "café", ["shop"], {"id": "shop"},
]  # fmt: skip


@pytest.fixture(scope="module", params=BACKENDS)
def stack(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[NatsServer, ServiceProcess]]:
    root = tmp_path_factory.mktemp("validation")
    database = str(root / "g.db")
    if request.param == "postgresql":
        database = request.getfixturevalue("postgres_server").new_database()
    nats = NatsServer(root / "nats")
    nats.start()
    gw = ServiceProcess(
        "gateway", gateway_env(nats.url, database), free_port(), log=root / "gw.log"
    )
    gw.start()
    gw.wait_ready()
    yield nats, gw
    gw.stop()
    nats.stop()


@pytest.fixture(scope="module")
async def client(
    stack: tuple[NatsServer, ServiceProcess],
) -> AsyncIterator[httpx.AsyncClient]:
    _, gw = stack
    token = await new_tenant(gw.base_url, "validation")
    async with httpx.AsyncClient(base_url=gw.base_url, headers=auth(token)) as http:
        yield http


async def _nothing_written(
    stack: tuple[NatsServer, ServiceProcess], http: httpx.AsyncClient
) -> None:
    nats, gw = stack
    assert (await http.get("/api/v1/stores")).json()["items"] == []
    db = gw.env.get("URUMI_DATABASE_URL") or gw.env["URUMI_DATABASE"]
    assert await query(db, "SELECT COUNT(*) FROM stores") == [(0,)]
    assert await query(db, "SELECT COUNT(*) FROM outbox") == [(0,)]
    nc = await bus.connect(nats.url, "test")
    try:
        info = await nc.jetstream().stream_info(streams.COMMANDS.name)
        assert info.state.messages == 0
    finally:
        await nc.close()


@pytest.mark.parametrize("bad", BAD_IDS)
async def test_bad_id_is_422_naming_id(
    stack: tuple[NatsServer, ServiceProcess], client: httpx.AsyncClient, bad: Any
) -> None:
    r = await client.post("/api/v1/stores", json={"id": bad})
    assert r.status_code == 422, r.text
    body = r.json()
    assert [e["field"] for e in body["errors"]] == ["id"]
    assert "`id`" in body["detail"]
    await _nothing_written(stack, client)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"plan": "small"}, "id"),
        ({"id": "good-id", "plan": "huge"}, "plan"),
        ({"id": "good-id", "engine": "magento"}, "engine"),
        ({"id": "good-id", "display_name": "x" * 81}, "display_name"),
        ({"id": "good-id", "colour": "red"}, "colour"),
    ],
)
async def test_other_bad_fields_are_named(
    stack: tuple[NatsServer, ServiceProcess],
    client: httpx.AsyncClient,
    body: dict[str, Any],
    field: str,
) -> None:
    r = await client.post("/api/v1/stores", json=body)
    assert r.status_code == 422, r.text
    assert r.json()["errors"][0]["field"] == field
    await _nothing_written(stack, client)


async def test_malformed_json_is_refused(
    stack: tuple[NatsServer, ServiceProcess], client: httpx.AsyncClient
) -> None:
    r = await client.post(
        "/api/v1/stores", content=b"{not json", headers={"Content-Type": "application/json"}
    )
    assert r.status_code == 400
    assert "malformed" in r.json()["detail"]
    await _nothing_written(stack, client)
