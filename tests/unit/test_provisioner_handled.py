"""Which commands the provisioner need not run (services/provisioner/locking.py)."""

from services.provisioner.locking import Handled

HANDLED = Handled(3, "cmd-3")


def test_an_older_generation_is_stale() -> None:
    assert HANDLED.skips(2, "cmd-2") == "stale"


def test_the_handled_command_delivered_again_is_a_duplicate() -> None:
    assert HANDLED.skips(3, "cmd-3") == "duplicate"


def test_a_newer_command_runs() -> None:
    assert HANDLED.skips(4, "cmd-4") is None
    assert Handled().skips(1, "cmd-1") is None


def test_the_record_round_trips_and_reads_the_old_format() -> None:
    assert Handled.parse(HANDLED.encode()) == HANDLED
    # Written before command ids were recorded: the generation alone.
    assert Handled.parse(b"3") == Handled(3, "")
    assert Handled.parse(b"3").skips(3, "cmd-3") is None
