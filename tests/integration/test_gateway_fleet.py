"""Fleet upgrades at the gateway's edge, on both database backends: the admin API's
refusals and `urumi fleet` as a process. No cluster: the stores stay `pending`,
so the first wave stays in flight (the drills in tests/faults take fleets to
their end on the devcluster)."""

import subprocess
import sys

import httpx

from services.devtools.procs import ServiceProcess
from tests.fixtures.waiting import eventually
from tests.integration.gateway_support import ADMIN, auth, create_stores, new_tenant

FLEETS = "/api/v1/fleet-upgrades"
OLD, NEW = "woo-2026.05", "woo-2026.11"


def _fleet(api: str, *args: str, token: str = ADMIN) -> subprocess.CompletedProcess[str]:
    cli = [sys.executable, "-m", "services.cli.main", "fleet", "--api", api, "--token", token]
    return subprocess.run([*cli, *args], capture_output=True, text=True, timeout=60, check=False)


async def _old_stores(api: str, ids: list[str]) -> str:
    token = await new_tenant(api, "acme")
    async with httpx.AsyncClient(base_url=api, headers=auth(token)) as http:
        for store in ids:
            created = await http.post("/api/v1/stores", json={"id": store, "release": OLD})
            assert created.status_code == 202, created.text
    return token


async def test_start_follow_pause_resume_and_cancel_from_the_cli(gateway: ServiceProcess) -> None:
    api = gateway.base_url
    await _old_stores(api, ["shop-a", "shop-b", "shop-c"])
    started = _fleet(api, "upgrade", "--engine", "woocommerce", "--to", NEW, "--wave", "1")
    assert started.returncode == 0, started.stderr
    fleet_id, engine, arrow, release, state = started.stdout.split()[:5]
    assert (engine, arrow, release, state) == ("woocommerce", "→", NEW, "running")
    assert "3 stores in 3 waves of up to 1" in started.stdout

    def first_wave_started() -> str | None:
        shown = _fleet(api, "show", fleet_id).stdout
        return shown if "shop-a" in shown and " upgrading " in shown else None

    shown = await eventually(first_wave_started, what="wave 1 started")
    rows = [line.split() for line in shown.splitlines()[3:]]
    assert [(r[0], r[1], r[3], r[4]) for r in rows] == [
        ("1", "shop-a", OLD, "upgrading"),
        ("2", "shop-b", OLD, "waiting"),
        ("3", "shop-c", OLD, "waiting"),
    ]
    assert " paused " in _fleet(api, "pause", fleet_id).stdout
    assert " running " in _fleet(api, "resume", fleet_id).stdout
    assert " cancelling " in _fleet(api, "cancel", fleet_id).stdout
    refused = _fleet(api, "pause", fleet_id)
    assert refused.returncode == 1
    assert "is cancelling; it cannot pause" in refused.stderr
    listed = _fleet(api, "list").stdout.splitlines()
    assert listed[0].startswith(f"{fleet_id} woocommerce → {NEW} cancelling wave 1/3")

    no_token = _fleet(api, "list", token="")
    assert no_token.returncode == 2
    assert "no admin token" in no_token.stderr


async def test_refusals_name_the_field_or_say_why(gateway: ServiceProcess) -> None:
    api = gateway.base_url
    token = await _old_stores(api, ["shop-a"])
    async with httpx.AsyncClient(base_url=api, headers=auth(ADMIN)) as admin:

        async def start(**body: object) -> httpx.Response:
            return await admin.post(FLEETS, json={"engine": "woocommerce", **body})

        for body, field in (
            ({"to_release": NEW, "wave": "0%"}, "wave"),
            ({"to_release": NEW, "max_failures": -1}, "max_failures"),
            ({"to_release": "medusa-2026.11"}, "to_release"),
            ({"to_release": NEW, "waves": "10"}, "waves"),
        ):
            refused = await start(**body)
            assert refused.status_code == 422, (body, refused.text)
            assert field in refused.text, (body, refused.text)

        nothing = await admin.post(
            FLEETS, json={"engine": "medusa", "to_release": "medusa-2026.11"}
        )
        assert nothing.status_code == 409
        assert "nothing to upgrade" in nothing.json()["detail"]
        first = await start(to_release=NEW)
        assert first.status_code == 202, first.text
        second = await start(to_release=NEW)
        assert second.status_code == 409
        assert f"'{first.json()['id']}' of woocommerce is still active" in second.json()["detail"]
        assert (await admin.get(f"{FLEETS}/no-such-fleet")).status_code == 404

    async with httpx.AsyncClient(base_url=api, headers=auth(token)) as tenant:
        refused = await tenant.post(FLEETS, json={"engine": "woocommerce", "to_release": NEW})
        assert refused.status_code == 401
        assert "admin token required" in refused.text
        assert (await tenant.post("/api/v1/admin/tickets")).status_code == 401
    await create_stores(api, token, ["shop-b"])  # the tenant's own API is unaffected
