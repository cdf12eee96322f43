"""The `urumi` command: run a service, run the dev stack, print schemas, manage stores."""

import argparse
import importlib
import json
import sys
from collections.abc import Callable

from services.contracts.schema import asyncapi_document, message_schemas

SERVICES = ("gateway", "provisioner", "watcher", "notifier")


def _run_service(name: str) -> int:
    # Imported by name so the runtime package never depends on a service statically.
    from services.runtime.service import run_service

    module = importlib.import_module(f"services.{name}.main")
    code: int = run_service(name, module.main)
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
    from services.runtime.dev import add_dev_parser
    from services.runtime.stores_cli import add_stores_parser

    add_dev_parser(sub)
    add_stores_parser(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    func: Callable[[argparse.Namespace], int] = args.func
    return func(args)


if __name__ == "__main__":
    sys.exit(main())
