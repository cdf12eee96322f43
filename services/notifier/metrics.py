"""The notifier's Prometheus metrics (``/metrics``)."""

from typing import Final

from prometheus_client import Counter, Gauge

SOCKETS: Final = Gauge("urumi_notifier_sockets", "Open websocket connections")
CLOSES: Final = Counter("urumi_notifier_closes_total", "Websocket closes by cause", ["cause"])
FRAMES: Final = Counter("urumi_notifier_frames_total", "Frames sent", ["type"])
EVENT_FRAMES: Final = FRAMES.labels("eventframe")
DIRECT_WRITES: Final = Counter(
    "urumi_notifier_direct_writes_total",
    "Event frames written straight to a caught-up socket (the rest go through its queue)",
)
