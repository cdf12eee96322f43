"""The store page's Domains and Backups panels (dashboard/js/panel-state.js, run
by Node.js) on what the platform sends: views as the API encodes them, and
`domain-status` and `backup-status` events as the bus carries them, in the
orders a page meets them."""

import json
from datetime import UTC, datetime, timedelta
from typing import Any, Final

import msgspec
import pytest

from services.contracts.backups import BackupState, BackupStatus, BackupTrigger
from services.contracts.domains import DomainState, DomainStatus, records_for
from services.contracts.store import Plan
from services.contracts.wire import encode
from services.gateway import backups
from services.gateway.domain_errors import ConflictError
from services.gateway.models import BackupView, DomainView
from tests.unit.dashboard_js import run_dashboard_js

T0: Final = datetime(2026, 12, 10, 10, 0, 0, tzinfo=UTC)
DOMAIN: Final = "shop.example.com"
RECORDS: Final = records_for(DOMAIN, "shop.shops.test", "a-token")
PENDING, VERIFYING, ACTIVE = DomainState.PENDING_DNS, DomainState.VERIFYING, DomainState.ACTIVE


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def api(value: Any) -> Any:
    """As the gateway's JSON carries it."""
    return json.loads(msgspec.json.encode(value))


def bus(event: msgspec.Struct) -> dict[str, Any]:
    """As the bus carries it, and so inside the notifier's event frame."""
    return {"event": json.loads(encode(event))}


def domain_view(state: DomainState, updated: float, domain: str = DOMAIN) -> Any:
    view = DomainView(domain, "shop", state, f"{state} because", RECORDS, T0, at(updated))
    return api(view)


def domain_event(
    state: DomainState, seconds: float, domain: str = DOMAIN, removed: bool = False
) -> dict[str, Any]:
    status = DomainStatus(
        "acme", "shop", domain, state, at(seconds), f"{state} because", RECORDS, removed
    )
    return bus(status)


def run(cases: dict[str, list[dict[str, Any]]]) -> dict[str, Any]:
    given = [{"name": name, "steps": steps} for name, steps in cases.items()]
    result: dict[str, Any] = run_dashboard_js("panel_state.mjs", given, "the store page's panels")
    return result


def states(result: dict[str, Any]) -> list[tuple[str, str]]:
    return [(d["domain"], d["state"]) for d in result["domains"]]


def test_a_domain_moves_live_through_its_states_with_the_records_as_the_api_gives_them() -> None:
    got = run(
        {
            "live": [
                {"ask": True},
                {"domains": [domain_view(PENDING, 0)]},
                domain_event(VERIFYING, 1),
                domain_event(ACTIVE, 2),
            ]
        }
    )["live"]
    assert got["applied"][2:] == [True, True]
    (shown,) = got["domains"]
    assert (shown["state"], shown["reason"]) == ("active", "active because")
    assert shown["records"] == api(RECORDS)


def test_the_newer_word_wins_whichever_arrives_first() -> None:
    got = run(
        {
            # The GET answered after the event was sent: it already holds it.
            "older event": [{"domain": domain_view(ACTIVE, 2)}, domain_event(VERIFYING, 1)],
            # The event overtook the add's answer: the answer's older word loses.
            "older answer": [domain_event(VERIFYING, 1), {"domain": domain_view(PENDING, 0)}],
            # The same change from both sides: shown once, as it is.
            "same change": [{"domain": domain_view(ACTIVE, 2)}, domain_event(ACTIVE, 2)],
        }
    )
    assert got["older event"]["applied"][1] is False
    assert states(got["older event"]) == [(DOMAIN, "active")]
    assert got["older answer"]["applied"][1] is False
    assert states(got["older answer"]) == [(DOMAIN, "verifying")]
    assert got["same change"]["applied"][1] is True
    assert states(got["same change"]) == [(DOMAIN, "active")]


