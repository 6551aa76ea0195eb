"""The orders service's use cases, one module each; every method may flush but never commits."""

from atelier_orders.service.ownership import OwnershipService
from atelier_orders.service.placing import Buyer, PlacementService
from atelier_orders.service.reading import OrderService
from atelier_orders.service.status import StatusService

__all__ = ["Buyer", "OrderService", "OwnershipService", "PlacementService", "StatusService"]
