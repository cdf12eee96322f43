"""urumi-render (deploy/render), the provisioner's chart renderer, built once
and cached by deploy/render/build.sh under ``~/.cache/urumi/render``."""

import subprocess
from pathlib import Path

BUILD_SCRIPT = Path(__file__).resolve().parents[2] / "deploy" / "render" / "build.sh"


def render_binary() -> Path:
    """The built urumi-render (builds it if its sources changed: ~1 min cold)."""
    built = subprocess.run([str(BUILD_SCRIPT)], check=True, capture_output=True, text=True)
    return Path(built.stdout.strip().splitlines()[-1]) / "urumi-render"
