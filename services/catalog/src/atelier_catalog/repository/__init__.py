"""Queries of the catalog, and nothing else: no rules, no commits. One module per concern:

- `products`: products one by one (staff edits, lookups for other services, slugs, SKUs);
- `search`: product pages and the search walk (statements built once, counts exact or estimated);
- `facts`: products and variants as plain rows for the checkout's paths (statements built once);
- `categories`: the category tree;
- `stock`: stock counts and the reservations that hold them for orders;
- `reviews`: purchases, reviews and wishlists;
- `price_lists`: customer groups' price lists, and the copy of the groups they may name;
- `translations`: texts per locale.

What is on sale is `atelier_catalog.visibility`'s; a row the caller may not see is simply not found.
"""

from atelier_catalog.repository.categories import CategoryRepository
from atelier_catalog.repository.facts import (
    OrderFacts,
    ProductFacts,
    ProductFactsRepository,
    VariantFacts,
    product_facts,
    variant_facts,
)
from atelier_catalog.repository.locations import LocationRepository
from atelier_catalog.repository.price_lists import CustomerGroupCopies, PriceListRepository
from atelier_catalog.repository.products import ProductRepository
from atelier_catalog.repository.reviews import (
    OwnerRepository,
    PurchaseRepository,
    ReviewRepository,
    WishlistRepository,
)
from atelier_catalog.repository.search import SEARCH_CONFIG, SEARCH_WALK_ROWS, SEARCH_WALK_ROWS_PER_RESULT
from atelier_catalog.repository.stock import Movement, ReservationRepository
from atelier_catalog.repository.translations import TranslationRepository
from atelier_common.counting import CountEstimates

__all__ = ["SEARCH_CONFIG", "SEARCH_WALK_ROWS", "SEARCH_WALK_ROWS_PER_RESULT", "CategoryRepository",
           "CountEstimates", "CustomerGroupCopies", "LocationRepository", "Movement", "OrderFacts",
           "OwnerRepository", "PriceListRepository", "ProductFacts", "ProductFactsRepository", "ProductRepository",
           "PurchaseRepository", "ReservationRepository", "ReviewRepository", "TranslationRepository",
           "VariantFacts",
           "WishlistRepository", "product_facts", "variant_facts"]
