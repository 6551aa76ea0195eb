"""Stock locations (warehouses, shops, drop-shippers), kept by staff: which storefront's orders each
serves, where it ships, in which order orders take from them; the units each holds, and transfers
between them. How an order picks its locations is `domain.serving_order`."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from atelier_catalog import domain
from atelier_catalog.context import CatalogContext
from atelier_catalog.errors import (
    InsufficientStock,
    InvalidTransfer,
    LocationNotEmpty,
    LocationNotFound,
    UnknownStorefront,
    VariantNotFound,
)
from atelier_catalog.models import (
    DEFAULT_LOCATION_ID,
    DEFAULT_LOCATION_NAME,
    Product,
    ProductVariant,
    StockLocation,
    StockMovement,
)
from atelier_catalog.repository import LocationRepository, ProductRepository
from atelier_catalog.repository.locations import item_of
from atelier_catalog.schemas import (
    ItemStockRead,
    LocationCreate,
    LocationUnits,
    LocationUpdate,
    ProductLocationsRead,
    StockTransferCreate,
    StockTransferRead,
)
from atelier_catalog.service._shared import announce_low_stock, load_product, product_changed
from atelier_common import audit
from atelier_common.auth import Principal
from atelier_common.service import UseCase
from atelier_common.storefronts import UnknownStorefront as NoSuchStorefront


def _state(location: StockLocation) -> dict[str, Any]:
    return {"name": location.name, "kind": location.kind, "storefront": location.storefront,
            "country": location.country, "ships_to": list(location.ships_to), "priority": location.priority,
            "is_active": location.is_active}


class LocationService(UseCase[CatalogContext]):
    """Merchandisers and admins keep the locations; every write is audited."""

    def __init__(self, session: AsyncSession, context: CatalogContext) -> None:
        super().__init__(session, context)
        self.locations = LocationRepository(session)
        self.products = ProductRepository(session)

    async def all(self, storefront: str | None) -> Sequence[StockLocation]:
        return await self.locations.all(storefront)

    async def get(self, location_id: uuid.UUID) -> StockLocation:
        found = await self.locations.get(location_id)
        if found is None:
            raise LocationNotFound()
        return found

    async def create(self, data: LocationCreate, *, staff: Principal, storefront: str) -> StockLocation:
        """A new location for `storefront` (the one named, else the request's; "": every storefront's)."""
        if storefront:
            try:
                await self.context.storefronts.get(storefront)
            except NoSuchStorefront as exc:
                raise UnknownStorefront(details={"fields": {"storefront": [
                    f"no storefront has the slug {storefront!r}"]}}) from exc
        location = StockLocation(name=data.name, kind=data.kind.value, storefront=storefront, country=data.country,
                                 ships_to=sorted(set(data.ships_to)), priority=data.priority,
                                 is_active=data.is_active)
        self.locations.add(location)
        await self.session.flush()
        await audit.record(self.session, staff, "stock_location.create", "stock_location", location.id,
                           after=_state(location))
        return location

    async def update(self, location_id: uuid.UUID, data: LocationUpdate, *, staff: Principal) -> StockLocation:
        location = await self.get(location_id)
        before = _state(location)
        for name, value in data.changes().items():
            if name == "ships_to":
                value = sorted(set(value))
            setattr(location, name, value.value if name == "kind" else value)
        await self.session.flush()
        await audit.record(self.session, staff, "stock_location.update", "stock_location", location.id,
                           before=before, after=_state(location))
        return location

    async def delete(self, location_id: uuid.UUID, *, staff: Principal) -> None:
        """Only an empty location that is not the default one (units given back later for orders it
        served go to the default location)."""
        location = await self.get(location_id)
        if location.is_default or await self.locations.holds_units(location.id):
            raise LocationNotEmpty()
        before = _state(location)
        await self.locations.delete(location)
        await self.session.flush()
        await audit.record(self.session, staff, "stock_location.delete", "stock_location", location_id,
                           before=before)

    async def product_stock(self, ref: str) -> ProductLocationsRead:
        """The product's units (and each variant's) per location."""
        product = await load_product(self.products, ref)
        names = {DEFAULT_LOCATION_ID: DEFAULT_LOCATION_NAME} | {
            location.id: location.name for location in await self.locations.all()}
        items: list[tuple[uuid.UUID | None, str, int]] = [(None, product.sku, product.stock_quantity)]
        items += [(variant.id, variant.sku, variant.stock_quantity) for variant in product.variants]
        held = await self.locations.by_item(item_of(product.id, variant_id) for variant_id, _, _ in items)
        return ProductLocationsRead(product_id=product.id, items=[ItemStockRead(
            product_id=product.id, variant_id=variant_id, sku=sku, stock_quantity=total,
            locations=[LocationUnits(location_id=location_id, name=names.get(location_id, ""), quantity=quantity)
                       for location_id, quantity in sorted(held.get(item_of(product.id, variant_id), {}).items(),
                                                           key=lambda kv: names.get(kv[0], ""))])
            for variant_id, sku, total in items])

    async def transfer(self, data: StockTransferCreate, *, staff: Principal) -> StockTransferRead:
        """Move units from one location to another: the total stays, so nothing is announced. The
        item's own row is locked first, as every change of its stock does, then the source's
        guarded UPDATE refuses to go below zero."""
        if data.from_location_id == data.to_location_id:
            raise InvalidTransfer()
        product = await load_product(self.products, data.product)
        variant = None
        if data.variant_id is not None:
            variant = next((v for v in product.variants if v.id == data.variant_id), None)
            if variant is None:
                raise VariantNotFound()
        source, target = await self.get(data.from_location_id), await self.get(data.to_location_id)
        model: type[Product] | type[ProductVariant] = ProductVariant if variant is not None else Product
        row_id = variant.id if variant is not None else product.id
        locked = await self.products.change_stock(model, row_id, 0)
        if locked is None:
            raise VariantNotFound()
        left = await self.locations.change(data.from_location_id, product.id, data.variant_id, -data.quantity)
        if left is None:
            raise InsufficientStock(details={"requested": data.quantity, "available": await self.locations.stock_of(
                data.from_location_id, row_id), "location_id": str(data.from_location_id)})
        arrived = await self.locations.change(data.to_location_id, product.id, data.variant_id, data.quantity)
        total = int(locked["stock_quantity"])
        reason = f"transfer: {data.reason}"
        for location_id, delta in ((data.from_location_id, -data.quantity), (data.to_location_id, data.quantity)):
            self.products.add_movement(StockMovement(product_id=product.id, variant_id=data.variant_id, delta=delta,
                                                     quantity_after=total, reason=reason[:200], actor_id=staff.user_id,
                                                     location_id=location_id))
        await self.session.flush()
        # The total stays, so nothing else hears of it; the source may have run low.
        hidden = product.id in await self.products.hidden_by_category([product.id])
        await announce_low_stock(self.session, self.context.storefronts, [product_changed(
            product, variant, category_hidden=hidden, image_url=None, stock_only=True, previous_stock=total)], [
            domain.LocationMove(source.id, source.name, source.storefront, product.id, data.variant_id,
                                before=left + data.quantity, after=left),
            domain.LocationMove(target.id, target.name, target.storefront, product.id, data.variant_id,
                                before=(arrived or 0) - data.quantity, after=arrived or 0)])
        await audit.record(self.session, staff, "stock.transfer", "variant" if variant is not None else "product",
                           row_id, after={"from": str(data.from_location_id), "to": str(data.to_location_id),
                                          "quantity": data.quantity}, reason=data.reason)
        return StockTransferRead(product_id=product.id, variant_id=data.variant_id,
                                 from_location_id=data.from_location_id, to_location_id=data.to_location_id,
                                 quantity=data.quantity, from_quantity=left, to_quantity=arrived or 0)
