"""Helpers for driving a gateway process over HTTP and reading what it published."""

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any

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


async def eventually(
    probe: Callable[[], Awaitable[Any]], timeout: float = 15.0, interval: float = 0.1
) -> Any:
    """The first truthy result of `probe`, or AssertionError after `timeout`."""
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        last = await probe()
        if last:
            return last
        await asyncio.sleep(interval)
    raise AssertionError(f"condition not met within {timeout}s; last value: {last!r}")


async def command_count(js: JetStreamContext) -> int:
    info = await js.stream_info(streams.COMMANDS.name)
    return int(info.state.messages)
