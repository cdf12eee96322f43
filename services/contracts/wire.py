"""Encoding of every message that crosses NATS."""

from typing import Final

import msgspec

from services.contracts.commands import Command
from services.contracts.events import BusEvent, Event

_encoder: Final = msgspec.json.Encoder()
_commands: Final = msgspec.json.Decoder(Command)
_events: Final = msgspec.json.Decoder(Event)
_bus_events: Final = msgspec.json.Decoder(BusEvent)


def encode(message: msgspec.Struct) -> bytes:
    return _encoder.encode(message)


def decode_command(data: bytes) -> Command:
    command: Command = _commands.decode(data)
    return command


def decode_event(data: bytes) -> Event:
    event: Event = _events.decode(data)
    return event


def decode_bus_event(data: bytes) -> BusEvent:
    """Any message of URUMI_EVENTS: a store's event or the platform's."""
    event: BusEvent = _bus_events.decode(data)
    return event
