"""The notifier's `URUMI_*` settings (the common ones in `services.runtime.settings`)."""

from typing import ClassVar

from services.runtime.settings import Positive, Seconds, Settings


class NotifierSettings(Settings, frozen=True):
    secret_fields: ClassVar[frozenset[str]] = frozenset({"ticket_secret"})

    # Verifies the tickets the gateway signs with the same secret (required).
    ticket_secret: str = ""
    socket_queue: Positive = 256  # frames a socket may fall behind before it is cut
    ping_interval_s: Seconds = 20.0
    # Processes serving the one port (workers.py): each fans out on its own core.
    notifier_workers: Positive = 1
    # Bind the port with SO_REUSEPORT, sharing it with other notifier processes
    # (set for the further processes of notifier_workers; or to run several by hand).
    notifier_reuse_port: bool = False
