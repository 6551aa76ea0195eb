"""Integration events: the envelope, the bus protocol and its two implementations."""

from atelier_common.events.bus import EventBus, Handler
from atelier_common.events.envelope import ContractModel, Envelope, IntegrationEvent, event_class

__all__ = ["ContractModel", "Envelope", "EventBus", "Handler", "IntegrationEvent", "event_class"]
