"""Variants of a product (size, finish, thickness…), each with its own SKU and stock."""

from __future__ import annotations

import uuid

from sqlmodel.ext.asyncio.session import AsyncSession

from atelier_catalog import domain
from atelier_catalog.context import CatalogContext
from atelier_catalog.errors import SkuExists, VariantNotFound
from atelier_catalog.models import DEFAULT_LOCATION_ID, Product, ProductVariant, StockMovement
from atelier_catalog.repository import LocationRepository, ProductRepository
from atelier_catalog.schemas import VariantCreate, VariantUpdate
from atelier_catalog.service._shared import flush_unique, load_product, publish_changes
from atelier_catalog.service.products import INITIAL_STOCK_REASON
from atelier_common.auth import Principal
from atelier_common.service import UseCase


class VariantService(UseCase[CatalogContext]):
    def __init__(self, session: AsyncSession, context: CatalogContext) -> None:
        super().__init__(session, context)
        self.products = ProductRepository(session)

    # With `staff`, an API key limited to some storefronts finds only their products (`load_product`).

    async def add(self, ref: str, data: VariantCreate, *, actor_id: uuid.UUID | None,
                  staff: Principal | None = None) -> ProductVariant:
        product = await load_product(self.products, ref, staff=staff)
        if await self.products.sku_taken(data.sku):
            raise SkuExists(details={"sku": data.sku})
        variant = ProductVariant(product_id=product.id, **data.model_dump())
        self.session.add(variant)
        await flush_unique(self.session)
        if variant.stock_quantity:
            await LocationRepository(self.session).seed([(product.id, variant.id, variant.stock_quantity)])
            self.products.add_movement(StockMovement(
                product_id=product.id, variant_id=variant.id, delta=variant.stock_quantity,
                quantity_after=variant.stock_quantity, reason=INITIAL_STOCK_REASON, actor_id=actor_id,
                location_id=DEFAULT_LOCATION_ID))
            await self.session.flush()
        return await self._announce(product, variant.id)

    async def update(self, ref: str, variant_ref: str, data: VariantUpdate, *,
                     staff: Principal | None = None) -> ProductVariant:
        product, variant = await self._load(ref, variant_ref, staff)
        changes = data.changes()
        if "sku" in changes and changes["sku"] != variant.sku and await self.products.sku_taken(
                changes["sku"], except_id=variant.id):
            raise SkuExists(details={"sku": changes["sku"]})
        for name, value in changes.items():
            setattr(variant, name, value)
        await flush_unique(self.session)
        return await self._announce(product, variant.id)

    async def deactivate(self, ref: str, variant_ref: str, *, staff: Principal | None = None) -> None:
        """Like products, variants stay for the orders and carts that reference them."""
        product, variant = await self._load(ref, variant_ref, staff)
        variant.is_active = False
        await self.session.flush()
        await self._announce(product, variant.id)

    async def _load(self, ref: str, variant_ref: str, staff: Principal | None) -> tuple[Product, ProductVariant]:
        product = await load_product(self.products, ref, staff=staff)
        variant_id = domain.parse_uuid(variant_ref)
        variant = next((v for v in product.variants if v.id == variant_id), None)
        if variant is None:
            raise VariantNotFound()
        return product, variant

    async def _announce(self, product: Product, variant_id: uuid.UUID) -> ProductVariant:
        product = await load_product(self.products, str(product.id))
        variant = next(v for v in product.variants if v.id == variant_id)
        await publish_changes(self.session, product, with_product=False, variants=[variant])
        return variant
