"""`free_port` (services/devtools/natsserver.py): loopback ports for the dev stack and tests."""

import socket
from pathlib import Path

from services.devtools.natsserver import free_port


def test_free_ports_avoid_the_ephemeral_range_and_repeat_never() -> None:
    """An outgoing connection cannot take one before its server binds it."""
    low = int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    ports = [free_port() for _ in range(200)]
    assert len(set(ports)) == len(ports)
    assert all(port < low for port in ports)
    with socket.socket() as s:
        s.bind(("127.0.0.1", ports[-1]))  # and free, when handed out
