"""The notifier's pure parts: frames, the `after` parameter, resume decisions."""

import logging
from datetime import UTC, datetime

import pytest

from services.contracts.events import StoreStatus
from services.contracts.frames import (
    Error,
    EventFrame,
    Frame,
    Hello,
    Ping,
    Snapshot,
    decode_frame,
    encode_frame,
    parse_after,
    resume_start,
    too_slow_message,
)
from services.contracts.phases import Phase
from services.notifier.main import RedactTickets

STATUS = StoreStatus("acme", "shop", Phase.READY, 2, datetime(2025, 1, 1, tzinfo=UTC), url="u")


@pytest.mark.parametrize(
    "frame",
    [
        Hello(tenant="acme", seq=3, resumed=True, ping_interval_s=20),
        Snapshot(seq=3, statuses=[STATUS]),
        EventFrame(seq=4, event=STATUS),
        Ping(seq=4),
        Error(code=4008, message=too_slow_message(4)),
    ],
)
def test_frames_round_trip(frame: Frame) -> None:
    assert decode_frame(encode_frame(frame)) == frame


def test_event_frame_wire_shape() -> None:
    text = encode_frame(EventFrame(seq=7, event=STATUS))
    assert text.startswith('{"type":"event","seq":7,"event":{"type":"store-status",')


@pytest.mark.parametrize(("raw", "want"), [(None, None), ("", None), ("0", 0), ("42", 42)])
def test_parse_after(raw: str | None, want: int | None) -> None:
    assert parse_after(raw) == want


@pytest.mark.parametrize("raw", ["-1", "abc", "1.5", "9" * 20])
def test_parse_after_rejects(raw: str) -> None:
    with pytest.raises(ValueError, match="stream sequence"):
        parse_after(raw)


@pytest.mark.parametrize(
    ("after", "first", "last", "want"),
    [
        (None, 1, 10, None),  # fresh connection: snapshot
        (10, 1, 10, 11),  # up to date: live from the next one
        (4, 1, 10, 5),  # missed some: replay them
        (0, 1, 10, 1),  # saw nothing yet: replay all
        (3, 5, 10, None),  # 4 aged out: a replay would have a gap
        (4, 5, 10, 5),  # exactly at the oldest kept
        (11, 1, 10, None),  # beyond the end: stream was recreated
        (0, 0, 0, 1),  # empty stream
    ],
)
def test_resume_start(after: int | None, first: int, last: int, want: int | None) -> None:
    assert resume_start(after, first, last) == want


def test_tickets_never_reach_the_logs() -> None:
    record = logging.LogRecord(
        "uvicorn.error", logging.INFO, "", 0, '%s - "WebSocket %s" [accepted]',
        ("127.0.0.1:5", "/ws?ticket=abc.def&after=3"), None,
    )  # fmt: skip
    assert RedactTickets().filter(record)
    assert (
        record.getMessage() == '127.0.0.1:5 - "WebSocket /ws?ticket=<redacted>&after=3" [accepted]'
    )
