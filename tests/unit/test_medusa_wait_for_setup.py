"""The Medusa chart's database waits, run as rendered (sh and node, against a
stand-in for the image's `pg` module): they say why they are still waiting, and
an image that cannot query the database fails at once with the reason instead
of waiting silently until the store's deadline."""

import os
import signal
import subprocess
import threading
from pathlib import Path
from typing import Any

import pytest

from services.provisioner.render import Renderer
from tests.fixtures.charts import one, pod_spec, render_path
from tests.unit.test_medusa_chart import containers, rendered

# FAKE_PG: "down" (the database refuses connections), "empty" (no row yet),
# anything else (a row).
FAKE_PG = """
class Client {
  connect() {
    return process.env.FAKE_PG === "down"
      ? Promise.reject(new Error("connect ECONNREFUSED 10.96.0.7:5432"))
      : Promise.resolve();
  }
  query() { return Promise.resolve({ rowCount: process.env.FAKE_PG === "empty" ? 0 : 1 }); }
  end() { return Promise.resolve(); }
}
module.exports = { Client };
"""


async def wait_for_setup() -> dict[str, Any]:
    async with Renderer(render_path()) as renderer:
        server = one(await rendered(renderer), "Deployment", "medusa-server")
    (init,) = pod_spec(server)["initContainers"]
    return dict(init)


async def setup_job() -> dict[str, Any]:
    async with Renderer(render_path()) as renderer:
        (c,) = containers(one(await rendered(renderer), "Job"))
    return dict(c)


def app_dir(tmp_path: Path, with_pg: bool) -> Path:
    """The image's workdir: the built app, with or without its `pg` module."""
    app = tmp_path / "app"
    if with_pg:
        (app / "node_modules" / "pg").mkdir(parents=True)
        (app / "node_modules" / "pg" / "index.js").write_text(FAKE_PG)
    else:
        app.mkdir()
    return app


def start(container: dict[str, Any], cwd: Path, fake_pg: str = "") -> subprocess.Popen[str]:
    assert container["command"] == ["/bin/sh", "-c"]
    env = {"PATH": os.environ["PATH"], "DATABASE_URL": "postgres://x@postgres/medusa"}
    return subprocess.Popen(
        ["/bin/sh", "-c", container["args"][0]],
        cwd=cwd,
        env={**env, "FAKE_PG": fake_pg},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # its `sleep` goes with it
    )


def stop(proc: subprocess.Popen[str]) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()


def first_line(proc: subprocess.Popen[str]) -> str:
    """The first line the script prints; the script is killed if none comes in 20 s."""
    watchdog = threading.Timer(20, stop, (proc,))
    watchdog.start()
    try:
        assert proc.stdout is not None
        return proc.stdout.readline()
    finally:
        watchdog.cancel()


@pytest.mark.parametrize("which", ["wait-for-setup", "setup job"])
async def test_an_image_without_pg_fails_at_once_and_its_log_says_why(
    tmp_path: Path, which: str
) -> None:
    container = await (wait_for_setup() if which == "wait-for-setup" else setup_job())
    # The log's end becomes the termination message the watcher reports.
    assert container["terminationMessagePolicy"] == "FallbackToLogsOnError"
    proc = start(container, app_dir(tmp_path, with_pg=False))
    try:
        _, err = proc.communicate(timeout=20)
    except subprocess.TimeoutExpired:
        stop(proc)
        pytest.fail(f"{which} kept waiting on an image that cannot query the database")
    assert proc.returncode == 3
    assert "this image cannot query the database" in err
    assert "Cannot find module 'pg'" in err


async def test_waiting_for_a_database_that_does_not_answer_says_why(tmp_path: Path) -> None:
    proc = start(await wait_for_setup(), app_dir(tmp_path, with_pg=True), fake_pg="down")
    try:
        line = first_line(proc)
        assert proc.poll() is None, "gave up on a database that may yet come up"
    finally:
        stop(proc)
    assert line.startswith("waiting for the setup job")
    assert "connect ECONNREFUSED 10.96.0.7:5432" in line


async def test_waits_for_the_setup_job_then_lets_medusa_start(tmp_path: Path) -> None:
    app = app_dir(tmp_path, with_pg=True)
    container = await wait_for_setup()
    waiting = start(container, app, fake_pg="empty")
    try:
        line = first_line(waiting)
    finally:
        stop(waiting)
    assert line == "waiting for the setup job (migrations, admin user)\n"
    done = start(container, app, fake_pg="rows")
    assert done.wait(timeout=20) == 0