def test_a_removed_domain_stays_gone_until_it_is_added_again() -> None:
    got = run(
        {
            "removed": [
                {"ask": True},
                domain_event(ACTIVE, 2, removed=True),
                # A GET answered before the removal still lists it.
                {"domains": [domain_view(ACTIVE, 2)]},
                domain_event(ACTIVE, 2),
            ],
            "removed here": [{"domain": domain_view(ACTIVE, 2)}, {"drop": DOMAIN}],
            "added again": [
                domain_event(ACTIVE, 2, removed=True),
                {"domain": domain_view(PENDING, 5)},
            ],
        }
    )
    assert got["removed"]["domains"] == []
    assert got["removed"]["applied"][3] is False
    assert got["removed here"]["domains"] == []
    assert states(got["added again"]) == [(DOMAIN, "pending-dns")]


def test_a_get_drops_what_it_no_longer_lists_but_not_what_was_heard_since_it_was_sent() -> None:
    other = "www.example.org"
    got = run(
        {
            "elsewhere": [
                {"domain": domain_view(ACTIVE, 2)},
                {"ask": True},
                domain_event(PENDING, 3, domain=other),
                # Removed while the page was offline; `other` was added after the GET's cut.
                {"domains": []},
            ]
        }
    )["elsewhere"]
    assert states(got) == [(other, "pending-dns")]


def backup_view(state: BackupState, trigger: BackupTrigger = BackupTrigger.MANUAL) -> Any:
    name = "backup-20261210-100000" if trigger is BackupTrigger.MANUAL else "backup-daily-2950"
    return api(BackupView(name, "shop", trigger, state, T0))


def backup_event(
    state: BackupState, seconds: float, backup: str = "backup-20261210-100000", **kw: Any
) -> dict[str, Any]:
    return bus(BackupStatus("acme", "shop", backup, state, at(seconds), **kw))


def test_a_backup_is_folded_from_the_watchers_reports_as_the_gateway_folds_them() -> None:
    done: dict[str, Any] = {"completed_at": at(30), "size_bytes": 5 << 20}
    got = run(
        {
            "now": [
                {"backups": [backup_view(BackupState.PENDING)]},
                backup_event(BackupState.RUNNING, 10, started_at=at(9)),
                backup_event(BackupState.SUCCEEDED, 31, started_at=at(9), **done),
                # A late report, and a GET answered before the backup finished.
                backup_event(BackupState.RUNNING, 20, started_at=at(9)),
                {"backups": [backup_view(BackupState.RUNNING)]},
            ]
        }
    )["now"]
    assert got["applied"][1:4] == [True, True, False]
    (shown,) = got["backups"]
    assert (shown["state"], shown["size_bytes"], shown["restorable"]) == (
        "succeeded",
        5 << 20,
        True,
    )
    assert (shown["created_at"], shown["completed_at"]) == (api(T0), api(at(30)))


def test_a_scheduled_backup_first_heard_of_live_is_listed_newest_first() -> None:
    scheduled = "backup-daily-29500000"
    got = run(
        {
            "scheduled": [
                {"backups": [backup_view(BackupState.SUCCEEDED)]},
                backup_event(
                    BackupState.RUNNING,
                    61,
                    backup=scheduled,
                    trigger=BackupTrigger.SCHEDULED,
                    started_at=at(60),
                ),
            ]
        }
    )["scheduled"]
    assert [(b["id"], b["trigger"], b["state"]) for b in got["backups"]] == [
        (scheduled, "scheduled", "running"),
        ("backup-20261210-100000", "manual", "succeeded"),
    ]
    assert got["backups"][0]["created_at"] == api(at(60))


@pytest.mark.parametrize("state", list(BackupState))
def test_restore_and_clone_are_offered_from_the_backups_the_platform_restores(
    state: BackupState,
) -> None:
    done = at(0) if state in (BackupState.SUCCEEDED, BackupState.EXPIRED) else None
    row = backups.BackupRow(
        store="shop",
        id="backup-20261210-100000",
        tenant="acme",
        trigger=BackupTrigger.MANUAL,
        state=BackupState.SUCCEEDED if state is BackupState.EXPIRED else state,
        created_at=T0,
        observed_at=T0,
        completed_at=done,
    )
    now = at(86400 * 8) if state is BackupState.EXPIRED else at(60)
    view = backups.view(row, Plan.SMALL, now)
    assert view.state is state
    try:
        backups.restorable(row, row.id, "shop", Plan.SMALL, now)
        accepted = True
    except ConflictError:
        accepted = False
    got = run({"s": [{"backups": [api(view)]}]})["s"]
    assert got["backups"][0]["restorable"] is accepted
