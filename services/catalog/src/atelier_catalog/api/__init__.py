"""HTTP routes of the catalog: one router per resource, plus /internal for other services."""

from atelier_catalog.api import categories, internal, media, pricing, products, reviews

ROUTERS = (categories.router, products.router, reviews.router, pricing.router, media.router, internal.router)
