"""The work a burst costs the control plane, from its own Prometheus counters (pure).

Timings move with the machine's load; these counts do not: requests the API
server served (by verb and resource), watch events it sent, what etcd wrote, and
the requests the controller-manager and scheduler made (their client-side
counters). `bench/kubescrape.py` fetches the text before and after a phase; this
module parses it, takes the difference, divides by the stores and lays out
tables. Unit-tested in ``tests/unit/test_bench_kubework.py``.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Final

from prometheus_client.parser import text_string_to_metric_families

from bench.common import table

Labels = tuple[tuple[str, str], ...]
# One counter sample: (sample name, its labels sorted by name) → value.
Counters = dict[tuple[str, Labels], float]

REQUESTS: Final = "apiserver_request_total"
# Requests the API server makes to itself over loopback (its own controllers:
# APF configuration, the kubernetes Service, CRD and RBAC bootstrap …); they are
# counted in REQUESTS too, and are not anyone's client work.
SELF_REQUESTS: Final = "apiserver_selfrequest_total"
WATCH_EVENTS: Final = "apiserver_watch_events_total"
WATCH_BYTES: Final = "apiserver_watch_events_sizes_sum"
CLIENT_REQUESTS: Final = "rest_client_requests_total"
# etcd's own (embedded server) counters, in the order the table shows them.
ETCD: Final = {
    "etcd_mvcc_put_total": "puts",
    "etcd_mvcc_delete_total": "deletes",
    "etcd_mvcc_txn_total": "txns",
    "etcd_debugging_mvcc_total_put_size_in_bytes": "put KiB",
    "etcd_network_client_grpc_received_bytes_total": "gRPC received KiB",
}
APISERVER_SAMPLES: Final = frozenset({REQUESTS, SELF_REQUESTS, WATCH_EVENTS, WATCH_BYTES})
ETCD_SAMPLES: Final = frozenset(ETCD)
CLIENT_SAMPLES: Final = frozenset({CLIENT_REQUESTS})
# What `bench.kubeproxy` counted of our own services' traffic.
OUR_REQUESTS: Final = "urumi_bench_kube_requests_total"
OUR_WATCH_EVENTS: Final = "urumi_bench_kube_watch_events_total"
OUR_WATCH_BYTES: Final = "urumi_bench_kube_watch_bytes_total"
PROXY_SAMPLES: Final = frozenset({OUR_REQUESTS, OUR_WATCH_EVENTS, OUR_WATCH_BYTES})
READ_VERBS: Final = frozenset({"GET", "LIST", "WATCH"})
# The bench's own scrapes show up as GETs of this path; they are not the platform's.
SCRAPE_PATH: Final = "/metrics"


def parse(text: str, names: Collection[str]) -> Counters:
    """The samples called one of `names` in a Prometheus text exposition.

    Lines of other metrics are dropped before parsing: an API server exposes
    ~15,000 lines, of which a burst needs a few hundred.
    """
    kept = [line for line in text.splitlines() if _sample_name(line) in names]
    out: Counters = {}
    for family in text_string_to_metric_families("\n".join(kept) + "\n"):
        for sample in family.samples:
            if sample.name in names:
                key = (sample.name, tuple(sorted(sample.labels.items())))
                out[key] = out.get(key, 0.0) + sample.value
    return out


def _sample_name(line: str) -> str:
    if line.startswith("#"):
        return ""
    end = len(line)
    for stop in ("{", " "):
        at = line.find(stop)
        if at != -1:
            end = min(end, at)
    return line[:end]


def diff(after: Counters, before: Counters) -> Counters:
    """after - before, sample by sample; a sample new since `before` counts from 0.

    Samples that did not move are left out. A negative difference means the
    process restarted between the scrapes: refuse it rather than report nonsense.
    """
    out: Counters = {}
    for key, value in after.items():
        delta = value - before.get(key, 0.0)
        if delta < 0:
            raise ValueError(f"counter {key} went down ({before[key]} → {value}): restarted?")
        if delta:
            out[key] = delta
    return out


def sum_by(counters: Counters, name: str, by: Sequence[str]) -> dict[tuple[str, ...], float]:
    """Samples called `name`, summed over every label not in `by`."""
    out: dict[tuple[str, ...], float] = {}
    for (sample, labels), value in counters.items():
        if sample != name:
            continue
        values = dict(labels)
        key = tuple(values.get(label, "") for label in by)
        out[key] = out.get(key, 0.0) + value
    return out


def resource_name(group: str, resource: str, subresource: str) -> str:
    """kubectl's spelling: `deployments.apps`, `pods/status`; a path for non-resource URLs."""
    if not resource:
        return subresource  # the API server puts a non-resource URL's path there
    name = f"{resource}.{group}" if group else resource
    return f"{name}/{subresource}" if subresource else name


