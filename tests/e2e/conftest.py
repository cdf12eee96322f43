"""The whole platform as processes on the devcluster, as the fault drills run it."""

from tests.faults.conftest import Launch, launch

__all__ = ["Launch", "launch"]
