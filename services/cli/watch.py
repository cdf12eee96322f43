"""Live store progress in the terminal, from the notifier's websocket.

``follow`` backs ``urumi stores watch [ID]`` and the ``--wait`` of every change:
it asks the gateway for a ticket, connects, prints phase changes, provisioning steps
and Kubernetes events as they arrive, reconnects with ``after=<last seq>`` when the
connection drops, and (``until_settled``) ends with the store's URL or the reason it
failed. Frames follow docs/websocket.md (services.contracts.frames).
"""

import asyncio
import contextlib
import os
import sys
from collections.abc import AsyncGenerator, Awaitable, Callable
from datetime import datetime
from typing import Any, Final, TextIO
from urllib.parse import urlencode, urlsplit

import httpx
import websockets

from services.cli.api import list_path
from services.contracts.backups import BackupState, BackupStatus
from services.contracts.domains import DomainState, DomainStatus
from services.contracts.events import KubeEvent, StoreProgress, StoreStatus, TenantEvent
from services.contracts.frames import (
    CLOSE_BAD_REQUEST,
    EventFrame,
    Frame,
    Hello,
    Snapshot,
    decode_frame,
)
from services.contracts.frames import Error as ErrorFrame
from services.contracts.next_steps import next_step
from services.contracts.phases import Phase
from services.contracts.store_state import StoreState, fold
from services.runtime.backoff import Backoff, BackoffPolicy

SETTLED: Final = frozenset({Phase.READY, Phase.FAILED, Phase.DEGRADED, Phase.ASLEEP, Phase.DELETED})


def socket_url(api_url: str, ticket: dict[str, Any], after: int | None) -> str:
    """The notifier URL with the ticket; a relative ``url`` is on the API's host."""
    url = str(ticket["url"])
    if not url.startswith(("ws://", "wss://")):
        api = urlsplit(api_url)
        scheme = "wss" if api.scheme == "https" else "ws"
        url = f"{scheme}://{api.netloc}/{url.lstrip('/')}"
    query: dict[str, str | int] = {"ticket": ticket["ticket"]}
    if after is not None:
        query["after"] = after
    return f"{url}{'&' if '?' in url else '?'}{urlencode(query)}"


class FollowError(Exception):
    """Following cannot go on; the message says why."""


class Tracker:
    """Each store's phase, newest generation first, from API views and events."""

    def __init__(self, views: list[dict[str, Any]]) -> None:
        self.stores = {
            v["id"]: StoreState(
                Phase(v["phase"]), v["generation"], v["url"], v["reason"], v["message"]
            )
            for v in views
        }

    def apply(self, event: TenantEvent) -> StoreState | None:
        """The store's new state when its phase changed, else None."""
        if isinstance(event, KubeEvent | BackupStatus | DomainStatus):
            return None
        old = self.stores.get(event.store)
        # A store first seen in an event: any generation it reports is newer.
        new = fold(old or StoreState(Phase.PENDING, generation=0), event)
        if new is None:
            return None
        self.stores[event.store] = new
        return new if old is None or old.phase != new.phase else None

    def settled(self, store_id: str | None) -> bool:
        if store_id is not None:
            state = self.stores.get(store_id)
            return state is not None and state.phase in SETTLED
        return all(s.phase in SETTLED for s in self.stores.values())

    def exit_code(self, store_id: str | None) -> int:
        chosen = [self.stores[store_id]] if store_id else list(self.stores.values())
        bad = (Phase.FAILED, Phase.DEGRADED)
        return 1 if any(s.phase in bad for s in chosen) else 0


_COLORS: Final = {
    "dim": "2",
    "bold": "1",
    "red": "31",
    "green": "32",
    "yellow": "33",
    "blue": "34",
    "cyan": "36",
}
PHASE_COLOR: Final = {
    Phase.PENDING: "dim",
    Phase.PROVISIONING: "blue",
    Phase.READY: "green",
    Phase.DEGRADED: "yellow",
    Phase.ASLEEP: "cyan",
    Phase.FAILED: "red",
    Phase.DELETING: "yellow",
    Phase.DELETED: "dim",
}
DOMAIN_COLOR: Final = {
    DomainState.ACTIVE: "green",
    DomainState.FAILED: "red",
    DomainState.PENDING_DNS: "yellow",
}
STEP_MARK: Final = {"started": "…", "succeeded": "✓", "retrying": "↻", "failed": "✗"}


def human_size(n: int) -> str:
    """`n` bytes for people: 512 B, 4.0 KiB, 1.5 GiB."""
    size, units = float(n), ["B", "KiB", "MiB", "GiB", "TiB"]
    while size >= 1024 and len(units) > 1:
        size /= 1024
        units.pop(0)
    return f"{n} B" if units[0] == "B" else f"{size:.1f} {units[0]}"


