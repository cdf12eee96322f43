"""Shoppers' visits, from the ingress controller's own request counters.

The ingress controller counts the requests it routes to each Service (Traefik's
`traefik_service_requests_total`, service label `<namespace>-<service>-<port>@kubernetes`;
ingress-nginx's `nginx_ingress_controller_requests`, namespace label). Every
report period the watcher scrapes its Prometheus endpoint, sums each store's
counters, and publishes a `StoreActivity` for each store whose sum grew since
the last scrape: at most one event per store per period, none for a quiet
store. Every replica scrapes (a standby taking over knows the counters already);
only the lease holder publishes. The first scrape is the baseline: what was
counted before it cannot be dated.
"""

import asyncio
import logging
from collections.abc import Callable, Mapping
from typing import Final

import httpx
from nats.js import JetStreamContext
from prometheus_client.parser import text_string_to_metric_families

from services.contracts import wire
from services.contracts.events import StoreActivity
from services.contracts.streams import EVENTS
from services.contracts.subjects import activity_subject
from services.runtime.shutdown import sleep_or_stop
from services.watcher.cache import StoreCache
from services.watcher.controller import utc_now
from services.watcher.lease import Lease
from services.watcher.settings import IngressController

log = logging.getLogger(__name__)

# The counter each controller keeps per Service (traefik_service_requests_total,
# nginx_ingress_controller_requests), as the parser names its family: without
# `_total`, which it gives every sample of a counter instead.
COUNTERS: Final[dict[str, str]] = {
    "traefik": "traefik_service_requests",
    "nginx": "nginx_ingress_controller_requests",
}
_TRAEFIK_PROVIDER = "@kubernetes"
SCRAPE_TIMEOUT_S: Final = 10.0
PUBLISH_TIMEOUT_S: Final = 5.0


def requests_by_namespace(
    text: str, controller: IngressController, is_store: Callable[[str], bool]
) -> dict[str, float]:
    """Each store namespace's requests so far (the sum over its Services), from a
    Prometheus text exposition. `is_store` says whether a namespace is a store's:
    Traefik names a Service `<namespace>-<service>-<port>`, and both a store id
    and a Service name may hold dashes, so the longest store namespace the label
    begins with is the one."""
    counter = COUNTERS[controller]
    totals: dict[str, float] = {}
    for family in text_string_to_metric_families(text):
        if family.name != counter:
            continue
        for sample in family.samples:
            if sample.name != f"{counter}_total":
                continue  # a counter's `_created`
            namespace = _namespace(sample.labels, controller, is_store)
            if namespace is not None:
                totals[namespace] = totals.get(namespace, 0.0) + sample.value
    return totals


def _namespace(
    labels: Mapping[str, str], controller: IngressController, is_store: Callable[[str], bool]
) -> str | None:
    if controller == "nginx":
        namespace = labels.get("namespace", "")
        return namespace if is_store(namespace) else None
    service = labels.get("service", "")
    if not service.endswith(_TRAEFIK_PROVIDER):
        return None  # a service of another provider (a file, the API's own)
    name = service.removesuffix(_TRAEFIK_PROVIDER)
    cuts = [i for i, c in enumerate(name) if c == "-"]
    return next((name[:i] for i in reversed(cuts) if is_store(name[:i])), None)


def grown(before: Mapping[str, float], now: Mapping[str, float]) -> dict[str, int]:
    """The requests each namespace received between two scrapes, for those that
    received any. A counter lower than before was reset (the controller
    restarted): all it counts is new. A namespace first counted now had its
    first requests since the last scrape."""
    growth: dict[str, int] = {}
    for namespace, total in now.items():
        previous = before.get(namespace, 0.0)
        new = total if total < previous else total - previous
        if new >= 1:
            growth[namespace] = int(new)
    return growth


class ActivityReporter:
    def __init__(
        self,
        js: JetStreamContext,
        cache: StoreCache,
        lease: Lease,
        url: str,
        controller: IngressController,
        period_s: float,
    ) -> None:
        self.js = js
        self.cache = cache
        self.lease = lease
        self.url = url
        self.controller = controller
        self.period_s = period_s
        self._last: dict[str, float] | None = None  # None: no scrape yet (the baseline)

    async def run(self, synced: Callable[[], bool], stop: asyncio.Event) -> None:
        async with httpx.AsyncClient(timeout=SCRAPE_TIMEOUT_S) as http:
            while not stop.is_set():
                if synced():  # the cache knows the store namespaces
                    try:
                        await self.step(http)
                    except Exception as exc:
                        log.warning(
                            "ingress metrics not read; will retry: check "
                            "URUMI_INGRESS_METRICS_URL and URUMI_INGRESS_CONTROLLER",
                            extra={"url": self.url, "error": repr(exc)},
                        )
                await sleep_or_stop(stop, self.period_s)

    async def step(self, http: httpx.AsyncClient) -> None:
        """One scrape; each store whose counters grew reported (lease holder only)."""
        answer = await http.get(self.url)
        answer.raise_for_status()
        totals = requests_by_namespace(
            answer.text, self.controller, lambda ns: self.cache.namespace(ns) is not None
        )
        before, self._last = self._last, totals
        if before is None or not self.lease.active():
            return
        at = utc_now()
        for namespace, requests in grown(before, totals).items():
            ns = self.cache.namespace(namespace)
            if ns is None:
                continue  # deleted since the scrape
            event = StoreActivity(
                tenant=ns.tenant, store=ns.store, requests=requests, observed_at=at
            )
            await self.js.publish(
                activity_subject(ns.store),
                wire.encode(event),
                stream=EVENTS.name,
                timeout=PUBLISH_TIMEOUT_S,
            )
