"""API models: Create / Update (all optional) / Read per resource; their field names are the public contract's
(within /api/v1 none is renamed: docs/api.md). One module per resource, as the routers and the services use them:

- `_shared`: the request bases and the fields several resources share (names, slugs, prices, storefronts);
- `categories`: the category tree;
- `products`: products, their search, and other services' lookups;
- `images` · `variants`: a product's images and variants;
- `stock`: stock adjustments and counts, low stock;
- `transfer`: the import report;
- `pricing`: the digital offers;
- `price_lists`: customer groups' price lists;
- `reviews`: reviews and wishlists;
- `translations`: texts per locale.
"""

from atelier_catalog.schemas._shared import (
           Attributes,
           Currency,
           Description,
           Name,
           Price,
           Quantity,
           Sku,
           Slug,
           Storefronts,
           StorefrontSlug,
)
from atelier_catalog.schemas.categories import CategoryCreate, CategoryRead, CategoryTreeRead, CategoryUpdate
from atelier_catalog.schemas.images import ImageCreate, ImageRead, ImageUpdate, ImageUrl
from atelier_catalog.schemas.locations import (
    ItemStockRead,
    LocationCreate,
    LocationRead,
    LocationsRead,
    LocationUnits,
    LocationUpdate,
    ProductLocationsRead,
    StockTransferCreate,
    StockTransferRead,
)
from atelier_catalog.schemas.price_lists import (
           PRICE_LIST_EXAMPLE,
           CustomerGroup,
           PriceListCreate,
           PriceListEntries,
           PriceListEntry,
           PriceListPriceRead,
           PriceListRead,
           PriceListsRead,
           PriceListUpdate,
)
from atelier_catalog.schemas.pricing import OfferRead, PricingRead
from atelier_catalog.schemas.products import (
           PriceListBrief,
           ProductCreate,
           ProductLookup,
           ProductQuery,
           ProductRead,
           ProductUpdate,
)
from atelier_catalog.schemas.reviews import (
           ReviewCreate,
           ReviewRead,
           WishlistItemRead,
           WishlistProductRead,
           WishlistToggleRead,
)
from atelier_catalog.schemas.stock import LowStockItem, LowStockRead, StockAdjustment, StockRead
from atelier_catalog.schemas.transfer import ImportReportRead, ImportRowRead
from atelier_catalog.schemas.translations import TranslationRead, TranslationsRead, TranslationWrite
from atelier_catalog.schemas.variants import VariantCreate, VariantRead, VariantUpdate

__all__ = [
           "PRICE_LIST_EXAMPLE",
           "Attributes",
           "CategoryCreate",
           "CategoryRead",
           "CategoryTreeRead",
           "CategoryUpdate",
           "Currency",
           "CustomerGroup",
           "Description",
           "ImageCreate",
           "ImageRead",
           "ImageUpdate",
           "ImageUrl",
           "ImportReportRead",
           "ImportRowRead",
           "ItemStockRead",
           "LocationCreate",
           "LocationRead",
           "LocationUnits",
           "LocationUpdate",
           "LocationsRead",
           "LowStockItem",
           "LowStockRead",
           "Name",
           "OfferRead",
           "Price",
           "PriceListBrief",
           "PriceListCreate",
           "PriceListEntries",
           "PriceListEntry",
           "PriceListPriceRead",
           "PriceListRead",
           "PriceListUpdate",
           "PriceListsRead",
           "PricingRead",
           "ProductCreate",
           "ProductLocationsRead",
           "ProductLookup",
           "ProductQuery",
           "ProductRead",
           "ProductUpdate",
           "Quantity",
           "ReviewCreate",
           "ReviewRead",
           "Sku",
           "Slug",
           "StockAdjustment",
           "StockRead",
           "StockTransferCreate",
           "StockTransferRead",
           "StorefrontSlug",
           "Storefronts",
           "TranslationRead",
           "TranslationWrite",
           "TranslationsRead",
           "VariantCreate",
           "VariantRead",
           "VariantUpdate",
           "WishlistItemRead",
           "WishlistProductRead",
           "WishlistToggleRead",
]