class Printer:
    """One line per happening; the store column only when following all stores."""

    def __init__(self, out: TextIO, store_id: str | None, color: bool | None = None) -> None:
        self.out = out
        self.all_stores = store_id is None
        if color is None:
            color = out.isatty() and "NO_COLOR" not in os.environ
        self.color = color

    def paint(self, text: str, style: str) -> str:
        return f"\033[{_COLORS[style]}m{text}\033[0m" if self.color else text

    def line(self, store: str, text: str, at: datetime | None = None) -> None:
        when = (at.astimezone() if at else datetime.now().astimezone()).strftime("%H:%M:%S")
        who = f"{store:<20} " if self.all_stores else ""
        print(f"{self.paint(when, 'dim')}  {who}{text}", file=self.out, flush=True)

    def phase(self, store: str, state: StoreState, at: datetime | None = None) -> None:
        label = self.paint(f"● {state.phase.value}", PHASE_COLOR[state.phase])
        extra = state.url if state.phase == Phase.READY else state.reason
        self.line(store, f"{label}  {extra}".rstrip(), at)

    def event(self, event: TenantEvent) -> None:
        if isinstance(event, StoreProgress):
            mark = STEP_MARK.get(event.state.value, "·")
            style = "red" if event.state.value == "failed" else "cyan"
            text = f"  {self.paint(mark, style)} {event.step:<12} {event.message}"
            self.line(event.store, text.rstrip(), event.at)
        elif isinstance(event, KubeEvent):
            warn = event.event_type == "Warning"
            mark = self.paint("⚠", "yellow") if warn else self.paint("⎈", "dim")
            obj = f"{event.object_kind}/{event.object_name}"
            self.line(event.store, f"  {mark} {obj} {event.reason}: {event.message}", event.at)
        elif isinstance(event, BackupStatus):
            failed = event.state is BackupState.FAILED
            mark = self.paint("✗" if failed else "⛁", "red" if failed else "cyan")
            state = event.state.value
            if event.state is BackupState.SUCCEEDED:
                state += f" ({human_size(event.size_bytes)})"
            text = f"  {mark} {'backup':<12} {event.backup} {state} {event.message}"
            self.line(event.store, text.rstrip(), event.observed_at)
        elif isinstance(event, DomainStatus):
            state = "removed" if event.removed else event.state.value
            style = DOMAIN_COLOR.get(event.state, "dim") if not event.removed else "dim"
            text = f"  {self.paint('◆', style)} domain {event.domain} {state} {event.reason}"
            self.line(event.store, text.rstrip(), event.at)

    def outcome(self, store: str, state: StoreState) -> None:
        if state.phase == Phase.READY:
            msg = f"{self.paint('✓', 'green')} {store} is ready: {self.paint(state.url, 'bold')}"
        elif state.phase == Phase.DELETED:
            msg = f"{self.paint('✓', 'green')} {store} is deleted"
        elif state.phase == Phase.ASLEEP:
            msg = (
                f"{self.paint('✓', 'green')} {store} is asleep: no pod runs, its data is kept; "
                f"`urumi stores wake {store}` brings it back"
            )
        else:
            word = "failed" if state.phase == Phase.FAILED else state.phase.value
            why = " — ".join(p for p in (state.reason, state.message) if p) or "no reason given"
            msg = f"{self.paint('✗', 'red')} {store} {word}: {why}"
            msg += f"\n  What to do: {next_step(state.reason)}"
        print(msg, file=self.out, flush=True)

    def notice(self, text: str) -> None:
        print(self.paint(text, "dim"), file=sys.stderr, flush=True)


async def _get(http: httpx.AsyncClient, method: str, path: str) -> Any:
    try:
        response = await http.request(method, path)
    except httpx.HTTPError as exc:
        raise ConnectionError(f"cannot reach the gateway: {exc}") from exc
    if response.status_code in (401, 403):
        raise FollowError("the token was refused; check --token or URUMI_TOKEN")
    if response.status_code == 404:
        raise FollowError(f"not found: {path.rsplit('/', 1)[-1]}")
    if response.status_code >= 500:
        raise ConnectionError(f"gateway answered {response.status_code}")
    if response.status_code >= 400:
        raise FollowError(f"{response.status_code}: {response.text}")
    return response.json()


async def _initial_views(http: httpx.AsyncClient, store_id: str | None) -> list[dict[str, Any]]:
    if store_id is not None:
        return [await _get(http, "GET", f"/api/v1/stores/{store_id}")]
    items: list[dict[str, Any]] = []
    after = None
    while True:  # every page, like `urumi stores list`
        page = await _get(http, "GET", list_path(after))
        items += page["items"]
        after = page.get("next_after")
        if not after:
            return items


