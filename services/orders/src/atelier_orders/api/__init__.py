"""HTTP routes of orders: the public resource, plus /internal for other services."""

from atelier_orders.api import internal, orders

ROUTERS = (orders.router, internal.router)
