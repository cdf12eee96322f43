"""`urumi stores` and engine releases, as processes against a gateway process."""

import json
import subprocess
import sys
from pathlib import Path

from services.devtools.natsserver import NatsServer
from tests.fixtures.processes import StartService
from tests.integration.gateway_support import gateway_env, new_tenant


def _run(api: str, token: str, *args: str) -> subprocess.CompletedProcess[str]:
    cli = [sys.executable, "-m", "services.cli.main", "stores", "--api", api, "--token", token]
    return subprocess.run([*cli, *args], capture_output=True, text=True, timeout=60, check=False)


def _stores(api: str, token: str, *args: str) -> str:
    done = _run(api, token, *args)
    assert done.returncode == 0, done.stderr
    return done.stdout


async def test_create_at_a_release_see_the_upgrade_and_take_it(
    nats_server: NatsServer, start_service: StartService, tmp_path: Path
) -> None:
    gateway = start_service("gateway", gateway_env(nats_server.url, str(tmp_path / "g.db")))
    api, token = gateway.base_url, await new_tenant(gateway.base_url, "acme")

    catalog = _stores(api, token, "releases", "--engine", "woocommerce").splitlines()
    assert catalog[0].split() == ["ENGINE", "RELEASE", "RELEASED", "VERSIONS"]
    assert catalog[1].split()[:3] == ["woocommerce", "woo-2026.05", "2026-05-04"]
    assert catalog[2].endswith("(default)") and "woocommerce 9.9.5" in catalog[2]

    created = _stores(api, token, "create", "shop", "--release", "woo-2026.05").splitlines()
    assert created[0].split()[:6] == [
        "shop", "woocommerce", "small", "pending", "woo-2026.05", "woo-2026.11"
    ]  # fmt: skip
    assert created[1] == (
        "  release: woo-2026.05 (upgrade available: woo-2026.11; "
        "urumi stores upgrade shop --release woo-2026.11)"
    )
    table = _stores(api, token, "list").splitlines()
    assert table[0].split()[4:6] == ["RELEASE", "UPGRADE"]
    assert table[1].split()[4:6] == ["woo-2026.05", "woo-2026.11"]

    older = _run(api, token, "create", "other", "--release", "woo-1999.01")
    assert older.returncode == 1
    assert "422: invalid request: `release`: 'woo-1999.01' is not a release of woocommerce" in (
        older.stderr
    )

    upgraded = _stores(api, token, "upgrade", "shop", "--release", "woo-2026.11").split()
    assert upgraded[:6] == ["shop", "woocommerce", "small", "provisioning", "woo-2026.11", "-"]
    shown = json.loads(_stores(api, token, "--json", "show", "shop"))
    assert (shown["release"], shown["upgrade_available"], shown["generation"]) == (
        "woo-2026.11",
        False,
        2,
    )
    down = _run(api, token, "upgrade", "shop", "--release", "woo-2026.05")
    assert down.returncode == 1 and "migrations are one-way" in down.stderr
    forced = _stores(api, token, "update", "shop", "--release", "woo-2026.05", "--allow-downgrade")
    assert forced.split()[4:6] == ["woo-2026.05", "woo-2026.11"]
    missing = _run(api, token, "upgrade", "shop")
    assert missing.returncode == 2 and "--release" in missing.stderr


async def test_rollback_says_where_it_goes_and_why_it_cannot(
    nats_server: NatsServer, start_service: StartService, tmp_path: Path
) -> None:
    gateway = start_service("gateway", gateway_env(nats_server.url, str(tmp_path / "g.db")))
    api, token = gateway.base_url, await new_tenant(gateway.base_url, "acme")
    _stores(api, token, "create", "shop", "--release", "woo-2026.05")

    never = _run(api, token, "rollback", "shop")
    assert never.returncode == 1
    assert "409: store 'shop' has nothing to roll back to: generation 1" in never.stderr

    _stores(api, token, "upgrade", "shop", "--release", "woo-2026.11")
    back = _stores(api, token, "rollback", "shop").splitlines()
    assert back[0] == "rolling shop back to release woo-2026.05 (plan small) at generation 3"
    assert back[1].split()[:5] == ["shop", "woocommerce", "small", "provisioning", "woo-2026.05"]
    assert back[-1] == (
        "  reason: RollingBack: rolling back to generation 1's spec: "
        "release woo-2026.11 → woo-2026.05"
    )
    unknown = _run(api, token, "rollback", "nowhere")
    assert unknown.returncode == 1 and "404: no store 'nowhere'" in unknown.stderr
