"""deploy/kind/up.sh run against stand-ins for docker, kind, kubectl and helm
(there is no docker here): which images it builds and loads, what it tells the
chart, and that it waits for ingress-nginx without racing its pod."""

import stat
import subprocess
from pathlib import Path

import pytest
import yaml

REPO_ROOT = Path(__file__).resolve().parents[2]
UP = REPO_ROOT / "deploy" / "kind" / "up.sh"

# Every tool appends its argv to $CALLS. kubectl answers like a cluster whose
# ingress-nginx Deployment exists but whose pod has not been created yet.
STUB = """#!/usr/bin/env bash
printf '%s %s\\n' "$(basename "$0")" "$*" >>"$CALLS"
case "$(basename "$0") $*" in
  "kind get clusters"*) echo urumi ;;
  kubectl*" wait "*--selector*) echo "error: no matching resources found" >&2; exit 1 ;;
  kubectl*" get ingress "*) printf urumi.127.0.0.1.nip.io ;;
  kubectl*" get secret "*) printf dG9rZW4= ;;
esac
"""


def run_up(tmp_path: Path, **env: str) -> tuple[subprocess.CompletedProcess[str], list[str]]:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for tool in ("docker", "kind", "kubectl", "helm"):
        path = bin_dir / tool
        path.write_text(STUB)
        path.chmod(path.stat().st_mode | stat.S_IXUSR)
    calls = tmp_path / "calls"
    calls.touch()
    proc = subprocess.run(
        ["bash", str(UP)],
        env={
            "PATH": f"{bin_dir}:/usr/bin:/bin",
            "CALLS": str(calls),
            "HELM": str(bin_dir / "helm"),
            **env,
        },
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    return proc, calls.read_text().splitlines()


def chart_medusa_image() -> str:
    values = yaml.safe_load((REPO_ROOT / "charts" / "medusa" / "values.yaml").read_text())
    image = values["images"]["medusa"]
    return f"{image['repository']}:{image['tag']}"


def test_ingress_nginx_is_awaited_by_rollout_not_by_a_pod_that_may_not_exist(
    tmp_path: Path,
) -> None:
    proc, calls = run_up(tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert (
        "kubectl --context kind-urumi -n ingress-nginx rollout status "
        "deployment/ingress-nginx-controller --timeout=600s"
    ) in calls
    assert "Urumi is up on kind" in proc.stdout


def test_medusa_image_is_built_loaded_and_given_to_every_medusa_store(tmp_path: Path) -> None:
    proc, calls = run_up(tmp_path)
    assert proc.returncode == 0, proc.stderr
    image = chart_medusa_image()
    assert f"docker build -t {image} {REPO_ROOT}/deploy/medusa" in calls
    assert f"kind load docker-image {image} --name urumi" in calls
    (helm,) = [c for c in calls if c.startswith("helm upgrade --install")]
    repository, tag = image.rsplit(":", 1)
    assert f"--set stores.engineValues.medusa.images.medusa.repository={repository}" in helm
    assert f"--set-string stores.engineValues.medusa.images.medusa.tag={tag}" in helm


def test_an_operator_image_from_a_registry_is_not_built(tmp_path: Path) -> None:
    image = "registry.example.com:5000/shop/urumi-medusa:2.21"
    proc, calls = run_up(tmp_path, MEDUSA_IMAGE=image, MEDUSA_BUILD="false")
    assert proc.returncode == 0, proc.stderr
    assert not [c for c in calls if c.startswith("docker") and "deploy/medusa" in c]
    assert not [c for c in calls if c.startswith("kind load") and image in c]
    (helm,) = [c for c in calls if c.startswith("helm upgrade --install")]
    assert (
        "--set stores.engineValues.medusa.images.medusa.repository="
        "registry.example.com:5000/shop/urumi-medusa"
    ) in helm
    # A string, so "2.21" does not reach the chart as the number 2.21.
    assert "--set-string stores.engineValues.medusa.images.medusa.tag=2.21" in helm


@pytest.mark.parametrize("image", ["urumi-medusa", "registry.example.com:5000/urumi-medusa"])
def test_an_image_without_a_tag_is_refused_before_anything_runs(tmp_path: Path, image: str) -> None:
    proc, calls = run_up(tmp_path, MEDUSA_IMAGE=image)
    assert proc.returncode == 2
    assert "MEDUSA_IMAGE must be repository:tag" in proc.stderr
    assert calls == []
