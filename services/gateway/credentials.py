"""Ask the provisioner, over NATS, for a store's admin credentials."""

import msgspec
from nats.aio.client import Client
from nats.errors import NoRespondersError
from nats.errors import TimeoutError as NatsTimeout

from services.contracts.credentials import CredentialsReply, CredentialsRequest
from services.contracts.subjects import credentials_subject
from services.contracts.wire import encode
from services.gateway.domain_errors import UnavailableError

_NO_ANSWER = "the provisioner did not answer; retry in a few seconds"


async def ask_credentials(
    nc: Client | None, tenant: str, store_id: str, timeout_s: float
) -> CredentialsReply:
    """The provisioner's reply; UnavailableError without NATS, an answer, or credentials."""
    if nc is None:
        raise UnavailableError(_NO_ANSWER)
    try:
        msg = await nc.request(
            credentials_subject(tenant, store_id),
            encode(CredentialsRequest(tenant=tenant, store=store_id)),
            timeout=timeout_s,
        )
    except (NatsTimeout, NoRespondersError, TimeoutError):
        raise UnavailableError(_NO_ANSWER) from None
    reply = msgspec.json.decode(msg.data, type=CredentialsReply)
    if reply.error:
        raise UnavailableError(f"credentials unavailable: {reply.error}")
    return reply
