"""HTTP routes of the catalog: one router per resource, plus /internal for other services."""

from atelier_catalog.api import (
    categories,
    internal,
    locations,
    media,
    price_lists,
    pricing,
    products,
    reviews,
    transfer,
    translations,
)

# The public reads first: their routers cache (`api/cache.py`); before them, the staff reads and the
# CSV routes, whose paths `GET /products/{ref}` would otherwise take.
ROUTERS = (products.staff_reads, transfer.router, translations.router, categories.public, products.public,
           reviews.public, pricing.router, categories.router, products.router, reviews.router,
           price_lists.router, locations.router, media.router, internal.router)

# The OpenAPI tags of these routers: what a client finds under each (the docs' sections).
TAGS = {
    "categories": "The category tree: public reads; merchandisers edit it.",
    "products": ("Products with their variants, images and stock: public reads of what the request's "
                 "storefront offers; merchandisers write."),
    "reviews": "Customers' reviews of products, and their wishlist.",
    "pricing": "What the request's storefront sells as credit packs and subscription plans.",
    "locations": "Stock locations (warehouses, shops, drop-shippers), the units each holds, and transfers; merchandisers keep them.",
    "translations": "Products', variants' and categories' texts per locale; merchandisers keep them.",
    "price-lists": "Customer groups' prices per storefront and currency (the groups: identity's `/staff/customer-groups`); merchandisers keep them.",
}
