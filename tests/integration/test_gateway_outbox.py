"""Commands reach URUMI_COMMANDS exactly once, whatever fails in between."""

import httpx
from nats.js import JetStreamContext

from services.contracts import streams
from services.contracts.subjects import command_subject
from services.contracts.wire import decode_command
from services.devtools.natsserver import NatsServer, free_port
from tests.fixtures.processes import StartService
from tests.fixtures.waiting import eventually
from tests.integration.gateway_support import auth, command_count, gateway_env, new_tenant


async def test_create_publishes_one_command_even_when_retried(
    nats_server: NatsServer,
    js: JetStreamContext,
    start_service: StartService,
    gateway_database: str,
) -> None:
    gw = start_service("gateway", gateway_env(nats_server.url, gateway_database))
    token = await new_tenant(gw.base_url, "acme")
    async with httpx.AsyncClient(base_url=gw.base_url, headers=auth(token)) as http:
        first = await http.post("/api/v1/stores", json={"id": "shop-one"})
        again = await http.post("/api/v1/stores", json={"id": "shop-one"})
    assert (first.status_code, again.status_code) == (202, 200)
    assert first.json()["phase"] == "pending"

    await eventually(lambda: _count_is(js, 1))
    msg = await js.get_last_msg(streams.COMMANDS.name, command_subject("acme", "shop-one"))
    command = decode_command(msg.data or b"")
    assert msg.headers is not None and msg.headers["Nats-Msg-Id"] == command.command_id
    assert (command.tenant, command.store, command.generation) == ("acme", "shop-one", 1)
    assert await command_count(js) == 1

    async def counted() -> str | None:  # counted once the publish is acknowledged
        async with httpx.AsyncClient(base_url=gw.base_url) as http:
            metrics = (await http.get("/metrics")).text
        return metrics if "urumi_gateway_commands_published_total 1.0" in metrics else None

    metrics = await eventually(counted, within=10, what="the publish counted")
    assert 'path="/api/v1/stores"' in metrics


async def _count_is(js: JetStreamContext, n: int) -> bool:
    return await command_count(js) == n


async def test_gateway_killed_before_publish_delivers_after_restart(
    nats_server: NatsServer,
    js: JetStreamContext,
    start_service: StartService,
    gateway_database: str,
) -> None:
    # First life: NATS unreachable, so the command can only be committed, never published.
    dead = f"nats://127.0.0.1:{free_port()}"
    first = start_service("gateway", gateway_env(dead, gateway_database))
    token = await new_tenant(first.base_url, "acme")
    async with httpx.AsyncClient(base_url=first.base_url, headers=auth(token)) as http:
        created = await http.post("/api/v1/stores", json={"id": "crash-shop"})
    assert created.status_code == 202
    first.kill()
    assert await command_count(js) == 0

    start_service("gateway", gateway_env(nats_server.url, gateway_database))
    await eventually(lambda: _count_is(js, 1))
    msg = await js.get_last_msg(streams.COMMANDS.name, command_subject("acme", "crash-shop"))
    assert decode_command(msg.data or b"").store == "crash-shop"


async def test_nats_down_during_post_is_delivered_when_back(
    nats_server: NatsServer, start_service: StartService, gateway_database: str
) -> None:
    gw = start_service("gateway", gateway_env(nats_server.url, gateway_database))
    token = await new_tenant(gw.base_url, "acme")
    nats_server.kill()
    async with httpx.AsyncClient(base_url=gw.base_url, headers=auth(token)) as http:
        created = await http.post("/api/v1/stores", json={"id": "offline-shop"})
    assert created.status_code == 202

    nats_server.start()
    from services.runtime import bus

    nc = await bus.connect(nats_server.url, "test")
    try:
        js = nc.jetstream()
        await eventually(lambda: _count_is(js, 1), within=30)
        msg = await js.get_last_msg(streams.COMMANDS.name, command_subject("acme", "offline-shop"))
        assert decode_command(msg.data or b"").store == "offline-shop"
    finally:
        await nc.close()
