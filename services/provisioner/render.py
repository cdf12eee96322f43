"""`helm template` a store chart into manifests (no Helm release, no cluster)."""

import asyncio
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Final

import yaml

from services.contracts import labels
from services.provisioner.errors import PermanentError, TransientError
from services.provisioner.ordering import Manifest
from services.provisioner.values import Values

RENDER_TIMEOUT_S: Final = 60.0


async def render(
    helm: str,
    chart: Path,
    release: str,
    namespace: str,
    values: Values,
    overrides: Sequence[Path] = (),
) -> list[Manifest]:
    """Render `chart`; operator `overrides` first, so the store's own values win."""
    args = [helm, "template", release, str(chart), "--namespace", namespace]
    for path in overrides:
        args += ["--values", str(path)]
    args += ["--values", "-"]  # JSON is YAML: the store's values on stdin
    try:
        proc = await asyncio.create_subprocess_exec(
            *args,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
    except OSError as exc:
        raise PermanentError(f"cannot run helm ({helm}): {exc}; set URUMI_HELM_BINARY") from exc
    try:
        out, err = await asyncio.wait_for(
            proc.communicate(json.dumps(values).encode()), RENDER_TIMEOUT_S
        )
    except TimeoutError:
        proc.kill()
        await proc.wait()
        raise TransientError(f"helm template took longer than {RENDER_TIMEOUT_S:.0f}s") from None
    if proc.returncode != 0:
        raise PermanentError(f"chart {chart.name} rejected its values: {_helm_error(err)}")
    return parse_manifests(out.decode())


def operator_values(directory: str, chart: str) -> list[Path]:
    """The operator's values files for `chart`, in the order Helm layers them:
    `all.yaml` (every engine), then `<chart>.yaml` (this engine: its own images
    and settings, which the other charts' schemas would reject). Each is optional."""
    if not directory:
        return []
    root = Path(directory)
    return [path for path in (root / "all.yaml", root / f"{chart}.yaml") if path.is_file()]


def _helm_error(stderr: bytes) -> str:
    text = stderr.decode(errors="replace").strip()
    text = text.removeprefix("Error: ")
    return " ".join(line.strip() for line in text.splitlines() if line.strip())


def parse_manifests(text: str) -> list[Manifest]:
    """Every non-empty YAML document of a `helm template` output."""
    docs = yaml.safe_load_all(text)
    return [doc for doc in docs if isinstance(doc, dict) and doc.get("kind")]


def check_manifests(manifests: list[Manifest], namespace: str, store: str) -> None:
    """A store chart may only touch its own namespace, and must label what it
    makes (the watcher and prune find objects by these labels)."""
    for m in manifests:
        meta = m.get("metadata") or {}
        name = f"{m.get('kind')}/{meta.get('name')}"
        if m["kind"] == "Namespace":
            if meta.get("name") != namespace:
                raise PermanentError(f"chart renders {name}; a store may only use {namespace}")
        elif meta.get("namespace") != namespace:
            raise PermanentError(
                f"chart renders {name} outside {namespace} (namespace {meta.get('namespace')!r})"
            )
        found = meta.get("labels") or {}
        if (
            found.get(labels.STORE) != store
            or found.get(labels.MANAGED_BY) != labels.MANAGED_BY_VALUE
        ):
            raise PermanentError(f"chart renders {name} without the urumi store labels")
    if not manifests or manifests[0]["kind"] != "Namespace":
        raise PermanentError(f"chart renders no Namespace {namespace}")
