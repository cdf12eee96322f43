"""Encoding of every message that crosses NATS."""

from typing import Final

import msgspec

from services.contracts.commands import Command
from services.contracts.events import Event

_encoder: Final = msgspec.json.Encoder()
_commands: Final = msgspec.json.Decoder(Command)
_events: Final = msgspec.json.Decoder(Event)


def encode(message: msgspec.Struct) -> bytes:
    return _encoder.encode(message)


def decode_command(data: bytes) -> Command:
    command: Command = _commands.decode(data)
    return command


def decode_event(data: bytes) -> Event:
    event: Event = _events.decode(data)
    return event
