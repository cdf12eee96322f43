"""The platform chart hands an operator's engine releases to the gateway and the
provisioner, which merge them over the shipped catalog."""

import subprocess
from pathlib import Path

import yaml

from services.contracts.store import Engine
from services.runtime.releases import load_catalog
from tests.fixtures.charts import helm_path
from tests.unit.test_platform_chart_render import CHART, deployment, env_of, find

OPERATOR = """
stores:
  releases:
    woocommerce:
      default: woo-mirror
      releases:
        - name: woo-mirror
          released: 2026-12-01
          chart: 0.1.0
          versions: {wordpress: "6.8"}
          values: {images: {wordpress: {repository: mirror.test/wordpress}}}
"""


def test_stores_releases_reach_the_gateway_and_the_provisioner(tmp_path: Path) -> None:
    values = tmp_path / "operator.yaml"
    values.write_text(OPERATOR)
    args = [helm_path(), "template", "urumi", str(CHART), "--namespace", "urumi"]
    args += ["--values", str(CHART / "values.yaml"), "--values", str(values)]
    proc = subprocess.run(args, capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stderr
    manifests = [d for d in yaml.safe_load_all(proc.stdout) if isinstance(d, dict)]

    catalog = tmp_path / "releases.yaml"
    catalog.write_text(find(manifests, "ConfigMap", "urumi-releases")["data"]["releases.yaml"])
    woo = load_catalog(extra_file=str(catalog)).of(Engine.WOOCOMMERCE)
    assert (woo.default.name, woo.names()[-1]) == ("woo-mirror", "woo-mirror")
    for service in ("gateway", "provisioner"):
        pod = deployment(manifests, service)["spec"]["template"]
        container = pod["spec"]["containers"][0]
        assert env_of(container)["URUMI_RELEASES_FILE"] == "/etc/urumi/releases/releases.yaml"
        mounts = {m["name"]: m["mountPath"] for m in container["volumeMounts"]}
        assert mounts["releases"] == "/etc/urumi/releases"
        volumes = {v["name"]: v for v in pod["spec"]["volumes"]}
        assert volumes["releases"]["configMap"]["name"] == "urumi-releases"
        assert "checksum/releases" in pod["metadata"]["annotations"]