@dataclass(frozen=True)
class Work:
    """What one phase of a burst cost, in counts (not yet per store)."""

    # (verb, resource) → requests served, the API server's loopback ones taken out
    requests: dict[tuple[str, str], float] = field(default_factory=dict)
    # (verb, resource, code) → those of `requests` answered with a 4xx or 5xx: work
    # the API server did for nothing (a create in a terminating namespace, a
    # conflict), or an expected "not found"
    errors: dict[tuple[str, str, str], float] = field(default_factory=dict)
    self_requests: float = 0.0
    watch_events: dict[str, float] = field(default_factory=dict)  # resource → events sent
    watch_bytes: dict[str, float] = field(default_factory=dict)  # resource → bytes sent
    etcd: dict[str, float] = field(default_factory=dict)  # ETCD label → value (bytes as KiB)
    # client process → HTTP method → requests it made (the components that count them)
    clients: dict[str, dict[str, float]] = field(default_factory=dict)
    # Our services' share, when they went through `bench.kubeproxy` (else empty):
    ours: dict[tuple[str, str], float] = field(default_factory=dict)  # (verb, resource)
    our_watch_events: dict[str, float] = field(default_factory=dict)  # resource → events
    our_watch_bytes: dict[str, float] = field(default_factory=dict)  # resource → bytes

    @property
    def total_requests(self) -> float:
        return sum(self.requests.values())

    @property
    def writes(self) -> float:
        """Requests that change something (each costs etcd a write, or several)."""
        return sum(n for (verb, _), n in self.requests.items() if verb not in READ_VERBS)

    def summary(self) -> dict[str, float]:
        """The headline figures; "ours" ones are NaN unless the proxy counted them."""
        counted = math.nan if not self.ours else 0.0
        return {
            "requests": self.total_requests,
            "writes": self.writes,
            "errors": sum(self.errors.values()),
            "ours": counted + sum(self.ours.values()),
            "our writes": counted
            + sum(n for (verb, _), n in self.ours.items() if verb not in READ_VERBS),
            "watch events": sum(self.watch_events.values()),
            "to ours": counted + sum(self.our_watch_events.values()),
            "watch KiB": sum(self.watch_bytes.values()) / 1024,
            "to ours KiB": counted + sum(self.our_watch_bytes.values()) / 1024,
            "etcd puts": self.etcd.get("puts", 0.0),
            "etcd deletes": self.etcd.get("deletes", 0.0),
            "etcd put KiB": self.etcd.get("put KiB", 0.0),
        }


def work(deltas: Mapping[str, Counters]) -> Work:
    """The figures of one phase from the counter differences of each scraped process.

    `deltas` maps a process name to its `diff`: "apiserver", "etcd", "ours" (the
    counting proxy, when used), and any client component (controller-manager,
    scheduler) exposing `rest_client_requests_total`.
    """
    api = deltas.get("apiserver", {})
    by = ("verb", "group", "resource", "subresource")
    requests: dict[tuple[str, str], float] = {}
    for (verb, group, resource, sub), n in sum_by(api, REQUESTS, by).items():
        _add(requests, (verb, resource_name(group, resource, sub)), n)
    own = 0.0
    for (verb, group, resource, sub), n in sum_by(api, SELF_REQUESTS, by).items():
        _add(requests, (verb, resource_name(group, resource, sub)), -n)
        own += n
    requests.pop(("GET", SCRAPE_PATH), None)
    requests = {k: v for k, v in requests.items() if v > 0}
    errors = {
        (verb, resource_name(group, resource, sub), code): n
        for (verb, group, resource, sub, code), n in sum_by(api, REQUESTS, (*by, "code")).items()
        if code >= "400"  # three-digit HTTP status codes compare as text
    }

    res = ("group", "resource")
    events = {resource_name(g, r, ""): n for (g, r), n in sum_by(api, WATCH_EVENTS, res).items()}
    sizes = {resource_name(g, r, ""): n for (g, r), n in sum_by(api, WATCH_BYTES, res).items()}

    etcd_delta = deltas.get("etcd", {})
    etcd: dict[str, float] = {}
    for sample, label in ETCD.items():
        value = sum(sum_by(etcd_delta, sample, ()).values(), 0.0)
        etcd[label] = value / 1024 if label.endswith("KiB") else value

    clients = {
        name: {method: n for (method,), n in sum_by(delta, CLIENT_REQUESTS, ("method",)).items()}
        for name, delta in deltas.items()
        if name not in ("apiserver", "etcd", "ours")
    }
    proxy = deltas.get("ours", {})
    ours = {(v, r): n for (v, r), n in sum_by(proxy, OUR_REQUESTS, ("verb", "resource")).items()}
    our_events = {r: n for (r,), n in sum_by(proxy, OUR_WATCH_EVENTS, ("resource",)).items()}
    our_bytes = {r: n for (r,), n in sum_by(proxy, OUR_WATCH_BYTES, ("resource",)).items()}
    return Work(requests, errors, own, events, sizes, etcd, clients, ours, our_events, our_bytes)


