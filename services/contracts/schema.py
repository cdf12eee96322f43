"""JSON Schemas and the AsyncAPI document, generated from the Structs."""

from typing import Any, Final

import msgspec

from services.contracts import streams, subjects
from services.contracts.backups import BackupStatus, BackupStore
from services.contracts.commands import CreateStore, DeleteStore, ReconcileStore
from services.contracts.credentials import CredentialsReply, CredentialsRequest
from services.contracts.domains import DomainStatus
from services.contracts.events import KubeEvent, StoreActivity, StoreProgress, StoreStatus
from services.contracts.fleet import FleetProgress

CONTRACT_VERSION: Final = "1.0.0"

MESSAGES: Final[tuple[type[msgspec.Struct], ...]] = (
    CreateStore,
    DeleteStore,
    ReconcileStore,
    BackupStore,
    StoreStatus,
    StoreProgress,
    KubeEvent,
    BackupStatus,
    DomainStatus,
    FleetProgress,
    StoreActivity,
    CredentialsRequest,
    CredentialsReply,
)


def message_schemas() -> dict[str, Any]:
    """`{"messages": {Name: {"$ref"…}}, "$defs": {…}}` for every message."""
    refs, defs = msgspec.json.schema_components(MESSAGES, ref_template="#/$defs/{name}")
    return {
        "version": CONTRACT_VERSION,
        "messages": {cls.__name__: ref for cls, ref in zip(MESSAGES, refs, strict=True)},
        "$defs": defs,
    }


def _channel(address: str, description: str, *names: str) -> dict[str, Any]:
    return {
        "address": address,
        "description": description,
        "parameters": {
            "tenant": {"description": "Tenant id (DNS-1123 label)."},
            "store": {"description": "Store id (DNS-1123 label)."},
        },
        "messages": {n: {"$ref": f"#/components/messages/{n}"} for n in names},
    }


def asyncapi_document() -> dict[str, Any]:
    """AsyncAPI 3.0 description of every subject an outside party may use."""
    _, defs = msgspec.json.schema_components(MESSAGES, ref_template="#/components/schemas/{name}")
    p = subjects.PREFIX
    return {
        "asyncapi": "3.0.0",
        "info": {
            "title": "Urumi store events and commands",
            "version": CONTRACT_VERSION,
            "description": (
                f"Commands flow on JetStream stream {streams.COMMANDS.name} (work queue, "
                f"`Nats-Msg-Id` = command_id). Events flow on {streams.EVENTS.name}; every "
                "consumer must tolerate duplicates and redelivery. Payloads are JSON; the "
                "`type` field tags the message."
            ),
        },
        "channels": {
            "commands": _channel(
                f"{p}.cmd.{{tenant}}.{{store}}",
                "Store commands.",
                "CreateStore",
                "DeleteStore",
                "BackupStore",
            ),
            "reconcile": _channel(
                f"{p}.cmd.{{tenant}}.{{store}}.reconcile",
                "Re-apply a store's current generation (watcher).",
                "ReconcileStore",
            ),
            "status": _channel(
                f"{p}.evt.{{tenant}}.{{store}}.status", "Store status (watcher).", "StoreStatus"
            ),
            "progress": _channel(
                f"{p}.evt.{{tenant}}.{{store}}.progress",
                "Provisioning steps (provisioner).",
                "StoreProgress",
            ),
            "kube": _channel(
                f"{p}.evt.{{tenant}}.{{store}}.kube", "Kubernetes Events.", "KubeEvent"
            ),
            "backup": _channel(
                f"{p}.evt.{{tenant}}.{{store}}.backup",
                "A backup's state (watcher; provisioner when its Job was never made).",
                "BackupStatus",
            ),
            "domain": _channel(
                f"{p}.evt.{{tenant}}.{{store}}.domain",
                "A store's own domain changed state, or was removed (gateway).",
                "DomainStatus",
            ),
            "fleet": {
                "address": f"{p}.evt.{subjects.PLATFORM}.{{fleet}}.fleet",
                "description": "Fleet upgrade progress (gateway), for the platform admin.",
                "parameters": {"fleet": {"description": "Fleet upgrade id."}},
                "messages": {"FleetProgress": {"$ref": "#/components/messages/FleetProgress"}},
            },
            "activity": {
                "address": f"{p}.evt.{subjects.PLATFORM}.{{store}}.activity",
                "description": (
                    "Shoppers reached the store: its ingress controller's request counter "
                    "grew (watcher, at most once a report period per store); the gateway "
                    "records the store's last visit from it, which auto-sleep reads."
                ),
                "parameters": {"store": {"description": "Store id (DNS-1123 label)."}},
                "messages": {"StoreActivity": {"$ref": "#/components/messages/StoreActivity"}},
            },
        },
        "components": {
            "messages": {
                cls.__name__: {
                    "name": cls.__name__,
                    "contentType": "application/json",
                    "payload": {"$ref": f"#/components/schemas/{cls.__name__}"},
                }
                for cls in MESSAGES
                if cls not in (CredentialsRequest, CredentialsReply)
            },
            "schemas": defs,
        },
    }
