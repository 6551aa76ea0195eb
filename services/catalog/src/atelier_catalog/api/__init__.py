"""HTTP routes of the catalog: one router per resource, plus /internal for other services."""

from atelier_catalog.api import categories, internal, pricing, products, reviews

ROUTERS = (categories.router, products.router, reviews.router, pricing.router, internal.router)
