"""The distributed event bus: the database's event log published to NATS JetStream by an outbox relay, and
read back from there by consumers on other machines (DESIGN section 5; docs/operations.md "Beyond one
machine"). The database stays the source of truth: consumers keep their offsets there, with their effects.
"""

from keel.platform.bus.codec import BusConfig, BusError
from keel.platform.bus.relay import Relay, RelayProgress
from keel.platform.bus.source import JetStreamSource

__all__ = ["BusConfig", "BusError", "JetStreamSource", "Relay", "RelayProgress"]
