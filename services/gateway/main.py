"""`urumi gateway`: the HTTP API."""

import asyncio

from services.gateway.app import create_app
from services.gateway.settings import GatewaySettings
from services.runtime.http import serve


async def main(settings: GatewaySettings, stop: asyncio.Event) -> None:
    await serve(create_app(settings), settings.http_host, settings.http_port, stop)
