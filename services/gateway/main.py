"""`urumi gateway`: the HTTP API."""

import asyncio

import uvloop

from services.gateway.app import create_app
from services.gateway.settings import GatewaySettings
from services.runtime.http import serve


async def main(settings: GatewaySettings, stop: asyncio.Event) -> None:
    await serve(create_app(settings), settings.http_host, settings.http_port, stop)


# uvloop: the event loop's own work (callbacks, transports, the socket calls) is
# a fair share of a create's CPU, and uvloop does it in C. uvicorn parses HTTP
# with httptools (installed beside it) instead of pure-Python h11 for the same reason.
loop_factory = uvloop.new_event_loop
