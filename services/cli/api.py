"""The gateway's HTTP API as the terminal client calls it (`urumi stores …`)."""

import argparse
from typing import Any

import httpx


class ApiError(Exception):
    pass


def call(args: argparse.Namespace, method: str, path: str, body: Any = None) -> Any:
    if not args.token:
        raise ApiError("no token: pass --token, set URUMI_TOKEN, or run `make dev` first")
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
