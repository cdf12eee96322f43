"""Store ids, message round-trips, subjects and the published schemas."""

import json
from datetime import UTC, datetime
from pathlib import Path

import msgspec
import pytest

from services.contracts.commands import CreateStore, DeleteStore, ReconcileStore
from services.contracts.events import KubeEvent, StepState, StoreProgress, StoreStatus
from services.contracts.ids import store_id_problem
from services.contracts.phases import Phase
from services.contracts.schema import asyncapi_document, message_schemas
from services.contracts.store import StoreSpec
from services.contracts.subjects import (
    EventKind,
    command_subject,
    event_subject,
    is_reconcile_subject,
    parse_store_subject,
    reconcile_subject,
    tenant_events,
)
from services.contracts.wire import decode_command, decode_event, encode

DOCS = Path(__file__).resolve().parents[2] / "docs"
NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize("good", ["abc", "my-shop-1", "a" * 40, "123", "a-b"])
def test_good_store_ids(good: str) -> None:
    assert store_id_problem(good) is None


@pytest.mark.parametrize(
    ("bad", "why"),
    [
        ("ab", "3-40"),
        ("a" * 41, "3-40"),
        ("Shop", "lowercase"),
        ("-shop", "start and end"),
        ("shop-", "start and end"),
        ("shop\n", "lowercase"),
        ("admin", "reserved"),
        ("kube-public", "reserved"),
        (None, "string"),
    ],
)
def test_bad_store_ids_say_why(bad: object, why: str) -> None:
    problem = store_id_problem(bad)
    assert problem is not None
    assert why in problem


def test_commands_round_trip_with_their_type_tag() -> None:
    spec = StoreSpec(id="shop", tenant="acme")
    create = CreateStore(command_id="c1", generation=1, issued_at=NOW, actor="t", spec=spec)
    delete = DeleteStore(
        command_id="c2", generation=2, issued_at=NOW, actor="t", tenant="acme", store="shop"
    )
    assert json.loads(encode(create))["type"] == "create-store"
    assert decode_command(encode(create)) == create
    assert decode_command(encode(delete)) == delete
    assert (create.tenant, create.store) == ("acme", "shop")


def test_events_round_trip() -> None:
    events = [
        StoreStatus(tenant="a", store="s1", phase=Phase.READY, generation=1, observed_at=NOW),
        StoreProgress(
            tenant="a",
            store="s1",
            generation=1,
            command_id="c",
            step="apply",
            state=StepState.SUCCEEDED,
            at=NOW,
        ),
        KubeEvent(
            tenant="a",
            store="s1",
            namespace="store-s1",
            object_kind="Pod",
            object_name="p",
            event_type="Warning",
            reason="BackOff",
            message="m",
            at=NOW,
        ),
    ]
    for event in events:
        assert decode_event(encode(event)) == event


def test_spec_refuses_reserved_id_when_decoded() -> None:
    with pytest.raises(msgspec.ValidationError, match="reserved"):
        msgspec.json.decode(b'{"id": "admin", "tenant": "acme"}', type=StoreSpec)


def test_subjects_carry_tenant_and_store() -> None:
    assert command_subject("acme", "shop") == "urumi.cmd.acme.shop"
    assert event_subject("acme", "shop", EventKind.STATUS) == "urumi.evt.acme.shop.status"
    assert tenant_events("acme") == "urumi.evt.acme.>"
    assert parse_store_subject("urumi.evt.acme.shop.kube") == ("acme", "shop")
    assert parse_store_subject("urumi.rpc.credentials.acme.shop") == ("acme", "shop")
    with pytest.raises(ValueError, match="not an urumi"):
        parse_store_subject("other.subject")


def test_reconcile_commands_have_a_subject_of_their_own() -> None:
    """The watcher's NATS user may publish there only, never a create or delete."""
    subject = reconcile_subject("acme", "shop")
    assert subject == "urumi.cmd.acme.shop.reconcile"
    assert is_reconcile_subject(subject)
    assert not is_reconcile_subject(command_subject("acme", "shop"))
    assert parse_store_subject(subject) == ("acme", "shop")
    cmd = ReconcileStore(
        command_id="c3",
        generation=2,
        issued_at=NOW,
        actor="watcher",
        tenant="acme",
        store="shop",
        reason="Deployment/wordpress deleted outside Urumi",
    )
    assert decode_command(encode(cmd)) == cmd


def test_every_message_has_a_schema() -> None:
    names = set(message_schemas()["messages"])
    assert {"CreateStore", "DeleteStore", "StoreStatus", "StoreProgress", "KubeEvent"} <= names


def test_published_asyncapi_document_is_current() -> None:
    """docs/asyncapi.json is what outside subscribers read; regenerate with
    `urumi schema --asyncapi > docs/asyncapi.json`."""
    published = json.loads((DOCS / "asyncapi.json").read_text())
    assert published == asyncapi_document()
