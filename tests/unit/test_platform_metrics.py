"""Prometheus and charts/platform: who the NetworkPolicies let reach /metrics, and
the ServiceMonitor behind `metrics.serviceMonitor.enabled`."""

import subprocess
from typing import Any

import pytest

from tests.fixtures.charts import helm_path
from tests.unit.test_platform_chart_render import (
    CHART,
    SERVICES,
    VALUES_FILES,
    Manifest,
    deployment,
    of_kind,
    render_chart,
)

HTTP_PORT = 8080
SCRAPER = (
    "metrics.scraper.namespace=monitoring",
    r"metrics.scraper.podLabels.app\.kubernetes\.io/name=prometheus",
)


def selects(selector: dict[str, Any], labels: dict[str, str]) -> bool:
    """A Kubernetes label selector (matchLabels and matchExpressions) against labels."""
    if any(labels.get(k) != v for k, v in (selector.get("matchLabels") or {}).items()):
        return False
    for e in selector.get("matchExpressions") or []:
        has, value = e["key"] in labels, labels.get(e["key"])
        ok = {
            "In": has and value in e.get("values", []),
            "NotIn": not has or value not in e.get("values", []),
            "Exists": has,
            "DoesNotExist": not has,
        }[e["operator"]]
        if not ok:
            return False
    return True


def admitted(manifests: list[Manifest], pod_labels: dict[str, str], port: int) -> list[Any]:
    """The peers (`from` entries) the NetworkPolicies admit to a pod on a TCP port."""
    peers = []
    for policy in of_kind(manifests, "NetworkPolicy"):
        spec = policy["spec"]
        if "Ingress" not in spec["policyTypes"] or not selects(spec["podSelector"], pod_labels):
            continue
        for rule in spec.get("ingress", []):
            ports = [p["port"] for p in rule.get("ports", [])]
            if not ports or port in ports:
                peers.extend(rule.get("from", [{"anywhere": True}]))
    return peers


def pod_labels(manifests: list[Manifest], service: str) -> dict[str, str]:
    labels: dict[str, str] = deployment(manifests, service)["spec"]["template"]["metadata"][
        "labels"
    ]
    return labels


def ingress_controller(values_file: str) -> list[Any]:
    namespace = "kube-system" if values_file == "values-k3s.yaml" else "ingress-nginx"
    return [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": namespace}}}]


@pytest.mark.parametrize("values_file", VALUES_FILES)
def test_by_default_no_scraper_reaches_metrics_and_no_service_monitor(values_file: str) -> None:
    manifests = render_chart(values_file)
    assert of_kind(manifests, "ServiceMonitor", "PodMonitor") == []
    for service in SERVICES:
        peers = admitted(manifests, pod_labels(manifests, service), HTTP_PORT)
        expected = ingress_controller(values_file) if service in ("gateway", "notifier") else []
        assert peers == expected, service


@pytest.mark.parametrize("values_file", VALUES_FILES)
def test_the_configured_scraper_reaches_every_services_metrics_port(values_file: str) -> None:
    manifests = render_chart(values_file, sets=SCRAPER)
    scraper = {
        "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "monitoring"}},
        "podSelector": {"matchLabels": {"app.kubernetes.io/name": "prometheus"}},
    }
    for service in SERVICES:
        (c,) = deployment(manifests, service)["spec"]["template"]["spec"]["containers"]
        assert {"name": "http", "containerPort": HTTP_PORT, "protocol": "TCP"} in c["ports"]
        assert scraper in admitted(manifests, pod_labels(manifests, service), HTTP_PORT), service
    # Only the services' http port: NATS stays closed to the scraper.
    (nats,) = of_kind(manifests, "StatefulSet")
    for port in (4222, 6222, 8222):
        assert scraper not in admitted(
            manifests, nats["spec"]["template"]["metadata"]["labels"], port
        )


def test_any_pod_of_the_scraper_namespace_when_no_labels_are_given() -> None:
    manifests = render_chart(sets=("metrics.scraper.namespace=monitoring",))
    peers = admitted(manifests, pod_labels(manifests, "watcher"), HTTP_PORT)
    assert peers == [
        {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "monitoring"}}}
    ]


def test_service_monitor_scrapes_the_four_services_metrics() -> None:
    manifests = render_chart(
        "values-local.yaml",
        sets=(
            *SCRAPER,
            "metrics.serviceMonitor.enabled=true",
            "metrics.serviceMonitor.labels.release=kube-prometheus-stack",
        ),
        namespace="platform",
    )
    (monitor,) = of_kind(manifests, "ServiceMonitor")
    assert monitor["apiVersion"] == "monitoring.coreos.com/v1"
    assert monitor["metadata"]["labels"]["release"] == "kube-prometheus-stack"
    spec = monitor["spec"]
    assert spec["namespaceSelector"] == {"matchNames": ["platform"]}
    scraped = [
        s
        for s in of_kind(manifests, "Service")
        if selects(spec["selector"], s["metadata"]["labels"])
    ]
    assert sorted(s["metadata"]["name"] for s in scraped) == sorted(
        f"urumi-{service}" for service in SERVICES
    )
    (endpoint,) = spec["endpoints"]
    assert (endpoint["port"], endpoint["path"]) == ("http", "/metrics")
    for service in scraped:
        assert "http" in [p["name"] for p in service["spec"]["ports"]]


def test_service_monitor_without_a_scraper_namespace_is_refused() -> None:
    proc = subprocess.run(
        [
            helm_path(),
            "template",
            "urumi",
            str(CHART),
            "--set",
            "metrics.serviceMonitor.enabled=true",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode != 0
    assert "metrics.scraper.namespace" in proc.stderr
    # Without NetworkPolicies nothing blocks the scraper: nothing to name.
    manifests = render_chart(
        sets=("metrics.serviceMonitor.enabled=true", "networkPolicy.enabled=false")
    )
    assert len(of_kind(manifests, "ServiceMonitor")) == 1
