"""Kubernetes Events the provisioner writes about a store's objects, so
`kubectl describe` and `kubectl get events` tell what Urumi did to them."""

import logging
from collections.abc import Mapping
from datetime import datetime
from typing import Any, Final

from kubernetes_asyncio.client import ApiClient, CoreV1Api

log = logging.getLogger(__name__)

COMPONENT: Final = "urumi-provisioner"


def event_body(
    obj: Mapping[str, Any], reason: str, message: str, event_type: str, at: datetime
) -> dict[str, Any]:
    meta = obj.get("metadata") or {}
    # A Namespace is described by an Event inside itself (it has no namespace).
    namespace = meta.get("namespace") or meta.get("name", "")
    stamp = at.isoformat().replace("+00:00", "Z")
    return {
        "metadata": {"generateName": "urumi-", "namespace": namespace},
        "involvedObject": {
            "apiVersion": obj.get("apiVersion", ""),
            "kind": obj.get("kind", ""),
            "name": meta.get("name", ""),
            "namespace": namespace,
            "uid": meta.get("uid", ""),
        },
        "reason": reason,
        "message": message,
        "type": event_type,
        "source": {"component": COMPONENT},
        "reportingComponent": COMPONENT,
        "firstTimestamp": stamp,
        "lastTimestamp": stamp,
        "count": 1,
    }


async def record_event(
    api: ApiClient,
    obj: Mapping[str, Any],
    reason: str,
    message: str,
    event_type: str,
    at: datetime,
) -> None:
    """Best effort: the timeline already has the fact, an Event only repeats it."""
    body = event_body(obj, reason, message, event_type, at)
    namespace = body["metadata"]["namespace"]
    try:
        # The API takes the plain dict; the stubs want the model class.
        await CoreV1Api(api).create_namespaced_event(namespace, body)  # type: ignore[arg-type]
    except Exception as exc:
        log.warning("event not recorded", extra={"reason": reason, "error": str(exc)})
