"""Short-lived websocket tickets: the gateway signs, the notifier verifies.

Format: base64url(json {"t": tenant, "exp": unix}) + "." + base64url(HMAC-SHA256).
The notifier needs only the shared secret, never the gateway's database.
"""

import base64
import hashlib
import hmac
import time

import msgspec


class Ticket(msgspec.Struct, frozen=True):
    t: str
    exp: float


class TicketError(Exception):
    pass


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _mac(secret: str, payload: str) -> str:
    return _b64(hmac.new(secret.encode(), payload.encode(), hashlib.sha256).digest())


def sign_ticket(secret: str, tenant: str, ttl_s: float, now: float | None = None) -> str:
    issued = time.time() if now is None else now
    payload = _b64(msgspec.json.encode(Ticket(t=tenant, exp=issued + ttl_s)))
    return f"{payload}.{_mac(secret, payload)}"


def verify_ticket(secret: str, ticket: str, now: float | None = None) -> str:
    """The tenant the ticket was signed for; TicketError when forged or expired."""
    payload, _, mac = ticket.partition(".")
    if not secret or not mac or not hmac.compare_digest(mac, _mac(secret, payload)):
        raise TicketError("ticket signature is invalid")
    try:
        body = msgspec.json.decode(_unb64(payload), type=Ticket)
    except (ValueError, msgspec.DecodeError) as exc:
        raise TicketError("ticket is malformed") from exc
    if body.exp < (time.time() if now is None else now):
        raise TicketError("ticket has expired; ask the gateway for a new one")
    return body.t
