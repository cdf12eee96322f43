"""Request/reply for a store's admin credentials (core NATS, never a stream)."""

import msgspec


class CredentialsRequest(msgspec.Struct, frozen=True):
    tenant: str
    store: str


class CredentialsReply(msgspec.Struct, frozen=True):
    """`error` is set instead of the secrets when they cannot be read."""

    username: str = ""
    password: str = ""
    admin_url: str = ""
    error: str = ""
