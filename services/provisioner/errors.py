"""Which failures are worth retrying, and the message a person can act on."""

import asyncio
import json
from typing import Final

import aiohttp
import nats.errors
from kubernetes_asyncio.client.exceptions import ApiException

# Throttling, server trouble, and conflicts the next attempt resolves.
_TRANSIENT_STATUS: Final = frozenset({408, 409, 429, 500, 502, 503, 504})


class ProvisionError(Exception):
    """A failure with a message fit for a person (the store's timeline)."""


class TransientError(ProvisionError):
    """Retry later: the cluster is busy, unreachable, or still catching up."""


class PermanentError(ProvisionError):
    """Retrying cannot help: the input or the chart is wrong."""


def api_message(exc: ApiException) -> str:
    """The API server's own message (`Status.message`), else the raw reason."""
    raw = exc.body
    body = raw.decode(errors="replace") if isinstance(raw, bytes) else raw
    if body:
        try:
            message = json.loads(body).get("message")
        except (ValueError, AttributeError):
            message = None
        if message:
            return str(message)
    return f"{exc.status} {exc.reason}"


def is_terminating(exc: ApiException) -> bool:
    """403 for creating inside a namespace that is being deleted: wait it out."""
    return exc.status == 403 and "being terminated" in api_message(exc)


def is_immutable_statefulset_change(exc: ApiException) -> bool:
    """422 for changing what a StatefulSet keeps for life (its volume claim
    templates, selector, service name): it has to be replaced."""
    return exc.status == 422 and "updates to statefulset spec for fields other than" in (
        api_message(exc)
    )


def classify(exc: BaseException, doing: str) -> ProvisionError:
    """Wrap any failure of `doing` (e.g. "apply Deployment/wordpress")."""
    if isinstance(exc, ProvisionError):
        return exc
    if isinstance(exc, ApiException):
        message = f"{doing}: {api_message(exc)}"
        if exc.status in _TRANSIENT_STATUS or is_terminating(exc):
            return TransientError(message)
        return PermanentError(message)
    if isinstance(exc, nats.errors.Error):  # its TimeoutError is asyncio's too
        return TransientError(f"{doing}: event bus (NATS) unreachable ({exc})")
    if isinstance(exc, aiohttp.ClientError | OSError | asyncio.TimeoutError | TimeoutError):
        return TransientError(f"{doing}: Kubernetes API unreachable ({exc or type(exc).__name__})")
    return TransientError(f"{doing}: {type(exc).__name__}: {exc}")
