"""The other services cart calls, one client each: catalog's internal API, for a product the
read-model has not heard of yet, and for what a customer group pays (business prices).

`GET /internal/products/{id}` answers the product with all its variants, inactive ones
included (`atelier_common.contracts.catalog.ProductSnapshot`, the shape orders reads too).
"""

from __future__ import annotations

import logging
import uuid
from decimal import Decimal

from pydantic import ValidationError

from atelier_cart.domain import ProductFacts
from atelier_cart.errors import CatalogUnavailable
from atelier_common.contracts.catalog import ProductSnapshot, ProductSnapshots, VariantSnapshot
from atelier_common.internal import InternalApi

log = logging.getLogger("atelier.cart.catalog")


class CatalogClient:
    def __init__(self, internal: InternalApi) -> None:
        self.internal = internal

    async def product_facts(self, product_id: uuid.UUID) -> list[ProductFacts] | None:
        """The product and each of its variants; None when catalog does not know the product."""
        response = await self.internal.call("catalog", "GET", f"/internal/products/{product_id}")
        if response.status_code == 404:
            return None
        if response.status_code != 200:
            log.error("catalog answered %s for product %s", response.status_code, product_id)
            raise CatalogUnavailable()
        try:
            product = ProductSnapshot.model_validate(response.json())
        except (ValueError, ValidationError) as exc:
            log.error("catalog sent an unreadable product %s: %s", product_id, exc)
            raise CatalogUnavailable() from exc
        return [_facts(product, None), *(_facts(product, variant) for variant in product.variants)]


    async def group_price(self, product_id: uuid.UUID, variant_id: uuid.UUID | None, *, storefront: str,
                          group: str) -> Decimal | None:
        """What a caller of the customer `group` pays for the product (or variant) on `storefront`
        (catalog's price lists); None when catalog does not know it."""
        response = await self.internal.call("catalog", "POST", "/internal/products/lookup", json={
            "ids": [str(product_id)], "storefront": storefront, "customer_group": group})
        if response.status_code != 200:
            log.error("catalog answered %s for the group price of %s", response.status_code, product_id)
            raise CatalogUnavailable()
        try:
            found = ProductSnapshots.model_validate(response.json()).results
        except (ValueError, ValidationError) as exc:
            log.error("catalog sent an unreadable lookup of %s: %s", product_id, exc)
            raise CatalogUnavailable() from exc
        product = next((p for p in found if p.id == product_id), None)
        if product is None:
            return None
        if variant_id is None:
            return product.price
        variant = product.variant(variant_id)
        return variant.price if variant is not None else None


def _facts(product: ProductSnapshot, variant: VariantSnapshot | None) -> ProductFacts:
    # Same meaning as catalog.product_changed: a variant is sellable only while its product is.
    if variant is None:
        return ProductFacts(product_id=product.id, variant_id=None, name=product.name, variant_name=None,
                            sku=product.sku, kind=product.kind, price=product.price, currency=product.currency,
                            stock_quantity=product.stock_quantity, track_inventory=product.track_inventory,
                            is_active=product.is_active, image_url=product.image_url,
                            storefronts=tuple(product.storefronts), tax_class=product.tax_class)
    return ProductFacts(product_id=product.id, variant_id=variant.id, name=product.name, variant_name=variant.name,
                        sku=variant.sku, kind=product.kind, price=variant.price, currency=product.currency,
                        stock_quantity=variant.stock_quantity, track_inventory=product.track_inventory,
                        is_active=product.is_active and variant.is_active, image_url=product.image_url,
                        storefronts=tuple(product.storefronts), tax_class=product.tax_class)
