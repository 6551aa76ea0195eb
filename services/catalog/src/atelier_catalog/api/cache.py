"""What the catalog's cached reads depend on (see `atelier_common.cache`).

Every public read (products, categories, search, pricing, reviews) depends on the whole catalog
namespace: a price, a stock level, a category's activity or a rating can change any page, so a
commit that writes any of these tables drops every cached answer at once — a price list's too: a
customer group's answers are cached under its own audience (`atelier_common.cache.audience_of`).

A CDN is told more precisely (surrogate keys, `atelier_common.cdn`): a product's page is tagged
with that product, a category's with that category, and every answer that lists products
(pages, searches, a category's products, reviews, pricing) with `product-list` — a change to any
product may move it into or out of a page, a filter or an order. So a written product purges its
own page and the lists, and leaves the pages of the other products at the CDN. A write the ORM
did not flush row by row (a guarded stock UPDATE) purges the namespace: every catalog answer.
"""

from typing import Any

from atelier_common.cache import cached_route
from atelier_common.contracts.catalog import PRODUCT_LIST_KEY

NAMESPACE = "catalog"
TABLES = {table: (NAMESPACE,) for table in (
    "category", "product", "product_variant", "product_image", "review", "purchase", "price_list",
    "price_list_price", "translation")}
# A price list's rows change only what its customer group is shown: answers that are never public
# (`audience_of`), so a CDN has nothing of theirs to purge.
GROUP_ONLY = frozenset({"price_list", "price_list_price"})
PRODUCT_LIST = PRODUCT_LIST_KEY
CATEGORY_LIST = "category-list"


def product_key(product_id: object) -> str:
    return f"product-{product_id}"


def category_key(category_id: object) -> str:
    return f"category-{category_id}"


def answer_keys(path: str, body: Any) -> list[str]:
    """The keys of a public answer: `/api/v1/<resource>[/<ref>[/<more>]]` and its JSON."""
    parts = path.split("/")[3:]
    detail = len(parts) == 2 and isinstance(body, dict) and "id" in body
    if parts[0] == "products" and detail:
        return [product_key(body["id"])]
    if parts[0] == "categories" and len(parts) < 3:
        return [category_key(body["id"]), CATEGORY_LIST] if detail else [CATEGORY_LIST]
    return [PRODUCT_LIST]


def row_keys(table: str, row: Any) -> list[str]:
    """The keys a written row purges (`ServiceSpec.cache_keys`)."""
    if table in GROUP_ONLY:
        return []
    if table == "product":  # its page, the lists, and the categories' product counts
        return [product_key(row.id), PRODUCT_LIST, CATEGORY_LIST]
    if table == "category":  # the category and the lists filtered by it
        return [category_key(row.id), CATEGORY_LIST, PRODUCT_LIST]
    if table == "translation" and row.category_id is not None:  # a category's texts in one language
        return [category_key(row.category_id), CATEGORY_LIST, PRODUCT_LIST]
    if (product_id := getattr(row, "product_id", None)) is not None:  # variants, images, ratings, texts
        return [product_key(product_id), PRODUCT_LIST]
    return [PRODUCT_LIST, CATEGORY_LIST]


# The route class of the public, shared reads.
CachedRoute = cached_route(NAMESPACE, keys=answer_keys)
