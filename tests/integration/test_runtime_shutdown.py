"""A service that waits for streams another service owns still stops on SIGTERM
(real processes, a real nats-server without the streams)."""

import time
from pathlib import Path

import pytest

from services.devtools.natsserver import NatsServer
from tests.fixtures.charts import render_path
from tests.fixtures.processes import StartService
from tests.fixtures.waiting import eventually

# Never contacted: a service reaches Kubernetes only after the streams exist.
KUBECONFIG = """\
apiVersion: v1
kind: Config
clusters: [{name: none, cluster: {server: "https://127.0.0.1:1"}}]
users: [{name: none, user: {token: none}}]
contexts: [{name: none, context: {cluster: none, user: none}}]
current-context: none
"""


@pytest.mark.parametrize("service", ["gateway", "provisioner", "watcher", "notifier"])
async def test_waiting_for_streams_stops_promptly_on_sigterm(
    service: str, nats_server: NatsServer, start_service: StartService, tmp_path: Path
) -> None:
    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text(KUBECONFIG)
    env = {
        "URUMI_NATS_URL": nats_server.url,
        "URUMI_MANAGE_STREAMS": "false",
        "URUMI_KUBECONFIG": str(kubeconfig),
        "URUMI_RENDER_BINARY": render_path(),
        "URUMI_TICKET_SECRET": "test-secret-" * 4,
        "URUMI_DATABASE": str(tmp_path / "gateway.db"),
    }
    proc = start_service(service, env, wait=False)
    assert proc.log is not None

    async def waiting() -> bool:
        assert proc.alive(), proc.log.read_text() if proc.log else ""
        return proc.log is not None and "waiting for stream" in proc.log.read_text()

    await eventually(waiting, within=30, what=f"{service} waiting for the streams")
    began = time.monotonic()
    code = proc.stop()
    assert code == 0, proc.log.read_text()
    assert time.monotonic() - began < 5
