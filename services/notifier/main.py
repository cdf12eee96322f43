"""``urumi notifier``: URUMI_EVENTS → websockets, per tenant."""

import asyncio
import logging
import re

from services.notifier.app import create_app
from services.notifier.settings import NotifierSettings
from services.runtime import bus
from services.runtime.health import Health
from services.runtime.http import serve

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
        log.info("notifier listening", extra={"port": settings.http_port})
        await serve(app, settings.http_host, settings.http_port, stop)
    finally:
        await nc.drain()
