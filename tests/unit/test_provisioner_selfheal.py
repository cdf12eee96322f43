"""Self-healing in the provisioner: the fight limit, what a re-apply restored, its Event."""

from datetime import UTC, datetime, timedelta
from typing import Any, cast

from services.contracts.commands import DeleteStore
from services.contracts.subjects import reconcile_subject
from services.contracts.wire import encode
from services.provisioner.consumer import CommandConsumer
from services.provisioner.fight import FightLimit
from services.provisioner.kube_events import event_body
from services.provisioner.restored import what_changed

NOW = datetime(2026, 12, 5, 6, 0, tzinfo=UTC)


def test_the_fight_limit_counts_restores_inside_the_window() -> None:
    limit = FightLimit(limit=3, window_s=600)
    old = NOW - timedelta(minutes=11)
    recent = [NOW - timedelta(minutes=m) for m in (1, 2)]
    assert not limit.exceeded([old, *recent], NOW)
    assert limit.exceeded([*recent, NOW - timedelta(minutes=9)], NOW)
    assert limit.recent([old, *recent], NOW) == recent


def test_the_stop_message_says_what_and_until_when() -> None:
    text = FightLimit(limit=5, window_s=600).explain(["Deployment/wordpress"])
    assert "Deployment/wordpress" in text
    assert "5 restores in 10 minutes" in text
    assert "next change" in text


def obj(version: str, *managers: tuple[str, str]) -> dict[str, object]:
    fields = [{"manager": m, "time": t, "operation": "Update"} for m, t in managers]
    return {"metadata": {"resourceVersion": version, "managedFields": fields}}


def test_what_a_reapply_restored() -> None:
    after = obj("9")
    assert what_changed(None, after) == "deleted outside Urumi"
    assert what_changed(obj("9"), after) is None  # a no-op apply keeps the version
    edited = obj(
        "7", ("urumi-provisioner", "2026-12-05T06:00:00Z"), ("kubectl-edit", "2026-12-05T05:00:00Z")
    )
    assert what_changed(edited, after) == "changed outside Urumi by kubectl-edit"
    assert what_changed(obj("7"), after) == "changed outside Urumi"


def test_the_event_points_at_the_restored_object_in_the_store_namespace() -> None:
    restored = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "wordpress", "namespace": "store-shop", "uid": "u1"},
    }
    body = event_body(restored, "Restored", "restored Deployment wordpress", "Normal", NOW)
    assert body["metadata"]["namespace"] == "store-shop"
    assert body["involvedObject"] == {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "name": "wordpress",
        "namespace": "store-shop",
        "uid": "u1",
    }
    assert body["lastTimestamp"] == "2026-12-05T06:00:00Z"
    namespace = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "store-shop"}}
    assert (
        event_body(namespace, "RestoreStopped", "m", "Warning", NOW)["metadata"]["namespace"]
        == "store-shop"
    )


class FakeMsg:
    def __init__(self, subject: str, data: bytes) -> None:
        self.subject = subject
        self.data = data
        self.terminated = False

    async def term(self) -> None:
        self.terminated = True


async def test_only_reconciles_are_taken_from_the_reconcile_subject() -> None:
    """The watcher's NATS user may publish there: it must never delete a store."""
    cmd = DeleteStore(
        command_id="c", generation=9, issued_at=NOW, actor="x", tenant="acme", store="shop"
    )
    consumer = CommandConsumer(
        cast(Any, None), cast(Any, None), cast(Any, None), cast(Any, None), 1, cast(Any, None)
    )
    msg = FakeMsg(reconcile_subject("acme", "shop"), encode(cmd))
    await consumer.handle(cast(Any, msg))
    assert msg.terminated
