"""The control-plane work counters of the provisioning burst: parse, diff, per store."""

import math

import pytest

from bench.kubework import (
    APISERVER_SAMPLES,
    CLIENT_SAMPLES,
    ETCD_SAMPLES,
    PROXY_SAMPLES,
    Column,
    classify,
    diff,
    parse,
    per_store_table,
    resource_name,
    sum_by,
    work,
)


def req(verb: str, resource: str, code: str = "200", group: str = "", sub: str = "") -> str:
    """One apiserver_request_total label set (the real one is too long for a line)."""
    return (
        f'code="{code}",component="apiserver",dry_run="",group="{group}",'
        f'resource="{resource}",scope="resource",subresource="{sub}",verb="{verb}",version="v1"'
    )


API_BEFORE = f"""\
# HELP apiserver_request_total [STABLE] Counter of apiserver requests
# TYPE apiserver_request_total counter
apiserver_request_total{{{req("APPLY", "namespaces")}}} 4
apiserver_request_total{{{req("POST", "configmaps", "201")}}} 2
apiserver_request_total{{{req("GET", "", sub="/metrics")}}} 1
# HELP apiserver_selfrequest_total Counter of apiserver self-requests
# TYPE apiserver_selfrequest_total counter
apiserver_selfrequest_total{{group="",resource="configmaps",subresource="",verb="POST"}} 2
# HELP apiserver_watch_events_total Number of events sent in watch clients
# TYPE apiserver_watch_events_total counter
apiserver_watch_events_total{{group="apps",resource="deployments",version="v1"}} 10
# HELP apiserver_watch_events_sizes Watch event size distribution in bytes
# TYPE apiserver_watch_events_sizes histogram
apiserver_watch_events_sizes_bucket{{group="apps",resource="deployments",version="v1",le="1024"}} 4
apiserver_watch_events_sizes_bucket{{group="apps",resource="deployments",version="v1",le="+Inf"}} 10
apiserver_watch_events_sizes_sum{{group="apps",resource="deployments",version="v1"}} 20480
apiserver_watch_events_sizes_count{{group="apps",resource="deployments",version="v1"}} 10
# HELP go_goroutines Number of goroutines
# TYPE go_goroutines gauge
go_goroutines 300
"""

API_AFTER = f"""\
# TYPE apiserver_request_total counter
apiserver_request_total{{{req("APPLY", "namespaces")}}} 24
apiserver_request_total{{{req("APPLY", "namespaces", "409")}}} 1
apiserver_request_total{{{req("POST", "configmaps", "201")}}} 5
apiserver_request_total{{{req("PUT", "deployments", group="apps", sub="status")}}} 30
apiserver_request_total{{{req("GET", "", sub="/metrics")}}} 2
# TYPE apiserver_selfrequest_total counter
apiserver_selfrequest_total{{group="",resource="configmaps",subresource="",verb="POST"}} 4
# TYPE apiserver_watch_events_total counter
apiserver_watch_events_total{{group="apps",resource="deployments",version="v1"}} 50
apiserver_watch_events_total{{group="",resource="pods",version="v1"}} 20
# TYPE apiserver_watch_events_sizes histogram
apiserver_watch_events_sizes_bucket{{group="apps",resource="deployments",version="v1",le="+Inf"}} 50
apiserver_watch_events_sizes_sum{{group="apps",resource="deployments",version="v1"}} 102400
apiserver_watch_events_sizes_count{{group="apps",resource="deployments",version="v1"}} 50
"""

ETCD_BEFORE = """\
# TYPE etcd_mvcc_put_total counter
etcd_mvcc_put_total 100
# TYPE etcd_mvcc_delete_total counter
etcd_mvcc_delete_total 0
# TYPE etcd_debugging_mvcc_total_put_size_in_bytes gauge
etcd_debugging_mvcc_total_put_size_in_bytes 10240
"""

ETCD_AFTER = """\
# TYPE etcd_mvcc_put_total counter
etcd_mvcc_put_total 160
# TYPE etcd_mvcc_delete_total counter
etcd_mvcc_delete_total 6
# TYPE etcd_debugging_mvcc_total_put_size_in_bytes gauge
etcd_debugging_mvcc_total_put_size_in_bytes 71680
"""

