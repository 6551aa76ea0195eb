"""What the catalog's cached reads depend on (see `atelier_common.cache`).

Every public read (products, categories, search, pricing, reviews) depends on the whole catalog
namespace: a price, a stock level, a category's activity or a rating can change any page, so a
commit that writes any of these tables drops every cached answer at once.
"""

from atelier_common.cache import cached_route

NAMESPACE = "catalog"
TABLES = {table: (NAMESPACE,) for table in (
    "category", "product", "product_variant", "product_image", "review", "purchase")}
# The route class of the public, shared reads.
CachedRoute = cached_route(NAMESPACE)
