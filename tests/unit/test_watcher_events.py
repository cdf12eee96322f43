"""Kubernetes Event conversion and the per-store token bucket."""

from datetime import UTC, datetime

from services.watcher.events import RateLimiter, dedupe_id, to_kube_event
from services.watcher.observed import NamespaceObs

NS = NamespaceObs("store-shop", "acme", "shop", generation=1)
FALLBACK = datetime(2025, 1, 1, tzinfo=UTC)


def test_burst_then_rate() -> None:
    limiter = RateLimiter(rate_per_s=2.0, burst=5)
    assert [limiter.allow("a", 0.0) for _ in range(7)] == [True] * 5 + [False] * 2
    assert limiter.dropped["a"] == 2
    assert not limiter.allow("a", 0.4)  # 0.8 tokens: not yet
    assert limiter.allow("a", 0.5)  # one token refilled
    assert not limiter.allow("a", 0.5)
    assert [limiter.allow("a", 100.0) for _ in range(6)] == [True] * 5 + [False]  # capped


def test_stores_have_separate_buckets() -> None:
    limiter = RateLimiter(rate_per_s=0.1, burst=1)
    assert limiter.allow("a", 0.0)
    assert not limiter.allow("a", 0.0)
    assert limiter.allow("b", 0.0)
    limiter.forget("a")
    assert limiter.allow("a", 0.0)


def test_storm_is_bounded() -> None:
    limiter = RateLimiter(rate_per_s=1.0, burst=20)
    sent = sum(limiter.allow("a", i / 100) for i in range(10_000))  # 100/s for 100 s
    assert sent <= 20 + 100 + 1


def test_core_v1_event() -> None:
    raw = {
        "metadata": {
            "uid": "u1",
            "namespace": "store-shop",
            "creationTimestamp": "2025-06-01T11:00:00Z",
        },
        "involvedObject": {"kind": "Pod", "name": "wordpress-abc"},
        "type": "Warning",
        "reason": "BackOff",
        "message": "Back-off restarting failed container",
        "count": 7,
        "lastTimestamp": "2025-06-01T12:00:00Z",
    }
    ev = to_kube_event(raw, NS, FALLBACK)
    assert (ev.tenant, ev.store, ev.namespace) == ("acme", "shop", "store-shop")
    assert (ev.object_kind, ev.object_name, ev.event_type) == ("Pod", "wordpress-abc", "Warning")
    assert (ev.reason, ev.count) == ("BackOff", 7)
    assert ev.at == datetime(2025, 6, 1, 12, tzinfo=UTC)
    assert dedupe_id(raw) == "kube-u1-7"


def test_series_event_without_legacy_fields() -> None:
    raw = {
        "metadata": {"uid": "u2"},
        "regarding": {"kind": "Job", "name": "setup"},
        "note": "Job completed",
        "reason": "Completed",
        "eventTime": "2025-06-01T12:00:01.000000Z",
        "series": {"count": 3, "lastObservedTime": "2025-06-01T12:05:00.000000Z"},
    }
    ev = to_kube_event(raw, NS, FALLBACK)
    assert (ev.object_kind, ev.message, ev.event_type, ev.count) == (
        "Job",
        "Job completed",
        "Normal",
        3,
    )
    assert ev.at == datetime(2025, 6, 1, 12, 5, tzinfo=UTC)


def test_event_without_times_uses_fallback() -> None:
    ev = to_kube_event({"metadata": {}}, NS, FALLBACK)
    assert ev.at == FALLBACK
    assert ev.count == 1
