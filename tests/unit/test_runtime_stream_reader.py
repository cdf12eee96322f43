"""The stream reader's consumer and its status decoding (no NATS)."""

from datetime import UTC, datetime

from nats.js.api import AckPolicy, DeliverPolicy

from services.contracts import wire
from services.contracts.events import KubeEvent, StoreStatus
from services.contracts.phases import Phase
from services.runtime.stream_reader import decode_status, reader_config


def test_without_start_the_last_message_per_subject() -> None:
    config = reader_config(None)
    assert config.deliver_policy == DeliverPolicy.LAST_PER_SUBJECT
    assert config.opt_start_seq is None


def test_with_start_every_message_from_there() -> None:
    config = reader_config(42)
    assert config.deliver_policy == DeliverPolicy.BY_START_SEQUENCE
    assert config.opt_start_seq == 42


def test_the_consumer_is_throwaway() -> None:
    config = reader_config(None)
    assert config.ack_policy == AckPolicy.NONE
    assert config.mem_storage
    assert config.inactive_threshold
    assert config.durable_name is None


def test_decode_status_keeps_statuses_only() -> None:
    at = datetime(2026, 1, 1, tzinfo=UTC)
    status = StoreStatus("acme", "shop", Phase.READY, 1, at)
    event = KubeEvent("acme", "shop", "store-shop", "Pod", "p", "Normal", "Pulled", "ok", at)
    assert decode_status(wire.encode(status)) == status
    assert decode_status(wire.encode(event)) is None
    assert decode_status(b"not json") is None
