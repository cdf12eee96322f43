"""urumi-render, the provisioner's chart renderer: the objects `helm template`
renders (the same Helm, pinned alike), its refusals in Helm's words, and a
renderer that crashed or whose chart changed on disk never serves stale work."""

import asyncio
import json
import shutil
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import msgspec
import pytest
import yaml

from services.contracts.backups import RestoreFrom
from services.contracts.store import Engine, Plan, StoreSpec
from services.provisioner.backup_values import BackupStorage, backup_values
from services.provisioner.engines import DEFAULT_CHARTS, ENGINES
from services.provisioner.errors import PermanentError
from services.provisioner.ordering import Manifest
from services.provisioner.render import Renderer
from services.provisioner.values import StoreIngress, Values

AT = datetime(2026, 3, 4, 5, 6, 7, tzinfo=UTC)
STORAGE = BackupStorage("https://s3.example.com", "backups", "urumi", "eu-1")
TLS = StoreIngress(base_domain="shops.example.com", tls_issuer="letsencrypt", tls_mode="http01")
PLAIN = StoreIngress(base_domain="127.0.0.1.nip.io", store_port=8088)

SPECS = [
    (StoreSpec(id="small-shop", tenant="acme"), PLAIN, None),
    (
        StoreSpec(id="big-shop", tenant="acme", plan=Plan.LARGE, display_name='Big: "Shop" ünï'),
        TLS,
        None,
    ),
    (StoreSpec(id="sleepy", tenant="acme", asleep=True, domains=["shop.example.org"]), TLS, None),
    (
        StoreSpec(id="copy-shop", tenant="acme"),
        PLAIN,
        RestoreFrom("live", "backup-20260101-101010", "live.shops.test"),
    ),
]


def store_values(
    engine: Engine, spec: StoreSpec, ingress: StoreIngress, restore: RestoreFrom | None
) -> Values:
    spec = msgspec.structs.replace(spec, engine=engine)
    values = ENGINES[engine].values(spec, 3, AT, ingress)
    return backup_values(values, STORAGE, spec, restore)


def helm_template(
    helm: str, chart: Path, store: str, values: Values, overrides: list[Path]
) -> list[Manifest]:
    args = [helm, "template", store, str(chart), "--namespace", f"store-{store}"]
    for path in overrides:
        args += ["--values", str(path)]
    out = subprocess.run(
        [*args, "--values", "-"],
        input=json.dumps(values),
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return [doc for doc in yaml.safe_load_all(out) if isinstance(doc, dict) and doc.get("kind")]


def helm_refusal(helm: str, chart: Path, store: str, values: Values) -> str:
    args = [helm, "template", store, str(chart), "--namespace", f"store-{store}"]
    out = subprocess.run(
        [*args, "--values", "-"], input=json.dumps(values), capture_output=True, text=True
    )
    assert out.returncode != 0, "helm template took values it should refuse"
    return out.stderr.removeprefix("Error: ")


@pytest.mark.parametrize("engine", list(Engine))
async def test_the_objects_are_helm_templates(
    renderer: Renderer, helm: str, engine: Engine, tmp_path: Path
) -> None:
    """Every kind of store (plans, TLS, asleep, own domains, a restore), with a
    release's values under an operator's file under the store's: the same
    objects, in the same order."""
    base: Values = {"images": {"pullPolicy": "Always"}}
    pinned = tmp_path / "release.json"
    pinned.write_text(json.dumps(base))
    operator = tmp_path / "all.yaml"
    operator.write_text("images:\n  pullPolicy: Never\n")
    chart = DEFAULT_CHARTS / ENGINES[engine].chart
    for spec, ingress, restore in SPECS:
        values = store_values(engine, spec, ingress, restore)
        name, ns = spec.id, f"store-{spec.id}"
        ours = await renderer.render(chart, name, ns, values, [operator], base)
        assert ours == helm_template(helm, chart, name, values, [pinned, operator]), spec.id
        assert {c.get("imagePullPolicy") for m in ours for c in _containers(m)} <= {"Never"}


def _containers(m: Manifest) -> list[dict[str, object]]:
    pod = m.get("spec", {}).get("template", {}).get("spec", {})
    return [*pod.get("initContainers", []), *pod.get("containers", [])]


async def test_a_refusal_is_helms_naming_the_value(renderer: Renderer, helm: str) -> None:
    """The schema is compiled once per chart, not per render as Helm does: its
    refusals stay Helm's, word for word, and a good store after a bad one renders."""
    values = store_values(Engine.WOOCOMMERCE, SPECS[0][0], PLAIN, None)
    values["store"]["id"] = "ab"
    values["store"]["plan"] = "huge"
    chart = DEFAULT_CHARTS / "woocommerce"
    with pytest.raises(
        PermanentError, match=r"woocommerce rejected its values: .*'/store/id': minLength"
    ) as refused:
        await renderer.render(chart, "ab", "store-ab", values)
    said = helm_refusal(helm, chart, "ab", values).splitlines()
    assert str(refused.value).endswith(" ".join(x.strip() for x in said if x.strip()))
    # And the next store renders: a refusal is an answer, not a broken renderer.
    good = store_values(Engine.WOOCOMMERCE, SPECS[0][0], PLAIN, None)
    assert await renderer.render(
        DEFAULT_CHARTS / "woocommerce", "small-shop", "store-small-shop", good
    )


def tiny_chart(root: Path, greeting: str) -> Path:
    chart = root / "tiny"
    (chart / "templates").mkdir(parents=True, exist_ok=True)
    (chart / "Chart.yaml").write_text("apiVersion: v2\nname: tiny\nversion: 0.1.0\n")
    (chart / "templates" / "only-a-comment.yaml").write_text(
        "# nothing here\n{{- if false }}\nx: 1\n{{- end }}\n"
    )
    (chart / "templates" / "map.yaml").write_text(
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}\n"
        "  namespace: {{ .Release.Namespace }}\n"
        f"data:\n  greeting: {greeting}\n  count: {{{{ .Values.count | quote }}}}\n"
    )
    return chart


