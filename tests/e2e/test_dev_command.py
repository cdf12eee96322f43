"""`urumi dev` as a newcomer runs it: start, create a store from the CLI, see it pending."""

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from nats.js.api import RawStreamMsg
from nats.js.errors import NotFoundError

from services.contracts import streams
from services.contracts.subjects import command_subject
from services.runtime import bus
from tests.fixtures.waiting import eventually


@pytest.fixture
def dev_stack(tmp_path: Path) -> Iterator[tuple[Path, dict[str, Any]]]:
    log = (tmp_path / "dev.log").open("wb")
    proc = subprocess.Popen(
        [sys.executable, "-m", "services.cli.main", "dev", "--no-cluster"],
        cwd=tmp_path,
        stdout=log,
        stderr=subprocess.STDOUT,
        env={k: v for k, v in os.environ.items() if k != "KUBECONFIG"},
    )
    info_file = tmp_path / ".urumi" / "dev.json"
    deadline = time.monotonic() + 90
    while not info_file.exists():
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            pytest.fail("urumi dev did not start:\n" + (tmp_path / "dev.log").read_text())
        time.sleep(0.2)
    yield tmp_path, json.loads(info_file.read_text())
    proc.send_signal(signal.SIGINT)
    assert proc.wait(30) == 0, "Ctrl-C must stop urumi dev cleanly"
    log.close()


def _cli(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "services.cli.main", "stores", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


async def test_newcomer_creates_a_store_and_sees_it_pending(
    dev_stack: tuple[Path, dict[str, Any]],
) -> None:
    cwd, info = dev_stack
    assert info["token"].startswith("urumi_")
    assert info["api_url"].startswith("http://127.0.0.1:")

    created = _cli(cwd, "create", "first-shop")
    assert created.returncode == 0, created.stderr
    assert "pending" in created.stdout
    listed = _cli(cwd, "list")
    assert "first-shop" in listed.stdout
    bad = _cli(cwd, "create", "Bad_Id")
    assert bad.returncode == 1
    assert "422" in bad.stderr and "`id`" in bad.stderr

    nc = await bus.connect(info["nats_url"], "test")
    try:
        js = nc.jetstream()

        async def sent() -> RawStreamMsg | None:
            try:
                return await js.get_last_msg(
                    streams.COMMANDS.name, command_subject("dev", "first-shop")
                )
            except NotFoundError:
                return None

        msg = await eventually(sent, 15, what="first-shop's command on the stream")
        assert b"first-shop" in (msg.data or b"")
    finally:
        await nc.close()
