"""`urumi stores domains …` as a process against a gateway process on real NATS,
which looks the domain up in a DNS server of the test's on loopback."""

import json
import subprocess
import sys
from pathlib import Path

from services.devtools.natsserver import NatsServer
from tests.fixtures.dns import LoopbackDns
from tests.fixtures.processes import StartService
from tests.fixtures.waiting import eventually
from tests.integration.gateway_support import create_stores, gateway_env, new_tenant


def _domains(
    api: str, token: str, *args: str, as_json: bool = False
) -> subprocess.CompletedProcess[str]:
    cli = [sys.executable, "-m", "services.cli.main", "stores", "--api", api, "--token", token]
    command = [*cli, *(["--json"] if as_json else []), "domains", *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=60, check=False)


async def test_add_prints_the_records_to_set_list_follows_them_and_remove_says_what_is_left(
    nats_server: NatsServer, start_service: StartService, dns_server: LoopbackDns, tmp_path: Path
) -> None:
    env = gateway_env(
        nats_server.url,
        str(tmp_path / "g.db"),
        URUMI_DNS_NAMESERVER=dns_server.nameserver,
        URUMI_DOMAIN_CHECK_S="0.2",
    )
    api = start_service("gateway", env).base_url
    token = await new_tenant(api, "acme")
    await create_stores(api, token, ["shop"])

    added = _domains(api, token, "add", "shop", "Shop.Example.com")
    assert added.returncode == 0, added.stderr
    lines = added.stdout.splitlines()
    assert lines[0].split()[:2] == ["shop.example.com", "pending-dns"]
    assert lines[1] == "Set these records at your DNS provider:"
    assert lines[2].split() == ["CNAME", "shop.example.com", "shop.127.0.0.1.nip.io"]
    kind, name, token_value = lines[3].split()
    assert (kind, name) == ("TXT", "_urumi-challenge.shop.example.com")

    dns_server.zone.set("shop.example.com", "CNAME", "shop.127.0.0.1.nip.io")
    dns_server.zone.set("_urumi-challenge.shop.example.com", "TXT", token_value)

    def listed() -> list[str] | None:
        table = _domains(api, token, "list", "shop").stdout.splitlines()
        row = table[1].split()
        return row if row[1] == "verifying" else None

    row = await eventually(listed, what="verifying in the list")
    assert row[0] == "shop.example.com"
    as_json = json.loads(_domains(api, token, "list", "shop", as_json=True).stdout)
    assert [d["state"] for d in as_json] == ["verifying"]

    taken = _domains(api, token, "add", "shop", "shop.127.0.0.1.nip.io")
    assert taken.returncode == 1
    assert (
        "422: invalid request: `domain`: 'shop.127.0.0.1.nip.io' is the platform's own"
        in taken.stderr
    )

    removed = _domains(api, token, "remove", "shop", "shop.example.com")
    assert removed.returncode == 0, removed.stderr
    assert removed.stdout == "removed shop.example.com from shop (its own domains now: none)\n"
    missing = _domains(api, token, "remove", "shop", "shop.example.com")
    assert missing.returncode == 1
    assert "404: store 'shop' has no domain 'shop.example.com'" in missing.stderr
