"""`urumi gateway`: the HTTP API."""

import asyncio

from services.gateway.app import create_app
from services.runtime.http import serve
from services.runtime.settings import Settings


async def main(settings: Settings, stop: asyncio.Event) -> None:
    await serve(create_app(settings), settings.http_host, settings.http_port, stop)
