"""Helpers for driving a gateway process over HTTP and reading what it published."""

import httpx
from nats.js import JetStreamContext

from services.contracts import streams

ADMIN = "test-admin-token"


def gateway_env(nats_url: str, database: str, **extra: str) -> dict[str, str]:
    return {
        "URUMI_NATS_URL": nats_url,
        "URUMI_DATABASE": database,
        "URUMI_ADMIN_TOKEN": ADMIN,
        "URUMI_TICKET_SECRET": "test-ticket-secret",
        **extra,
    }


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def new_tenant(api: str, tenant: str, max_stores: int = 20) -> str:
    async with httpx.AsyncClient(base_url=api) as http:
        r = await http.post(
            "/api/v1/tenants", json={"id": tenant, "max_stores": max_stores}, headers=auth(ADMIN)
        )
    assert r.status_code == 201, r.text
    token: str = r.json()["token"]
    return token


async def command_count(js: JetStreamContext) -> int:
    info = await js.stream_info(streams.COMMANDS.name)
    return int(info.state.messages)
