"""The dashboard's fleet upgrades page state (dashboard/js/fleet-state.js, run by
Node.js) on what the platform sends: summaries and stores as the API encodes them,
`fleet-progress` events as the bus carries them, in the orders a page meets them."""

import json
from datetime import UTC, datetime, timedelta
from typing import Any, Final

import msgspec
import pytest

from services.contracts.fleet import (
    FleetCounts,
    FleetMember,
    FleetProgress,
    FleetState,
    FleetSummary,
    MemberState,
)
from services.contracts.store import Engine
from services.contracts.wire import encode
from services.gateway import fleet_plan
from services.gateway.domain_errors import ConflictError
from tests.unit.dashboard_js import run_dashboard_js

T0: Final = datetime(2026, 11, 2, 10, 0, 0, tzinfo=UTC)
FLEET: Final = "0190f000-0000-7000-8000-000000000001"


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def summary(
    updated: datetime, state: FleetState = FleetState.RUNNING, fleet: str = FLEET, **counts: int
) -> FleetSummary:
    return FleetSummary(
        id=fleet,
        engine=Engine.WOOCOMMERCE,
        to_release="woo-2026.11",
        wave_size=2,
        max_failures=0,
        store_timeout_s=1800,
        state=state,
        wave=1,
        waves=2,
        counts=FleetCounts(**counts),
        actor="admin",
        created_at=T0 if fleet == FLEET else at(-60),
        updated_at=updated,
    )


def member(store: str, state: MemberState, wave: int = 1, reason: str = "") -> FleetMember:
    return FleetMember(store, "acme", wave, "woo-2026.05", state, 2, reason)


def api(value: Any) -> Any:
    """As the gateway's JSON carries it."""
    return json.loads(msgspec.json.encode(value))


def detail(fleet: FleetSummary, *stores: FleetMember) -> dict[str, Any]:
    return {"detail": api({"fleet": fleet, "stores": list(stores)})}


def event(fleet: FleetSummary, *changed: FleetMember) -> dict[str, Any]:
    """As the bus carries it, and so inside the notifier's event frame."""
    return {"event": json.loads(encode(FleetProgress(fleet, list(changed), fleet.updated_at)))}


def run(cases: dict[str, list[dict[str, Any]]]) -> dict[str, Any]:
    given = [{"name": name, "fleet": FLEET, "steps": steps} for name, steps in cases.items()]
    result: dict[str, Any] = run_dashboard_js(
        "fleet_state.mjs", given, "the dashboard's fleet page state"
    )
    return result


def stores(result: dict[str, Any]) -> dict[str, str]:
    return {m["store"]: m["state"] for w in result["waves"] for m in w["stores"]}


UPGRADING, WAITING = MemberState.UPGRADING, MemberState.WAITING
START = [member("a", WAITING), member("b", WAITING), member("c", WAITING, wave=2)]


def test_an_event_after_the_get_moves_its_stores_and_replaces_the_summary() -> None:
    moved = summary(at(1), upgrading=2, waiting=1)
    got = run(
        {
            "after": [
                detail(summary(at(0), waiting=3), *START),
                event(moved, member("a", UPGRADING), member("b", UPGRADING)),
            ]
        }
    )["after"]
    assert got["applied"][1] is True
    assert got["fleets"] == [
        {"id": FLEET, "state": "running", "counts": api(moved.counts), "updated_at": api(at(1))}
    ]
    assert [(w["wave"], [m["store"] for m in w["stores"]]) for w in got["waves"]] == [
        (1, ["a", "b"]),
        (2, ["c"]),
    ]
    assert stores(got) == {"a": "upgrading", "b": "upgrading", "c": "waiting"}


def test_an_event_older_than_the_get_is_ignored_and_a_newer_one_survives_it() -> None:
    done = member("a", MemberState.UPGRADED)
    got = run(
        {
            # The GET answered after the event was sent: it already holds it.
            "older": [
                detail(summary(at(2), upgraded=1, upgrading=1, waiting=1), done, *START[1:]),
                event(summary(at(1), upgrading=2, waiting=1), member("a", UPGRADING)),
            ],
            # The event overtook the GET's answer: the GET's older word loses.
            "newer": [
                event(summary(at(2), FleetState.PAUSED, upgraded=1, waiting=2), done),
                detail(summary(at(1), waiting=3), *START),
            ],
        }
    )
    assert got["older"]["applied"][1] is False
    assert stores(got["older"])["a"] == "upgraded"
    assert got["older"]["fleets"][0]["counts"]["upgraded"] == 1
    assert stores(got["newer"]) == {"a": "upgraded", "b": "waiting", "c": "waiting"}
    assert got["newer"]["fleets"][0]["state"] == "paused"


def test_a_failed_stores_event_at_the_fleets_own_time_still_applies() -> None:
    # The projector marks a store failed without touching the fleet's updated_at.
    failed = member("a", MemberState.FAILED, reason="rolled back: image refused")
    got = run(
        {
            "failed": [
                detail(summary(at(1), upgrading=2, waiting=1), member("a", UPGRADING), *START[1:]),
                event(summary(at(1), failed=1, upgrading=1, waiting=1), failed),
            ]
        }
    )["failed"]
    assert got["applied"][1] is True
    assert stores(got)["a"] == "failed"
    assert got["waves"][0]["stores"][0]["reason"] == "rolled back: image refused"
    assert got["fleets"][0]["counts"]["failed"] == 1


@pytest.mark.parametrize(
    ("known", "sent", "applied"),
    [
        # Within one millisecond: the microseconds decide.
        (T0.replace(microsecond=100), T0.replace(microsecond=50), False),
        (T0.replace(microsecond=50), T0.replace(microsecond=100), True),
        # A whole second is written without a fraction, and is still older.
        (T0.replace(microsecond=500_000), T0, False),
        (T0, T0.replace(microsecond=1), True),
    ],
)
def test_times_compare_to_the_microsecond(known: datetime, sent: datetime, applied: bool) -> None:
    got = run({"t": [detail(summary(known), *START), event(summary(sent))]})["t"]
    assert got["applied"][1] is applied


def test_a_fleet_started_elsewhere_appears_newest_first_its_stores_once_listed() -> None:
    other = "0190f000-0000-7000-8000-000000000000"
    got = run(
        {
            "elsewhere": [
                {"list": [api(summary(at(-30), FleetState.DONE, fleet=other, upgraded=3))]},
                event(summary(at(1), upgrading=1), member("a", UPGRADING)),
            ]
        }
    )["elsewhere"]
    assert [f["id"] for f in got["fleets"]] == [FLEET, other]
    # An event names only the stores that moved: the page waits for the GET.
    assert got["waves"] is None


@pytest.mark.parametrize("state", list(FleetState))
def test_the_controls_offered_are_those_the_platform_accepts(state: FleetState) -> None:
    def accepted(control: fleet_plan.Control) -> bool:
        try:
            return fleet_plan.controlled(summary(T0, state), control) is not None
        except ConflictError:
            return False

    got = run({"s": [{"list": [api(summary(T0, state))]}]})["s"]
    assert got["controls"] == {c.value: accepted(c) for c in fleet_plan.Control}
