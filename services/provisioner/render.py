"""Render a store chart into manifests (no Helm release, no cluster) with
urumi-render (deploy/render): Helm's own rendering in one long-running process,
so a store costs neither a helm start-up nor a YAML parse here."""

import asyncio
import contextlib
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Final

import msgspec
import yaml

from services.contracts import labels
from services.provisioner.errors import PermanentError, TransientError
from services.provisioner.ordering import Manifest
from services.provisioner.values import Values

RENDER_TIMEOUT_S: Final = 60.0
# An answer holds every object of a store, as one line.
MAX_ANSWER_BYTES: Final = 64 << 20


class _Answer(msgspec.Struct):
    objects: list[dict[str, Any]] = []
    error: str = ""


class Renderer:
    """One urumi-render process, started on first use and again after it died
    or hung; one request at a time (a render takes milliseconds)."""

    def __init__(self, binary: str) -> None:
        self.binary = binary
        self._proc: asyncio.subprocess.Process | None = None
        self._lock = asyncio.Lock()

    async def render(
        self,
        chart: Path,
        release: str,
        namespace: str,
        values: Values,
        overrides: Sequence[Path] = (),
        base: Values | None = None,
    ) -> list[Manifest]:
        """Render `chart` with `base` (a release's pins) under the operator's
        `overrides` files, under the store's own `values`."""
        request = msgspec.json.encode(
            {
                "chart": str(chart),
                "release": release,
                "namespace": namespace,
                "baseValues": base or {},
                "valueFiles": [str(path) for path in overrides],
                "values": values,
            }
        )
        async with self._lock:
            line = await self._exchange(request + b"\n")
        answer = msgspec.json.decode(line, type=_Answer)
        if answer.error:
            raise PermanentError(
                f"chart {chart.name} rejected its values: {_oneline(answer.error)}"
            )
        return [doc for doc in answer.objects if doc.get("kind")]

    async def _exchange(self, request: bytes) -> bytes:
        proc = await self._started()
        assert proc.stdin is not None
        assert proc.stdout is not None
        try:
            proc.stdin.write(request)
            await proc.stdin.drain()
            line = await asyncio.wait_for(proc.stdout.readline(), RENDER_TIMEOUT_S)
        except TimeoutError:
            await self.aclose()
            raise TransientError(f"rendering took longer than {RENDER_TIMEOUT_S:.0f}s") from None
        except (ConnectionError, ValueError) as exc:
            await self.aclose()
            raise TransientError(f"{self.binary} failed: {exc}") from exc
        if not line:
            await self.aclose()
            raise TransientError(f"{self.binary} exited (see its output above); it is restarted")
        return line

    async def _started(self) -> asyncio.subprocess.Process:
        if self._proc is None or self._proc.returncode is not None:
            try:
                self._proc = await asyncio.create_subprocess_exec(
                    self.binary,
                    stdin=asyncio.subprocess.PIPE,
                    stdout=asyncio.subprocess.PIPE,
                    limit=MAX_ANSWER_BYTES,
                )
            except OSError as exc:
                raise PermanentError(
                    f"cannot run {self.binary}: {exc}; set URUMI_RENDER_BINARY "
                    "(deploy/render/build.sh builds it)"
                ) from exc
        return self._proc

    async def __aenter__(self) -> "Renderer":
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        proc, self._proc = self._proc, None
        if proc is None or proc.returncode is not None:
            return
        assert proc.stdin is not None
        proc.stdin.close()
        try:
            await asyncio.wait_for(proc.wait(), 5.0)
        except TimeoutError:
            with contextlib.suppress(ProcessLookupError):
                proc.kill()
            await proc.wait()


def operator_values(directory: str, chart: str) -> list[Path]:
    """The operator's values files for `chart`, in the order Helm layers them:
    `all.yaml` (every engine), then `<chart>.yaml` (this engine: its own images
    and settings, which the other charts' schemas would reject). Each is optional."""
    if not directory:
        return []
    root = Path(directory)
    return [path for path in (root / "all.yaml", root / f"{chart}.yaml") if path.is_file()]


def _oneline(message: str) -> str:
    return " ".join(line.strip() for line in message.splitlines() if line.strip())


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
