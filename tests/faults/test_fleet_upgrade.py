"""Fleet upgrades on the whole platform as processes, on the devcluster.

kwok's pods are always ready, so a store's upgrade is made to fail the way a
cluster fails it: a ValidatingAdmissionPolicy refuses that one store's
Deployment at the new release's WordPress image, so the provisioner's apply is
denied, the store fails, and it rolls back by itself.
"""

import asyncio
import json
import os
import subprocess
import sys
from collections.abc import AsyncIterator
from typing import Any

import httpx
import msgspec
import pytest
import websockets
from kubernetes_asyncio.client import AdmissionregistrationV1Api, ApiClient
from kubernetes_asyncio.client.exceptions import ApiException

from services.contracts import streams
from services.contracts.fleet import FleetProgress, MemberState
from services.contracts.store import Engine
from services.contracts.subjects import fleet_subject
from services.contracts.wire import decode_bus_event
from services.runtime.releases import load_catalog
from tests.faults.platform import PlatformHarness, new_id, stream_messages
from tests.fixtures.waiting import eventually
from tests.integration.gateway_support import query

OLD, NEW = "woo-2026.05", "woo-2026.11"
FLEETS = "/api/v1/fleet-upgrades"


def _new_wordpress_tag() -> str:
    release = load_catalog().release(Engine.WOOCOMMERCE, NEW)
    tag: str = release.values["images"]["wordpress"]["tag"]
    return tag


@pytest.fixture
async def refuse_upgrade(kube: ApiClient) -> AsyncIterator[Any]:
    """`await refuse(store)`: admission refuses the store's Deployments at NEW's image."""
    api = AdmissionregistrationV1Api(kube)
    made: list[str] = []

    async def refuse(store: str) -> None:
        name = f"refuse-{store}"
        tag = _new_wordpress_tag()
        policy: Any = {
            "apiVersion": "admissionregistration.k8s.io/v1",
            "kind": "ValidatingAdmissionPolicy",
            "metadata": {"name": name},
            "spec": {
                "failurePolicy": "Fail",
                "matchConstraints": {
                    "resourceRules": [
                        {
                            "apiGroups": ["apps"],
                            "apiVersions": ["v1"],
                            "operations": ["CREATE", "UPDATE"],
                            "resources": ["deployments"],
                        }
                    ]
                },
                "validations": [
                    {
                        "expression": "!object.spec.template.spec.containers.exists("
                        f"c, c.image.endsWith(':{tag}'))",
                        "message": f"drill: this store refuses WordPress {tag}",
                    }
                ],
            },
        }
        binding: Any = {
            "apiVersion": "admissionregistration.k8s.io/v1",
            "kind": "ValidatingAdmissionPolicyBinding",
            "metadata": {"name": name},
            "spec": {
                "policyName": name,
                "validationActions": ["Deny"],
                "matchResources": {
                    "namespaceSelector": {
                        "matchLabels": {"kubernetes.io/metadata.name": f"store-{store}"}
                    }
                },
            },
        }
        # Manifests as the API server takes them (the client accepts plain dicts).
        await api.create_validating_admission_policy(policy)
        await api.create_validating_admission_policy_binding(binding)
        made.append(name)

    yield refuse
    for name in made:
        for delete in (
            api.delete_validating_admission_policy_binding,
            api.delete_validating_admission_policy,
        ):
            try:
                await delete(name)
            except ApiException as exc:
                if exc.status != 404:
                    raise


async def _fleet_of(p: PlatformHarness, count: int) -> list[str]:
    """`count` ready stores at OLD, created one after another (the fleet's order)."""
    stores = [new_id(f"fl{i:02d}") for i in range(count)]
    for store in stores:
        await p.create(store, release=OLD)
    await p.wait_phase(stores, "ready", within=300)
    return stores


def _admin(p: PlatformHarness) -> httpx.AsyncClient:
    headers = {"Authorization": f"Bearer {p.stack.admin_token}"}
    return httpx.AsyncClient(base_url=p.api, headers=headers, timeout=15)