KCM = """\
# TYPE rest_client_requests_total counter
rest_client_requests_total{code="200",host="127.0.0.1:6443",method="GET"} 7
rest_client_requests_total{code="201",host="127.0.0.1:6443",method="POST"} 3
rest_client_requests_total{code="409",host="127.0.0.1:6443",method="PUT"} 1
"""


def test_parse_keeps_only_the_named_samples_with_their_labels() -> None:
    found = parse(API_BEFORE, APISERVER_SAMPLES)
    names = {name for name, _ in found}
    # A histogram's _sum is asked for by name; its buckets and count are not.
    assert names == {
        "apiserver_request_total",
        "apiserver_selfrequest_total",
        "apiserver_watch_events_total",
        "apiserver_watch_events_sizes_sum",
    }
    labels = (("group", "apps"), ("resource", "deployments"), ("version", "v1"))
    assert found[("apiserver_watch_events_total", labels)] == 10
    assert found[("apiserver_watch_events_sizes_sum", labels)] == 20480


def test_parse_of_nothing_wanted_is_empty() -> None:
    assert parse(API_BEFORE, CLIENT_SAMPLES) == {}
    assert parse("", APISERVER_SAMPLES) == {}


def test_diff_counts_new_samples_from_zero_and_drops_still_ones() -> None:
    before = parse(ETCD_BEFORE, ETCD_SAMPLES)
    after = parse(ETCD_AFTER, ETCD_SAMPLES)
    delta = diff(after, before)
    assert delta == {
        ("etcd_mvcc_put_total", ()): 60,
        ("etcd_mvcc_delete_total", ()): 6,
        ("etcd_debugging_mvcc_total_put_size_in_bytes", ()): 61440,
    }
    assert diff(before, before) == {}


def test_diff_refuses_a_counter_that_went_down() -> None:
    with pytest.raises(ValueError, match="restarted"):
        diff(parse(ETCD_BEFORE, ETCD_SAMPLES), parse(ETCD_AFTER, ETCD_SAMPLES))


def test_sum_by_adds_over_the_other_labels() -> None:
    counters = parse(API_AFTER, APISERVER_SAMPLES)
    by_verb = sum_by(counters, "apiserver_request_total", ("verb",))
    assert by_verb == {("APPLY",): 25, ("POST",): 5, ("PUT",): 30, ("GET",): 2}


def test_resource_names_are_spelt_as_kubectl_does() -> None:
    assert resource_name("", "pods", "") == "pods"
    assert resource_name("apps", "deployments", "status") == "deployments.apps/status"
    assert resource_name("", "", "/readyz") == "/readyz"


def test_work_of_a_phase() -> None:
    before = {
        "apiserver": parse(API_BEFORE, APISERVER_SAMPLES),
        "etcd": parse(ETCD_BEFORE, ETCD_SAMPLES),
        "controller-manager": {},
    }
    after = {
        "apiserver": parse(API_AFTER, APISERVER_SAMPLES),
        "etcd": parse(ETCD_AFTER, ETCD_SAMPLES),
        "controller-manager": parse(KCM, CLIENT_SAMPLES),
    }
    w = work({name: diff(after[name], before[name]) for name in after})
    # 3 configmap POSTs, 2 of them the API server's own: 1 left. Every code counts
    # (the 409 too: the API server did the work). The bench's scrape is left out.
    assert w.requests == {
        ("APPLY", "namespaces"): 21,
        ("POST", "configmaps"): 1,
        ("PUT", "deployments.apps/status"): 30,
    }
    assert w.errors == {("APPLY", "namespaces", "409"): 1}
    assert w.summary()["errors"] == 1
    assert w.self_requests == 2
    assert w.total_requests == 52
    assert w.writes == 52
    assert w.watch_events == {"deployments.apps": 40, "pods": 20}
    assert w.watch_bytes == {"deployments.apps": 81920}
    assert w.etcd["puts"] == 60
    assert w.etcd["deletes"] == 6
    assert w.etcd["put KiB"] == 60
    assert w.clients == {"controller-manager": {"GET": 7, "POST": 3, "PUT": 1}}
    assert w.summary()["watch KiB"] == 80
    assert w.summary()["watch events"] == 60


