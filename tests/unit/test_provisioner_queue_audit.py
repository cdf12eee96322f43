"""When the work queue and its consumer disagree (services/provisioner/queue_audit.py)."""

import pytest

from services.provisioner.queue_audit import QueueView, stranded


def view(**changes: int | bool) -> QueueView:
    healthy: dict[str, int | bool] = {
        "ack_floor": 10,
        "unsettled": 3,
        "messages": 3,
        "first_seq": 11,
        "steady": True,
    }
    return QueueView(**{**healthy, **changes})  # type: ignore[arg-type]


def test_a_queue_whose_commands_are_all_accounted_for_is_fine() -> None:
    assert not stranded(view())
    assert not stranded(view(messages=0, unsettled=0, first_seq=0))


def test_a_command_at_or_below_the_ack_floor_will_never_come() -> None:
    assert stranded(view(first_seq=10))
    assert stranded(view(first_seq=4, messages=4, unsettled=4))


def test_more_commands_than_the_consumer_knows_of_will_never_all_come() -> None:
    assert stranded(view(messages=5, unsettled=3))


@pytest.mark.parametrize("changes", [{"first_seq": 10}, {"messages": 5}])
def test_a_publish_between_the_reads_is_no_evidence(changes: dict[str, int]) -> None:
    assert not stranded(view(steady=False, **changes))
