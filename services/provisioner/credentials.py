"""Answers credentials requests (core NATS request/reply, queue group) from the
store's Secret. The reply goes only to the requester's inbox; nothing here logs
or publishes the values."""

import asyncio
import base64
import logging
from typing import Final

import msgspec
from kubernetes_asyncio.client import ApiClient, CoreV1Api
from kubernetes_asyncio.client.exceptions import ApiException
from nats.aio.client import Client
from nats.aio.msg import Msg
from nats.aio.subscription import Subscription

from services.contracts import labels
from services.contracts.credentials import CredentialsReply, CredentialsRequest
from services.contracts.ids import namespace_for, store_url
from services.contracts.subjects import CREDENTIALS_ALL, parse_store_subject
from services.contracts.wire import encode
from services.provisioner.apply import REQUEST_TIMEOUT
from services.provisioner.engines import ENGINES, SECRET_NAME
from services.provisioner.settings import ProvisionerSettings

log = logging.getLogger(__name__)

QUEUE: Final = "provisioner"


class CredentialsResponder:
    def __init__(self, api: ApiClient, settings: ProvisionerSettings) -> None:
        self.core = CoreV1Api(api)
        self.settings = settings
        self._tasks: set[asyncio.Task[None]] = set()

    async def subscribe(self, nc: Client) -> Subscription:
        return await nc.subscribe(CREDENTIALS_ALL, queue=QUEUE, cb=self._on_request)

    async def _on_request(self, msg: Msg) -> None:
        # nats-py runs one callback at a time per subscription: never let a slow
        # Kubernetes read hold up other requests.
        task = asyncio.create_task(self._answer(msg))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _answer(self, msg: Msg) -> None:
        try:
            ref = parse_store_subject(msg.subject)
            if msg.data:
                req = msgspec.json.decode(msg.data, type=CredentialsRequest)
                if (req.tenant, req.store) != (ref.tenant, ref.store):
                    raise ValueError("request body names another store than its subject")
            reply = await self.lookup(ref.tenant, ref.store)
        except (ValueError, msgspec.DecodeError) as exc:
            reply = CredentialsReply(error=f"bad credentials request: {exc}")
        if msg.reply:
            await msg.respond(encode(reply))

    async def lookup(self, tenant: str, store: str) -> CredentialsReply:
        ns = namespace_for(store)
        missing = CredentialsReply(
            error=f"store {store} has no credentials (not provisioned yet, or deleted)"
        )
        try:
            secret = await self.core.read_namespaced_secret(
                SECRET_NAME, ns, _request_timeout=REQUEST_TIMEOUT
            )
        except ApiException as exc:
            if exc.status == 404:
                return missing
            log.warning("credentials read failed", extra={"store": store, "status": exc.status})
            return CredentialsReply(error="credentials are unavailable right now; try again")
        except Exception as exc:
            log.warning(
                "credentials read failed", extra={"store": store, "error": type(exc).__name__}
            )
            return CredentialsReply(error="credentials are unavailable right now; try again")
        found = secret.metadata.labels or {}
        # Another tenant's store looks exactly like a missing one.
        if found.get(labels.TENANT) != tenant:
            return missing
        engine = next((d for e, d in ENGINES.items() if e.value == found.get(labels.ENGINE)), None)
        if engine is None:
            return missing
        data = secret.data or {}
        return CredentialsReply(
            username=_b64(data.get(engine.admin_user_key, "")),
            password=_b64(data.get(engine.admin_password_key, "")),
            admin_url=self._url(store) + engine.admin_path,
        )

    def _url(self, store: str) -> str:
        settings = self.settings
        return store_url(
            store,
            settings.base_domain,
            tls=settings.store_tls() != "none",
            port=settings.store_port,
        )


def _b64(value: str) -> str:
    return base64.b64decode(value).decode() if value else ""