PROXY = """\
# TYPE urumi_bench_kube_requests_total counter
urumi_bench_kube_requests_total{verb="APPLY",resource="namespaces"} 20
urumi_bench_kube_requests_total{verb="LIST",resource="services"} 10
# TYPE urumi_bench_kube_watch_events_total counter
urumi_bench_kube_watch_events_total{resource="pods"} 7
# TYPE urumi_bench_kube_watch_bytes_total counter
urumi_bench_kube_watch_bytes_total{resource="pods"} 2048
"""


def test_our_share_comes_from_the_proxy_and_is_nan_without_it() -> None:
    w = work({"ours": parse(PROXY, PROXY_SAMPLES)})
    assert w.ours == {("APPLY", "namespaces"): 20, ("LIST", "services"): 10}
    assert w.our_watch_events == {"pods": 7}
    assert w.clients == {}  # the proxy is no client component
    s = w.summary()
    assert (s["ours"], s["our writes"], s["to ours"], s["to ours KiB"]) == (30, 20, 7, 2)
    assert math.isnan(work({}).summary()["ours"])


def test_per_store_table_divides_and_folds_small_rows_into_other() -> None:
    columns = [
        Column("10 create", 10, {("APPLY", "namespaces"): 20, ("GET", "pods"): 0.2}),
        Column("50 create", 50, {("APPLY", "namespaces"): 100, ("PUT", "leases"): 1}),
    ]
    out = per_store_table(["verb", "resource"], columns, floor=0.05)
    assert out.splitlines() == [
        "| verb      | resource   | 10 create | 50 create |",
        "| --------- | ---------- | --------: | --------: |",
        "| APPLY     | namespaces |       2.0 |       2.0 |",
        "| other (2) |            |       0.0 |       0.0 |",
        "| total     |            |       2.0 |       2.0 |",
    ]


def test_per_store_table_without_a_total() -> None:
    out = per_store_table(["figure"], [Column("10 delete", 10, {("puts",): 55})], total=False)
    assert out.splitlines()[-1] == "| puts   |       5.5 |"
    assert "total" not in out


@pytest.mark.parametrize(
    ("method", "path", "watch", "content_type", "expected"),
    [
        ("GET", "/api/v1/namespaces/s-1/pods", False, "", ("LIST", "pods")),
        ("GET", "/api/v1/pods", True, "", ("WATCH", "pods")),
        ("GET", "/api/v1/namespaces/s-1", False, "", ("GET", "namespaces")),
        ("GET", "/api/v1/namespaces", False, "", ("LIST", "namespaces")),
        ("PUT", "/api/v1/namespaces/s-1/finalize", False, "", ("PUT", "namespaces/finalize")),
        (
            "PATCH",
            "/api/v1/namespaces/s-1",
            False,
            "application/apply-patch+yaml; charset=utf-8",
            ("APPLY", "namespaces"),
        ),
        (
            "PATCH",
            "/apis/apps/v1/namespaces/s-1/deployments/web/status",
            False,
            "application/merge-patch+json",
            ("PATCH", "deployments.apps/status"),
        ),
        ("POST", "/api/v1/namespaces/s-1/events", False, "", ("POST", "events")),
        (
            "DELETE",
            "/apis/batch/v1/namespaces/s-1/jobs",
            False,
            "",
            ("DELETECOLLECTION", "jobs.batch"),
        ),
        ("DELETE", "/api/v1/namespaces/s-1", False, "", ("DELETE", "namespaces")),
        (
            "GET",
            "/apis/cert-manager.io/v1/certificates",
            True,
            "",
            ("WATCH", "certificates.cert-manager.io"),
        ),
        ("GET", "/apis/apps/v1", False, "", ("GET", "/apis/apps/v1")),
        ("GET", "/version", False, "", ("GET", "/version")),
    ],
)
def test_classify_spells_requests_as_the_api_server_does(
    method: str, path: str, watch: bool, content_type: str, expected: tuple[str, str]
) -> None:
    assert classify(method, path, watch, content_type) == expected
