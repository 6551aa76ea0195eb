"""HTTP routes of orders: the public resource, plus /internal for other services."""

from atelier_orders.api import internal, orders, staff

ROUTERS = (orders.router, staff.router, internal.router)