def _add(into: dict[tuple[str, str], float], key: tuple[str, str], n: float) -> None:
    into[key] = into.get(key, 0.0) + n


@dataclass(frozen=True)
class Column:
    """One column of a per-store table: a phase of one burst."""

    name: str
    stores: int
    values: Mapping[tuple[str, ...], float]


def per_store_table(
    key_headers: Sequence[str],
    columns: Sequence[Column],
    *,
    floor: float = 0.0,
    digits: int = 1,
    total: bool = True,
) -> str:
    """Each key's value divided by the column's store count, biggest first.

    Keys below `floor` per store in every column are summed into one "other" row,
    so that a table of ~100 request kinds shows those that matter; a "total" row
    closes it when the values add up (not for figures in different units).
    """
    keys = sorted({k for c in columns for k in c.values}, key=lambda k: (-_peak(k, columns), k))
    shown = [k for k in keys if _peak(k, columns) >= floor]
    hidden = [k for k in keys if k not in shown]
    rows: list[list[str]] = [
        [*k, *(_cell(c.values.get(k, 0.0), c, digits) for c in columns)] for k in shown
    ]
    pad = [""] * (len(key_headers) - 1)
    if hidden:
        rows.append(
            [
                f"other ({len(hidden)})",
                *pad,
                *(_cell(sum(c.values.get(k, 0.0) for k in hidden), c, digits) for c in columns),
            ]
        )
    if total:
        rows.append(["total", *pad, *(_cell(sum(c.values.values()), c, digits) for c in columns)])
    return table([*key_headers, *(c.name for c in columns)], rows)


def _peak(key: tuple[str, ...], columns: Sequence[Column]) -> float:
    return max(c.values.get(key, 0.0) / c.stores for c in columns)


def _cell(value: float, column: Column, digits: int) -> str:
    return f"{value / column.stores:,.{digits}f}"


def client_rows(clients: Mapping[str, Mapping[str, float]]) -> dict[tuple[str, ...], float]:
    """`Work.clients` as (process, method) keys."""
    return {(name, m): n for name, methods in clients.items() for m, n in methods.items()}


# -- one request, as the API server would label it (for the counting proxy) ----------

APPLY_PATCH: Final = "application/apply-patch+yaml"
# Subresources of a Namespace: /api/v1/namespaces/NAME/status is not a resource
# "status" in namespace NAME.
NAMESPACE_SUBRESOURCES: Final = frozenset({"status", "finalize"})


def classify(method: str, path: str, watch: bool, content_type: str) -> tuple[str, str]:
    """(verb, resource) of one request, spelt as `apiserver_request_total` spells them,
    but for a delete of a whole collection: ``DELETECOLLECTION`` (the API server
    says ``DELETE``, which hides whose sweep it is).

    `watch`: the query asked for a watch (``watch=true``/``1``). Paths are
    ``/api/v1/…`` or ``/apis/GROUP/VERSION/…``, then optionally
    ``namespaces/NS/``, then ``RESOURCE[/NAME[/SUBRESOURCE]]``; anything else is a
    non-resource URL and keeps its path.
    """
    parts = [p for p in path.split("/") if p]
    if parts[:2] == ["api", "v1"]:
        group, rest = "", parts[2:]
    elif len(parts) >= 3 and parts[0] == "apis":
        group, rest = parts[1], parts[3:]
    else:
        return method.upper(), path
    if not rest:
        return method.upper(), path  # discovery of a group version
    if (
        rest[0] == "namespaces"
        and len(rest) >= 3
        and not (len(rest) == 3 and rest[2] in NAMESPACE_SUBRESOURCES)
    ):
        rest = rest[2:]  # namespaced: drop "namespaces/NS"
    resource, named, sub = rest[0], len(rest) >= 2, "/".join(rest[2:])
    return _verb(method.upper(), named, watch, content_type), resource_name(group, resource, sub)


def _verb(method: str, named: bool, watch: bool, content_type: str) -> str:
    if method == "GET":
        return "WATCH" if watch else ("GET" if named else "LIST")
    if method == "PATCH" and content_type.split(";")[0].strip() == APPLY_PATCH:
        return "APPLY"
    if method == "DELETE" and not named:
        return "DELETECOLLECTION"
    return method
