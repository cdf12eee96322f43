"""``urumi notifier``: URUMI_EVENTS → websockets, per tenant."""

import asyncio
import logging
import re

from services.notifier import workers
from services.notifier.app import create_app
from services.notifier.settings import NotifierSettings
from services.runtime import bus
from services.runtime.health import Health
from services.runtime.http import serve, serve_socket

log = logging.getLogger(__name__)
_TICKET = re.compile(r"ticket=[^&\s\"]+")


class RedactTickets(logging.Filter):
    """uvicorn logs each websocket's path with its query: never log the ticket."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(
                _TICKET.sub("ticket=<redacted>", a) if isinstance(a, str) else a
                for a in record.args
            )
        return True


async def main(settings: NotifierSettings, stop: asyncio.Event) -> None:
    if not settings.ticket_secret:
        # Without the gateway's secret no ticket can verify: refuse to look healthy.
        raise SystemExit("urumi notifier: URUMI_TICKET_SECRET is required")
    logging.getLogger("uvicorn.error").addFilter(RedactTickets())
    nc = await bus.connect(settings.nats_url, "notifier", stop)
    try:
        js = nc.jetstream()
        if not await bus.prepare_streams(js, settings, stop):
            return
        health = Health()
        health.add("nats", lambda: nc.is_connected)
        app = create_app(settings, js, health, stop)
        more = settings.notifier_workers - 1
        if more == 0 and not settings.notifier_reuse_port:
            log.info("notifier listening", extra={"port": settings.http_port})
            await serve(app, settings.http_host, settings.http_port, stop)
            return
        # Bound before the others start: with port 0 they learn the real one.
        sock = workers.bind(settings.http_host, settings.http_port, reuse_port=True)
        port = sock.getsockname()[1]
        log.info("notifier listening", extra={"port": port, "workers": more + 1})
        async with workers.started(more, port, stop, settings.shutdown_grace_s):
            await serve_socket(app, sock, stop)
    finally:
        await nc.drain()
