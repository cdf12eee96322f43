"""charts/platform's admission policy at render time: an operator cannot hand the
store charts a Pod Security the policy would refuse at every store's apply."""

import subprocess

import pytest

from tests.fixtures.charts import helm_path
from tests.unit.test_platform_chart_render import CHART, find, render_chart


@pytest.mark.parametrize(
    "override",
    [
        "stores.values.podSecurity.level=baseline",
        "stores.values.podSecurity.version=v1.25",
        "stores.engineValues.medusa.podSecurity.level=privileged",
    ],
)
def test_a_weaker_store_pod_security_is_refused_at_install(override: str) -> None:
    proc = subprocess.run(
        [helm_path(), "template", "x", str(CHART), "--set", override],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode != 0, override
    where = override.split("=")[0].rsplit(".", 1)[0]  # the podSecurity key
    assert f"{where}: store namespaces stay at Pod Security restricted" in proc.stderr


def test_the_store_charts_own_pod_security_renders() -> None:
    manifests = render_chart(sets=("stores.values.podSecurity.level=restricted",))
    policy = find(manifests, "ValidatingAdmissionPolicy")
    assert [v["reason"] for v in policy["spec"]["validations"]] == ["Forbidden"] * 3
