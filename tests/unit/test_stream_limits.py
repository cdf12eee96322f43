"""The events stream must outlive nats-server's default of 1,000 consumers per stream:
every notifier websocket holds one (found by bench/live_latency.py at 1,000 sockets)."""

from services.contracts.streams import COMMANDS, EVENTS
from services.runtime.bus import stream_config


def test_events_stream_allows_many_consumers() -> None:
    assert stream_config(EVENTS).max_consumers == EVENTS.max_consumers >= 10_000


def test_other_streams_keep_the_server_default() -> None:
    assert stream_config(COMMANDS).max_consumers == -1
