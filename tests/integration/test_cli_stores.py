"""`urumi stores list` as a process against a gateway process on real NATS."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from services.devtools.natsserver import NatsServer
from tests.fixtures.processes import StartService
from tests.integration.gateway_support import create_stores, gateway_env, new_tenant


def _run(api: str, token: str, *args: str) -> subprocess.CompletedProcess[str]:
    cli = [sys.executable, "-m", "services.cli.main", "stores", "--api", api, "--token", token]
    return subprocess.run([*cli, *args], capture_output=True, text=True, timeout=60, check=False)


def _stores(api: str, token: str, *args: str) -> str:
    done = _run(api, token, *args)
    assert done.returncode == 0, done.stderr
    return done.stdout


async def test_list_shows_every_store_beyond_one_page(
    nats_server: NatsServer, start_service: StartService, tmp_path: Path
) -> None:
    env = gateway_env(nats_server.url, str(tmp_path / "g.db"), URUMI_RATE_LIMIT_PER_MINUTE="100000")
    gateway = start_service("gateway", env)
    token = await new_tenant(gateway.base_url, "bulk", max_stores=600)
    ids = [f"shop-{i:03d}" for i in range(501)]  # the API answers 500 a page
    await create_stores(gateway.base_url, token, ids)

    table = _stores(gateway.base_url, token, "list").splitlines()
    assert table[0].split()[:2] == ["ID", "ENGINE"]
    assert sorted(line.split()[0] for line in table[1:]) == ids
    listed = json.loads(_stores(gateway.base_url, token, "--json", "list"))
    assert sorted(s["id"] for s in listed) == ids


@pytest.fixture
async def shop(
    nats_server: NatsServer, start_service: StartService, tmp_path: Path
) -> tuple[str, str]:
    """A gateway process (its URL) and tenant acme (its token) with the store `shop`."""
    gateway = start_service("gateway", gateway_env(nats_server.url, str(tmp_path / "g.db")))
    token = await new_tenant(gateway.base_url, "acme")
    await create_stores(gateway.base_url, token, ["shop"])
    return gateway.base_url, token


async def test_update_changes_the_plan_and_says_what_is_wrong(shop: tuple[str, str]) -> None:
    api, token = shop

    row = _stores(api, token, "update", "shop", "--plan", "large").split()
    assert row[:4] == ["shop", "woocommerce", "large", "provisioning"]
    view = json.loads(_stores(api, token, "--json", "get", "shop"))
    assert (view["plan"], view["storage_plan"], view["generation"]) == ("large", "small", 2)
    nothing = _run(api, token, "update", "shop")
    assert nothing.returncode == 1
    assert "nothing to change: pass --plan, --name, --release" in nothing.stderr
    missing = _run(api, token, "update", "no-such-shop", "--name", "X")
    assert missing.returncode == 1 and "404: no store 'no-such-shop'" in missing.stderr


async def test_sleep_and_wake_say_what_the_store_is_now(shop: tuple[str, str]) -> None:
    api, token = shop

    slept = _stores(api, token, "sleep", "shop").splitlines()
    assert slept[0].split()[:4] == ["shop", "woocommerce", "small", "provisioning"]
    assert "  asleep: no pod runs, its data is kept; `urumi stores wake shop`" in slept
    again = json.loads(_stores(api, token, "--json", "sleep", "shop"))
    assert (again["asleep"], again["generation"]) == (True, 2)
    woken = json.loads(_stores(api, token, "--json", "wake", "shop"))
    assert (woken["asleep"], woken["generation"]) == (False, 3)
    missing = _run(api, token, "wake", "no-such-shop")
    assert missing.returncode == 1 and "404: no store 'no-such-shop'" in missing.stderr
