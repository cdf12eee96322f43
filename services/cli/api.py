"""The gateway's HTTP API as the terminal client calls it (`urumi stores …`)."""

import argparse
import sys
from collections.abc import Callable
from typing import Any, Final

import httpx

# A subcommand: its parsed arguments in, its exit code out.
Command = Callable[[argparse.Namespace], int]

NOT_SIGNED_IN: Final = "no token: pass --token, set URUMI_TOKEN, or run `make dev` first"


class ApiError(Exception):
    pass


def run(func: Command, unsigned: str = NOT_SIGNED_IN) -> Command:
    """`func` as the command line runs it: without a token it says `unsigned` and
    exits 2 before any request; a refusal of the API is said and exits 1."""

    def wrapped(args: argparse.Namespace) -> int:
        if not args.token:
            print(f"urumi: {unsigned}", file=sys.stderr)
            return 2
        try:
            return func(args)
        except ApiError as exc:
            print(f"urumi: {exc}", file=sys.stderr)
            return 1

    return wrapped


def call(args: argparse.Namespace, method: str, path: str, body: Any = None) -> Any:
    try:
        response = httpx.request(
            method,
            f"{args.api.rstrip('/')}{path}",
            json=body,
            timeout=30,
            headers={"Authorization": f"Bearer {args.token}"},
        )
    except httpx.HTTPError as exc:
        raise ApiError(f"cannot reach {args.api}: {exc}; is the gateway running?") from exc
    data = response.json() if response.content else {}
    if response.status_code >= 400:
        raise ApiError(f"{response.status_code}: {data.get('detail', response.text)}")
    return data


def list_path(after: str | None) -> str:
    """The store list's page after the store id `after` (None: the first page)."""
    return f"/api/v1/stores?after={after}" if after else "/api/v1/stores"
