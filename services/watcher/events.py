"""Kubernetes Events → `KubeEvent`, with a per-store token bucket (pure, no I/O).

An event storm (a crash-looping pod emits one every few seconds, a broken
controller far more) must not flood URUMI_EVENTS: each store gets `burst`
events at once and `rate` per second after that; the rest are counted, not sent.
"""

from collections.abc import Mapping
from datetime import datetime

from services.contracts.events import KubeEvent
from services.runtime.token_bucket import BucketPolicy, TokenBuckets
from services.watcher.observed import NamespaceObs, Raw, parse_time


class RateLimiter:
    """Token buckets keyed by store; time is passed in (monotonic seconds)."""

    def __init__(self, rate_per_s: float, burst: int) -> None:
        self.buckets = TokenBuckets(BucketPolicy(rate_per_s, float(burst)))
        self.dropped: dict[str, int] = {}

    def allow(self, key: str, now: float) -> bool:
        if self.buckets.take(key, now) > 0:
            self.dropped[key] = self.dropped.get(key, 0) + 1
            return False
        return True

    def forget(self, key: str) -> None:
        self.buckets.forget(key)
        self.dropped.pop(key, None)


def _str(raw: Mapping[str, object] | None, key: str) -> str:
    value = (raw or {}).get(key)
    return value if isinstance(value, str) else ""


def event_time(raw: Raw) -> datetime | None:
    """Newest of the timestamps an Event may carry (core/v1 or events.k8s.io style)."""
    series = raw.get("series") or {}
    for value in (
        series.get("lastObservedTime"),
        raw.get("lastTimestamp"),
        raw.get("eventTime"),
        (raw.get("metadata") or {}).get("creationTimestamp"),
    ):
        at = parse_time(value)
        if at is not None:
            return at
    return None


def to_kube_event(raw: Raw, ns: NamespaceObs, fallback_time: datetime) -> KubeEvent:
    involved = raw.get("involvedObject") or raw.get("regarding") or {}
    series = raw.get("series") or {}
    count = raw.get("count") or series.get("count") or 1
    return KubeEvent(
        tenant=ns.tenant,
        store=ns.store,
        namespace=ns.name,
        object_kind=_str(involved, "kind"),
        object_name=_str(involved, "name"),
        event_type=_str(raw, "type") or "Normal",
        reason=_str(raw, "reason"),
        message=_str(raw, "message") or _str(raw, "note"),
        at=event_time(raw) or fallback_time,
        count=count if isinstance(count, int) else 1,
    )


def dedupe_id(raw: Raw) -> str:
    """Same Event occurrence → same id, so a failover re-send is dropped by JetStream."""
    meta = raw.get("metadata") or {}
    count = raw.get("count") or (raw.get("series") or {}).get("count") or 1
    return f"kube-{meta.get('uid', '')}-{count}"
