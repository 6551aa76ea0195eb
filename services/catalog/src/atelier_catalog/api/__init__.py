"""HTTP routes of the catalog: one router per resource, plus /internal for other services."""

from atelier_catalog.api import categories, internal, pricing, products

ROUTERS = (categories.router, products.router, pricing.router, internal.router)
