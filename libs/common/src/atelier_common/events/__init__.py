"""Integration events: the envelope, the bus protocol and its two implementations."""

from atelier_common.events.envelope import Envelope, IntegrationEvent, event_class
from atelier_common.events.bus import EventBus, Handler

__all__ = ["Envelope", "EventBus", "Handler", "IntegrationEvent", "event_class"]
