"""Run one service: settings, logging, signals, exit codes."""

import asyncio
import logging
import sys
from collections.abc import Awaitable, Callable

from services.runtime.logs import setup_logging
from services.runtime.settings import Settings, SettingsError, load_settings
from services.runtime.shutdown import stop_event_on_signals

ServiceMain = Callable[[Settings, asyncio.Event], Awaitable[None]]


def run_service(name: str, main: ServiceMain) -> int:
    try:
        settings = load_settings()
    except SettingsError as exc:
        print(f"urumi {name}: bad setting {exc}", file=sys.stderr)
        return 2
    setup_logging(name, settings.log_level)

    async def _run() -> None:
        stop = stop_event_on_signals()
        await main(settings, stop)

    try:
        asyncio.run(_run())
    except Exception:
        logging.getLogger(name).exception("service crashed")
        return 1
    return 0
