"""JSON structured logs on stderr, one object per line."""

import logging
import sys
from datetime import UTC, datetime
from typing import Any, Final

import msgspec

_encoder: Final = msgspec.json.Encoder(enc_hook=repr)
_STANDARD: Final = frozenset(vars(logging.LogRecord("", 0, "", 0, "", None, None)))


class JsonFormatter(logging.Formatter):
    def __init__(self, service: str) -> None:
        super().__init__()
        self.service = service

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname.lower(),
            "service": self.service,
            "logger": record.name,
            "msg": record.getMessage(),
        }
        entry.update(
            {k: v for k, v in vars(record).items() if k not in _STANDARD and not k.startswith("_")}
        )
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        return _encoder.encode(entry).decode()


def setup_logging(service: str, level: str = "INFO") -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter(service))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    # At DEBUG the Kubernetes client logs every response body, and a Secret's body
    # is its data: keep it at INFO whatever the level (the secret-leak scan checks).
    logging.getLogger("kubernetes_asyncio.client.rest").setLevel(logging.INFO)