async def _detail(admin: httpx.AsyncClient, fleet_id: str) -> dict[str, Any]:
    response = await admin.get(f"{FLEETS}/{fleet_id}")
    assert response.status_code == 200, response.text
    detail: dict[str, Any] = response.json()
    return detail


async def _progress(p: PlatformHarness, fleet_id: str) -> list[FleetProgress]:
    subject = fleet_subject(fleet_id)
    found = []
    for m in await stream_messages(p.js, streams.EVENTS.name):
        if m.subject == subject:
            event = decode_bus_event(m.data)
            assert isinstance(event, FleetProgress)
            found.append(event)
    return found


async def test_30_stores_upgrade_in_waves_of_10_and_a_failure_in_wave_2_halts_them(
    platform: PlatformHarness, refuse_upgrade: Any
) -> None:
    p = platform
    stores = await _fleet_of(p, 30)
    victim = stores[14]
    await refuse_upgrade(victim)
    cli = [sys.executable, "-m", "services.cli.main", "fleet", "--api", p.api]
    args = ["upgrade", "--engine", "woocommerce", "--to", NEW, "--wave", "10", "--wait"]
    env = {**os.environ, "URUMI_ADMIN_TOKEN": p.stack.admin_token}
    run = await asyncio.to_thread(
        subprocess.run, [*cli, *args], env=env, capture_output=True, text=True, timeout=600
    )
    assert run.returncode == 1, run.stdout + run.stderr  # halted
    assert f"wave 2: {victim} failed" in run.stdout, run.stdout

    async with _admin(p) as admin:
        fleet_id = (await admin.get(FLEETS)).json()["items"][0]["id"]
        detail = await eventually(
            lambda: _settled(admin, fleet_id), within=120, what="the stores in flight settle"
        )
    fleet, members = detail["fleet"], {m["store"]: m for m in detail["stores"]}
    assert fleet["state"] == "halted", fleet
    assert f"{victim}: upgrade to {NEW} failed (" in fleet["message"]
    waves = {w: [members[s] for s in stores[(w - 1) * 10 : w * 10]] for w in (1, 2, 3)}
    assert all(m["wave"] == w for w, ms in waves.items() for m in ms)
    assert [m["state"] for m in waves[1]] == ["upgraded"] * 10
    wave2 = {m["store"]: m["state"] for m in waves[2]}
    assert wave2 == {s: ("failed" if s == victim else "upgraded") for s in stores[10:20]}
    assert "denied request: drill: this store refuses" in members[victim]["reason"]
    assert members[victim]["reason"].endswith(f"rolled back to {OLD}")
    assert [m["state"] for m in waves[3]] == ["waiting"] * 10

    views = {s: await p.store(s) for s in stores}
    assert {(views[s]["generation"], views[s]["release"]) for s in stores[:10]} == {(2, NEW)}
    assert {(views[s]["generation"], views[s]["release"]) for s in stores[20:]} == {(1, OLD)}
    back = await eventually(
        lambda: _at(p, victim, 3, "ready"), within=120, what="the victim rolled back, ready"
    )
    assert back["release"] == OLD

    # The next wave started only once the one before was done.
    for event in await _progress(p, fleet_id):
        if any(m.wave == 2 and m.state is MemberState.UPGRADING for m in event.changed):
            assert event.fleet.counts.upgraded == 10, event.fleet
    rows = await query(str(p.stack.root / "urumi.db"), "SELECT target, actor, action FROM audit")
    audit = [row for row in rows if row[1] == f"fleet:{fleet_id}"]
    assert sorted(row[0] for row in audit) == sorted(stores[:20])
    assert all(f"release {OLD} → {NEW}" in row[2] for row in audit)


async def _settled(admin: httpx.AsyncClient, fleet_id: str) -> dict[str, Any] | None:
    detail = await _detail(admin, fleet_id)
    upgrading = [m for m in detail["stores"] if m["state"] == "upgrading"]
    return None if upgrading else detail