async def test_empty_documents_are_left_out_and_a_changed_chart_is_read_again(
    renderer: Renderer, tmp_path: Path
) -> None:
    chart = tiny_chart(tmp_path, "hello")
    (only,) = await renderer.render(chart, "r1", "ns", {"count": 1000000})
    assert only["metadata"] == {"name": "r1", "namespace": "ns"}
    # Numbers come through as helm reads them (JSON is YAML to it).
    assert only["data"] == {"greeting": "hello", "count": "1e+06"}
    await asyncio.sleep(0.01)  # a later modification time
    tiny_chart(tmp_path, "bonjour")
    (again,) = await renderer.render(chart, "r1", "ns", {"count": 2})
    assert again["data"]["greeting"] == "bonjour"


async def test_a_crashed_renderer_is_replaced(renderer: Renderer, tmp_path: Path) -> None:
    chart = tiny_chart(tmp_path, "hello")
    await renderer.render(chart, "r1", "ns", {"count": 1})
    proc = renderer._proc
    assert proc is not None
    proc.kill()
    await proc.wait()
    (after,) = await renderer.render(chart, "r2", "ns", {"count": 1})
    assert after["metadata"]["name"] == "r2"
    assert renderer._proc is not proc


async def test_a_missing_renderer_says_what_to_set(tmp_path: Path) -> None:
    async with Renderer(str(tmp_path / "nowhere")) as missing:
        with pytest.raises(PermanentError, match="URUMI_RENDER_BINARY"):
            await missing.render(tiny_chart(tmp_path, "x"), "r", "ns", {})


def test_the_renderer_builds_from_its_own_sources() -> None:
    """deploy/render/build.sh: a second call with the same sources builds nothing."""
    script = Path(__file__).resolve().parents[2] / "deploy" / "render" / "build.sh"
    first = subprocess.run([str(script)], capture_output=True, text=True, check=True)
    second = subprocess.run([str(script)], capture_output=True, text=True, check=True)
    assert first.stdout == second.stdout
    assert "building" not in second.stderr
    assert shutil.which("urumi-render", path=first.stdout.strip()) is not None
