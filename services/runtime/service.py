"""Run one service: settings, logging, signals, exit codes."""

import asyncio
import inspect
import logging
import sys
import typing
from collections.abc import Awaitable, Callable

from services.runtime.logs import setup_logging
from services.runtime.settings import S, Settings, SettingsError, load_settings
from services.runtime.shutdown import stop_event_on_signals

ServiceMain = Callable[[S, asyncio.Event], Awaitable[None]]


def settings_type(main: ServiceMain[S]) -> type[S]:
    """The settings struct `main` takes, read from its first parameter's annotation:
    the service's own signature names its settings, so the caller (the `urumi`
    command, which imports services by name) needs to know none of them."""
    first = next(iter(inspect.signature(main).parameters))
    kind = typing.get_type_hints(main).get(first)
    if not (isinstance(kind, type) and issubclass(kind, Settings)):
        raise TypeError(f"{main.__qualname__}'s first parameter must be annotated with Settings")
    return typing.cast(type[S], kind)


def run_service(
    name: str,
    main: ServiceMain[S],
    loop_factory: Callable[[], asyncio.AbstractEventLoop] | None = None,
) -> int:
    """Run `main` until it returns; `loop_factory`: another event loop than asyncio's."""
    try:
        settings = load_settings(settings_type(main))
    except SettingsError as exc:
        print(f"urumi {name}: bad setting {exc}", file=sys.stderr)
        return 2
    setup_logging(name, settings.log_level)

    async def _run() -> None:
        stop = stop_event_on_signals()
        await main(settings, stop)

    try:
        with asyncio.Runner(loop_factory=loop_factory) as runner:
            runner.run(_run())
    except Exception:
        logging.getLogger(name).exception("service crashed")
        return 1
    return 0