async def _at(p: PlatformHarness, store: str, generation: int, phase: str) -> dict[str, Any] | None:
    view = await p.store(store)
    return view if (view["generation"], view["phase"]) == (generation, phase) else None


async def _state(admin: httpx.AsyncClient, fleet_id: str, wave: int) -> dict[str, Any] | None:
    """The fleet once wave `wave` is in flight."""
    detail = await _detail(admin, fleet_id)
    in_flight = [m for m in detail["stores"] if m["wave"] == wave and m["state"] == "upgrading"]
    return detail if in_flight else None


async def test_killing_gateway_and_provisioner_mid_wave_loses_nothing_and_cancel_ends_the_wave(
    platform: PlatformHarness,
) -> None:
    p = platform
    stores = await _fleet_of(p, 16)
    async with _admin(p) as admin:
        ticket = (await admin.post("/api/v1/admin/tickets")).json()
        live = asyncio.create_task(_live(ticket))
        started = await admin.post(
            FLEETS, json={"engine": "woocommerce", "to_release": NEW, "wave": "25%"}
        )
        assert started.status_code == 202, started.text
        fleet_id = started.json()["id"]
        assert started.json()["waves"] == 4

        await eventually(lambda: _state(admin, fleet_id, 2), within=120, what="wave 2 in flight")
        p.stack.running("gateway")[0].kill()
        p.stack.running("provisioner")[0].kill()
        await asyncio.sleep(1)
        await asyncio.to_thread(p.stack.add, "provisioner")
        await asyncio.to_thread(p.stack.add, "gateway", p.stack.ports["gateway"])

        await eventually(lambda: _state(admin, fleet_id, 3), within=180, what="wave 3 in flight")
        cancelled = await admin.post(f"{FLEETS}/{fleet_id}/cancel")
        assert cancelled.json()["state"] == "cancelling", cancelled.text

        async def final() -> dict[str, Any] | None:
            detail = await _detail(admin, fleet_id)
            return detail if detail["fleet"]["state"] == "cancelled" else None

        detail = await eventually(final, within=180, what="cancelled at the wave's end")
    assert detail["fleet"]["message"] == "cancelled after wave 3 of 4: 12 upgraded, 4 not started"
    states = {m["store"]: m["state"] for m in detail["stores"]}
    assert [states[s] for s in stores] == ["upgraded"] * 12 + ["waiting"] * 4
    views = {s: await p.store(s) for s in stores}
    # One upgrade each, despite the kills: no store went past generation 2.
    assert {
        (views[s]["generation"], views[s]["release"], views[s]["phase"]) for s in stores[:12]
    } == {(2, NEW, "ready")}
    assert {(views[s]["generation"], views[s]["release"]) for s in stores[12:]} == {(1, OLD)}
    specs = await query(
        str(p.stack.root / "urumi.db"),
        "SELECT store_id, COUNT(*) FROM store_specs WHERE cause = 'update' GROUP BY store_id",
    )
    assert sorted(specs) == sorted((s, 1) for s in stores[:12])

    seen = await asyncio.wait_for(live, timeout=30)
    assert seen[-1].fleet.state.value == "cancelled"
    assert {e.fleet.wave for e in seen} >= {1, 2, 3}


async def _live(ticket: dict[str, Any]) -> list[FleetProgress]:
    """The platform's live events through the notifier, until a fleet's state is final.
    The notifier survives the kills, so this one socket sees the whole fleet."""
    seen: list[FleetProgress] = []
    async with websockets.connect(f"{ticket['url']}?ticket={ticket['ticket']}") as ws:
        async for raw in ws:
            frame = json.loads(raw)
            if frame["type"] != "event":
                continue
            event = decode_bus_event(msgspec.json.encode(frame["event"]))
            if isinstance(event, FleetProgress):
                seen.append(event)
                if event.fleet.state.value in ("cancelled", "halted", "done"):
                    return seen
    return seen
