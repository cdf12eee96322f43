"""Runs a tests/unit/js runner on the dashboard's own modules with Node.js."""

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

RUNNERS = Path(__file__).resolve().parent / "js"


def run_dashboard_js(runner: str, given: Any, what: str) -> Any:
    """What `runner` writes (JSON) for `given` (JSON on its stdin); `what` says
    what Node.js runs, should it be missing."""
    node = shutil.which("node")
    if node is None:
        pytest.fail(f"node (Node.js) is not on PATH: it runs {what}")
    done = subprocess.run(
        [node, str(RUNNERS / runner)],
        input=json.dumps(given),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)
