"""HTTP routes of the catalog: one router per resource, plus /internal for other services."""

from atelier_catalog.api import categories, internal, media, pricing, products, reviews

# The public reads first: their routers cache (`api/cache.py`).
ROUTERS = (categories.public, products.public, reviews.public, pricing.router, categories.router, products.router,
           reviews.router, media.router, internal.router)
