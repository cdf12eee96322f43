"""The CLI's websocket client: URLs, frames as the notifier sends them, phase tracking."""

import io
from datetime import UTC, datetime
from typing import Any

import pytest

from services.cli import watch as wc
from services.cli.backup_wait import outcome
from services.contracts.backups import BackupState, BackupStatus
from services.contracts.events import KubeEvent, StepState, StoreProgress, StoreStatus
from services.contracts.next_steps import next_step
from services.contracts.phases import Phase
from services.contracts.store_state import StoreState

NOW = datetime(2025, 1, 1, tzinfo=UTC)


@pytest.mark.parametrize(
    ("api", "url", "want"),
    [
        (
            "http://127.0.0.1:8080",
            "ws://127.0.0.1:8082/ws",
            "ws://127.0.0.1:8082/ws?ticket=T&after=5",
        ),
        ("https://urumi.example", "/ws", "wss://urumi.example/ws?ticket=T&after=5"),
        ("http://h:1/", "ws", "ws://h:1/ws?ticket=T&after=5"),
    ],
)
def test_socket_url(api: str, url: str, want: str) -> None:
    assert wc.socket_url(api, {"ticket": "T", "url": url}, 5) == want


def test_socket_url_without_after_and_escaped_ticket() -> None:
    got = wc.socket_url("http://h", {"ticket": "a+b=", "url": "ws://n/ws"}, None)
    assert got == "ws://n/ws?ticket=a%2Bb%3D"


def status(phase: Phase, generation: int = 1, **kw: Any) -> StoreStatus:
    return StoreStatus("acme", "shop", phase, generation, NOW, **kw)


def view(phase: Phase, generation: int = 1) -> dict[str, Any]:
    return {
        "id": "shop",
        "phase": phase,
        "generation": generation,
        "url": "",
        "reason": "",
        "message": "",
    }


def test_tracker_reports_phase_changes_only() -> None:
    t = wc.Tracker([view(Phase.PENDING)])
    assert t.apply(status(Phase.PENDING)) is None
    changed = t.apply(status(Phase.READY, url="http://shop"))
    assert changed is not None
    assert changed.url == "http://shop"
    assert t.settled("shop")
    assert t.exit_code("shop") == 0


def test_tracker_follows_the_gateways_merge_rules() -> None:
    t = wc.Tracker([view(Phase.DELETING, generation=3)])
    assert t.apply(status(Phase.READY, generation=2)) is None  # older spec
    assert t.apply(status(Phase.READY, generation=3)) is None  # deleting only moves on
    assert not t.settled("shop")
    assert t.apply(status(Phase.DELETED, generation=3)) is not None
    assert t.settled("shop")
    assert t.exit_code("shop") == 0


def test_tracker_keeps_provisioning_over_a_late_pending() -> None:
    t = wc.Tracker([view(Phase.PENDING)])
    start = StoreProgress(
        "acme", "shop", 1, "c", "provision", StepState.STARTED, NOW, "", Phase.PROVISIONING
    )
    assert t.apply(start) is not None
    assert t.apply(status(Phase.PENDING)) is None
    assert t.stores["shop"].phase == Phase.PROVISIONING


def test_tracker_takes_failures_from_the_provisioner() -> None:
    t = wc.Tracker([view(Phase.PENDING)])
    failed = StoreProgress(
        "acme", "shop", 1, "c", "render", StepState.FAILED, NOW, "chart broke", Phase.FAILED
    )
    state = t.apply(failed)
    assert state is not None
    assert state.reason == "render"
    assert state.message == "chart broke"
    assert t.exit_code("shop") == 1


def test_tracker_all_stores_settle_together() -> None:
    t = wc.Tracker([view(Phase.READY)])
    other = StoreStatus("acme", "two", Phase.PROVISIONING, 1, NOW)
    t.apply(other)
    assert not t.settled(None)
    t.apply(StoreStatus("acme", "two", Phase.FAILED, 1, NOW, reason="JobFailed"))
    assert t.settled(None)
    assert t.exit_code(None) == 1


def test_printer_lines() -> None:
    out = io.StringIO()
    p = wc.Printer(out, "shop", color=False)
    p.event(
        KubeEvent(
            "acme", "shop", "store-shop", "Pod", "web-0", "Warning", "BackOff", "pulling", NOW
        )
    )
    p.outcome("shop", StoreState(Phase.FAILED, 1, reason="JobFailed", message="exit 1"))
    text = out.getvalue()
    assert "⚠ Pod/web-0 BackOff: pulling" in text
    assert "shop failed: JobFailed — exit 1" in text
    assert next_step("JobFailed") in text


def test_a_succeeded_backup_is_shown_with_its_size() -> None:
    """What the devcluster cannot show: kwok's backup Jobs upload nothing (0 B)."""
    out = io.StringIO()
    done = BackupStatus(
        "acme", "shop", "backup-1", BackupState.SUCCEEDED, NOW, size_bytes=3 * 1024 * 1024 // 2
    )
    wc.Printer(out, "shop", color=False).event(done)
    assert out.getvalue().rstrip().endswith("⛁ backup       backup-1 succeeded (1.5 MiB)")
    assert outcome(done).startswith("✓ backup-1 of shop succeeded: 1.5 MiB in object storage;")
    assert [wc.human_size(n) for n in (0, 1023, 1024, 5 * 1024**3)] == [
        "0 B",
        "1023 B",
        "1.0 KiB",
        "5.0 GiB",
    ]