# One client of one server: nobody to spread out, so no jitter.
RECONNECT: Final = BackoffPolicy(base_s=0.5, cap_s=10.0, jitter=False)


class Connection:
    """Frames from the notifier, reconnecting with ``after=`` until closed."""

    def __init__(self, api_url: str, http: httpx.AsyncClient, printer: Printer) -> None:
        self.api_url = api_url
        self.http = http
        self.printer = printer
        self.after: int | None = None

    async def frames(self) -> AsyncGenerator[Frame, None]:
        backoff = Backoff(RECONNECT)
        while True:
            try:
                # Closed explicitly so an abandoned follow leaves no socket to GC.
                async with contextlib.aclosing(self._session()) as session:
                    async for frame in session:
                        backoff.succeeded()
                        yield frame
                reason = "connection closed"
            except (OSError, websockets.WebSocketException) as exc:
                reason = str(exc) or type(exc).__name__
            self.printer.notice(f"live updates interrupted ({reason}); reconnecting…")
            await asyncio.sleep(backoff.failed())

    async def _session(self) -> AsyncGenerator[Frame, None]:
        ticket = await _get(self.http, "POST", "/api/v1/tickets")
        url = socket_url(self.api_url, ticket, self.after)
        async with websockets.connect(url, open_timeout=10, max_size=2**22) as ws:
            try:
                async for raw in ws:
                    frame = decode_frame(raw)
                    self._track(frame)
                    yield frame
            except websockets.ConnectionClosed as exc:
                code = exc.rcvd.code if exc.rcvd else None
                if code == CLOSE_BAD_REQUEST:
                    raise FollowError(f"the notifier refused: {exc.rcvd}") from exc
                raise

    def _track(self, frame: Frame) -> None:
        if isinstance(frame, Hello | Snapshot | EventFrame):
            self.after = frame.seq
        elif isinstance(frame, ErrorFrame) and frame.code == CLOSE_BAD_REQUEST:
            raise FollowError(frame.message)


def tenant_events(frame: Frame) -> list[TenantEvent]:
    if isinstance(frame, Snapshot):
        return list(frame.statuses)
    if isinstance(frame, EventFrame):
        return [frame.event]
    return []


async def follow(api_url: str, token: str, store_id: str | None, until_settled: bool) -> int:
    """Print live progress; 0 when the store(s) ended ready or deleted, 1 otherwise.

    Without ``until_settled`` it follows until interrupted.
    """
    printer = Printer(sys.stdout, store_id)

    def work(http: httpx.AsyncClient) -> Awaitable[int]:
        return _follow(api_url, http, printer, store_id, until_settled)

    return await with_gateway(api_url, token, work)


async def with_gateway(
    api_url: str, token: str, work: Callable[[httpx.AsyncClient], Awaitable[int]]
) -> int:
    """`work`'s exit code, given a client of the gateway as the token; 1 with the
    reason said when following cannot go on."""
    headers = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(base_url=api_url, headers=headers, timeout=15) as http:
        try:
            return await work(http)
        except (FollowError, ConnectionError) as exc:
            print(f"urumi: {exc}", file=sys.stderr)
            return 1


async def _follow(
    api_url: str,
    http: httpx.AsyncClient,
    printer: Printer,
    store_id: str | None,
    until_settled: bool,
) -> int:
    tracker = Tracker(await _initial_views(http, store_id))
    for store, state in tracker.stores.items():
        printer.phase(store, state)
    if until_settled and tracker.settled(store_id):
        return _finish(printer, tracker, store_id)
    async with contextlib.aclosing(Connection(api_url, http, printer).frames()) as frames:
        async for frame in frames:
            _show(printer, tracker, store_id, frame)
            if until_settled and tracker.settled(store_id):
                return _finish(printer, tracker, store_id)
    return 0  # not reached: frames() ends only by an exception


def _show(printer: Printer, tracker: Tracker, store_id: str | None, frame: Frame) -> None:
    for event in tenant_events(frame):
        if store_id is not None and event.store != store_id:
            continue
        changed = tracker.apply(event)
        printer.event(event)
        if changed is not None:
            at = event.observed_at if isinstance(event, StoreStatus) else None
            printer.phase(event.store, changed, at)


def _finish(printer: Printer, tracker: Tracker, store_id: str | None) -> int:
    chosen = [store_id] if store_id else sorted(tracker.stores)
    for store in chosen:
        printer.outcome(store, tracker.stores[store])
    return tracker.exit_code(store_id)
