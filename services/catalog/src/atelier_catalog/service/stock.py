"""Stock corrections by staff: one guarded UPDATE, recorded, announced; and what runs low."""

from __future__ import annotations

import uuid

from sqlmodel.ext.asyncio.session import AsyncSession

from atelier_catalog import domain
from atelier_catalog.context import CatalogContext
from atelier_catalog.errors import InsufficientStock, LocationNotFound, StorefrontNotFound, VariantNotFound
from atelier_catalog.models import DEFAULT_LOCATION_ID, DEFAULT_LOCATION_NAME, Product, ProductVariant, StockMovement
from atelier_catalog.repository import LocationRepository, ProductRepository
from atelier_catalog.schemas import LowStockItem, StockAdjustment
from atelier_catalog.service._shared import announce_low_stock, load_product, product_changed, publish_changes
from atelier_common import audit
from atelier_common.auth import Principal
from atelier_common.service import UseCase
from atelier_common.storefronts import Storefront

# The most items one low-stock read lists (of products and of variants each, before the scope).
LOW_STOCK_LIMIT = 200


class StockService(UseCase[CatalogContext]):
    def __init__(self, session: AsyncSession, context: CatalogContext) -> None:
        super().__init__(session, context)
        self.products = ProductRepository(session)
        self.locations = LocationRepository(session)

    async def adjust(self, ref: str, data: StockAdjustment, *, actor_id: uuid.UUID | None,
                     staff: Principal | None = None) -> StockMovement:
        """Add `data.delta` (negative: take) to the product's or variant's stock, never below zero.
        With `staff`, the change is in the audit log, in this transaction, and an API key limited to
        some storefronts changes only the stock of their products (`load_product`)."""
        product = await load_product(self.products, ref, staff=staff)
        variant = None
        if data.variant_id is not None:
            variant = next((v for v in product.variants if v.id == data.variant_id), None)
            if variant is None:
                raise VariantNotFound()
        target: type[Product] | type[ProductVariant] = ProductVariant if variant is not None else Product
        target_id = variant.id if variant is not None else product.id
        location_id = data.location_id or DEFAULT_LOCATION_ID
        location = await self.locations.get(data.location_id) if data.location_id is not None else None
        if data.location_id is not None and location is None:
            raise LocationNotFound()
        variant_id = variant.id if variant is not None else None
        # No read-then-write: the UPDATEs themselves refuse to go below zero, the total's first (its
        # lock orders every change of the item), then the location's.
        quantity = await self.products.add_stock(target, target_id, data.delta)
        if quantity is None:
            available = await self.products.stock_of(target, target_id)
            raise InsufficientStock(details={"requested": -data.delta, "available": available})
        at_location = await self.locations.change(location_id, product.id, variant_id, data.delta)
        if at_location is None:
            await self.products.add_stock(target, target_id, -data.delta)
            available = await self.locations.stock_of(location_id, target_id)
            raise InsufficientStock(details={"requested": -data.delta, "available": available,
                                             "location_id": str(location_id)})
        movement = StockMovement(product_id=product.id, variant_id=variant_id, delta=data.delta,
                                 quantity_after=quantity, reason=data.reason, actor_id=actor_id,
                                 location_id=location_id)
        self.products.add_movement(movement)
        await self.session.flush()
        product = await load_product(self.products, str(product.id))
        changed = [v for v in product.variants if variant is not None and v.id == variant.id]
        await publish_changes(self.session, product, with_product=variant is None, variants=changed)
        hidden = product.id in await self.products.hidden_by_category([product.id])
        await announce_low_stock(self.session, self.context.storefronts, [product_changed(
            product, changed[0] if changed else None, category_hidden=hidden, image_url=None, stock_only=True,
            previous_stock=quantity - data.delta)], [domain.LocationMove(
                location_id, location.name if location else DEFAULT_LOCATION_NAME, location.storefront if location else "",
                product.id, variant_id, before=at_location - data.delta, after=at_location)])
        if staff is not None:
            await audit.record(self.session, staff, "stock.adjust", "variant" if variant is not None else "product",
                               target_id, before={"stock_quantity": quantity - data.delta},
                               after={"stock_quantity": quantity, "delta": data.delta,
                                      "location_id": str(location_id)}, reason=data.reason)
        return movement

    async def low_stock(self, storefront: Storefront, staff: Principal) -> tuple[int | None, list[LowStockItem]]:
        """What `storefront` offers with at most its `low_stock_threshold` in stock (S3's
        `get_low_stock_products`), lowest first: (the threshold, the items); none without one. An
        API key limited to other storefronts does not find `storefront`."""
        if not staff.may_touch(storefront.slug):
            raise StorefrontNotFound()
        threshold = storefront.policies.low_stock_threshold
        if threshold is None:
            return None, []
        rows = await self.products.low_stock(threshold, limit=LOW_STOCK_LIMIT)
        items = [LowStockItem(product_id=row.product_id, variant_id=row.variant_id,
                              name=domain.stock_item_name(row.name, row.variant_name), sku=row.sku,
                              stock_quantity=row.stock_quantity)
                 for row in rows if storefront.offers(row.kind, domain.storefronts_of(row.storefronts_key))]
        return threshold, items[:LOW_STOCK_LIMIT]
