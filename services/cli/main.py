"""The `urumi` command: run a service, run the dev stack, print schemas, manage stores."""

import argparse
import importlib
import json
import sys
from collections.abc import Callable
from typing import Any, Final

from services.cli.fleet import add_fleet_parser
from services.cli.stores import add_stores_parser, defaults
from services.contracts.schema import asyncapi_document, message_schemas
from services.runtime.service import run_service

add_dev_parser: Callable[[Any], None] | None
try:
    from services.devtools.dev import add_dev_parser
except ModuleNotFoundError as exc:
    # The wheel (and so the image) leaves the developer tooling out.
    if exc.name != "services.devtools":
        raise
    add_dev_parser = None

SERVICES = ("gateway", "provisioner", "watcher", "notifier")
NO_DEV: Final = (
    "`urumi dev` needs the developer tooling, which this installation leaves out; "
    "run it from a source checkout: `make dev`"
)


def _run_service(name: str) -> int:
    # By name, so a process loads only the service it runs and that service's dependencies.
    module = importlib.import_module(f"services.{name}.main")
    # A service may name its own event loop (the gateway runs on uvloop).
    code: int = run_service(name, module.main, getattr(module, "loop_factory", None))
    return code


def _schema(args: argparse.Namespace) -> int:
    doc = asyncapi_document() if args.asyncapi else message_schemas()
    print(json.dumps(doc, indent=2, sort_keys=True))
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="urumi", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    for name in SERVICES:
        p = sub.add_parser(name, help=f"run the {name} service (settings from URUMI_* env)")
        p.set_defaults(func=lambda _a, n=name: _run_service(n))
    schema = sub.add_parser("schema", help="print the JSON Schema of every message")
    schema.add_argument("--asyncapi", action="store_true", help="print the AsyncAPI document")
    schema.set_defaults(func=_schema)
    if add_dev_parser is not None:
        add_dev_parser(sub)
    add_stores_parser(sub)
    add_fleet_parser(sub, defaults()[0])
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    # Not offered without the tooling, yet asked for: say what to do, not "invalid choice".
    if add_dev_parser is None and argv[:1] == ["dev"]:
        print(f"urumi: {NO_DEV}", file=sys.stderr)
        return 2
    args = build_parser().parse_args(argv)
    func: Callable[[argparse.Namespace], int] = args.func
    return func(args)


if __name__ == "__main__":
    sys.exit(main())
