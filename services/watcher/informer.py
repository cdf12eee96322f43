"""List-then-watch of one kind, by hand rather than with `kubernetes_asyncio.watch`.

That `Watch` retries a 410 Gone once with the same stale resourceVersion and
then raises, and deserialises every object into models; here the raw JSON goes
to the sink, a 410 (an HTTP status or an ERROR event) means relist, and any
other failure means reconnect with backoff from the last resourceVersion seen.
"""

import asyncio
import logging
from collections.abc import AsyncIterator
from typing import Any, Protocol

from kubernetes_asyncio.client import ApiClient

from services.runtime.backoff import Backoff, BackoffPolicy
from services.runtime.shutdown import sleep_or_stop
from services.watcher import metrics
from services.watcher.kinds import KindSpec
from services.watcher.schemas import Decoders, decode_status

log = logging.getLogger(__name__)

PAGE: int = 500
# Jittered: every informer of every watcher replica fails together when the API server does.
RECONNECT = BackoffPolicy(base_s=1.0, cap_s=30.0)


class Sink(Protocol):
    def synced(self, kind: str, items: list[dict[str, Any]]) -> None: ...

    def event(self, kind: str, event_type: str, obj: dict[str, Any]) -> None: ...


class ResourceExpiredError(Exception):
    """The resourceVersion is older than the API server still remembers."""


class KindAbsentError(Exception):
    """The API server does not serve an optional kind (its CRD is not installed)."""


class ApiError(Exception):
    def __init__(self, status: int, body: str) -> None:
        super().__init__(f"HTTP {status}: {body[:300]}")
        self.status = status


class Informer:
    def __init__(
        self,
        api: ApiClient,
        spec: KindSpec,
        sink: Sink,
        *,
        watch_timeout_s: int = 300,
        resume_from: str | None = None,
        absent_retry_s: float = 60.0,
    ) -> None:
        """`resume_from`: watch from this resourceVersion first instead of listing
        (a restart that remembers where it was; tests use it to force a 410)."""
        self.spec = spec
        self.sink = sink
        self.list_call = spec.list_call(api)
        self.watch_timeout_s = watch_timeout_s
        self.resource_version = resume_from
        self.absent_retry_s = absent_retry_s
        # Only what the sink reads of the kind (services/watcher/schemas.py).
        self.decode = Decoders(spec.kind)
        self.synced = asyncio.Event()  # set once a full list reached the sink

    async def run(self, stop: asyncio.Event) -> None:
        """Until `stop`: list, watch, relist on 410, back off on errors."""
        backoff = Backoff(RECONNECT)
        reason = "start"
        while not stop.is_set():
            try:
                if self.resource_version is None:
                    await self._list(reason)
                await self._watch()
                backoff.succeeded()
            except ResourceExpiredError:
                log.info("resourceVersion expired, relisting", extra={"kind": self.spec.kind})
                self.resource_version, reason = None, "gone"
            except KindAbsentError:
                await self._absent(stop)
                self.resource_version, reason = None, "absent"
            except (asyncio.CancelledError, KeyboardInterrupt):
                raise
            except Exception as exc:
                reason = "error"
                metrics.WATCH_ERRORS.labels(self.spec.kind).inc()
                delay = backoff.failed()
                log.warning(
                    "list/watch failed, retrying",
                    extra={"kind": self.spec.kind, "error": str(exc), "retry_in_s": delay},
                )
                await sleep_or_stop(stop, delay)

    async def _absent(self, stop: asyncio.Event) -> None:
        """No objects of the kind can exist: an empty list, then look again (the CRD
        may be installed later, or have been removed under a running watch)."""
        self.sink.synced(self.spec.kind, [])
        self.synced.set()
        await sleep_or_stop(stop, self.absent_retry_s)

    def _params(self) -> dict[str, Any]:
        params: dict[str, Any] = {"_preload_content": False}
        if self.spec.selector:
            params["label_selector"] = self.spec.selector
        return params

    async def _list(self, reason: str) -> None:
        items: list[dict[str, Any]] = []
        version, token = None, None
        while True:
            extra: dict[str, str] = {"_continue": token} if token else {}
            resp = await self.list_call(
                **self._params(), **extra, limit=PAGE, _request_timeout=(10, 60)
            )
            page = self.decode.page(await self._read(resp))
            items.extend(page.get("items") or [])
            meta = page.get("metadata") or {}
            version = version or meta.get("resourceVersion")  # every page shares the first's
            token = meta.get("continue")
            if not token:
                break
        metrics.LISTS.labels(self.spec.kind, reason).inc()
        self.sink.synced(self.spec.kind, items)
        self.resource_version = version
        self.synced.set()

    async def _watch(self) -> None:
        """One watch request; returns when the server ends it (its timeout)."""
        resp = await self.list_call(
            **self._params(),
            watch=True,
            resource_version=self.resource_version,
            allow_watch_bookmarks=True,
            timeout_seconds=self.watch_timeout_s,
            _request_timeout=(10, self.watch_timeout_s + 30),
        )
        try:
            if resp.status != 200:
                await self._read(resp)  # raises with the server's answer
            async for line in _lines(resp.content):
                self._handle(self.decode.line(line))
        finally:
            resp.release()

    async def _read(self, resp: Any) -> bytes:
        try:
            return await _body(resp)
        except ApiError as exc:
            if exc.status == 404 and self.spec.optional:
                raise KindAbsentError(str(exc)) from exc
            raise

    def _handle(self, event: dict[str, Any]) -> None:
        kind, raw = event.get("type", ""), event.get("object")
        if kind == "ERROR":
            status = decode_status(raw) if raw is not None else {}
            code = status.get("code", 0)
            if code == 410:
                raise ResourceExpiredError(status.get("message", ""))
            raise ApiError(code, status.get("message", ""))
        obj = self.decode.object(raw) if raw is not None else {}
        version = (obj.get("metadata") or {}).get("resourceVersion")
        if kind != "BOOKMARK":
            self.sink.event(self.spec.kind, kind, obj)
        if version:
            self.resource_version = version


async def _body(resp: Any) -> bytes:
    """The body of a list response; 410 Gone → ResourceExpiredError, other non-2xx → ApiError."""
    try:
        body = await resp.read()
    finally:
        resp.release()
    if resp.status == 410:
        raise ResourceExpiredError(body.decode(errors="replace"))
    if not 200 <= resp.status < 300:
        raise ApiError(resp.status, body.decode(errors="replace"))
    return bytes(body)


async def _lines(stream: Any) -> AsyncIterator[bytes]:
    """Newline-delimited watch events of any size (aiohttp's readline caps a line)."""
    buffer = b""
    async for chunk in stream.iter_any():
        buffer += chunk
        *lines, buffer = buffer.split(b"\n")
        for line in lines:
            if line.strip():
                yield line
    if buffer.strip():
        yield buffer
