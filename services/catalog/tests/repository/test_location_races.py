"""Parallel `order.placed` events on PostgreSQL for the last units, spread over two locations: no
oversell, no location below zero, and what each location lost is what its reservation rows hold."""

from __future__ import annotations

import uuid
from decimal import Decimal

import pytest
from sqlalchemy import func
from sqlmodel import select

from atelier_catalog.models import DEFAULT_LOCATION_ID, LocationStock, Product, StockLocation, StockReservation
from atelier_catalog.repository import LocationRepository
from atelier_catalog.settings import CatalogSettings
from atelier_common.contracts.orders import OrderCancelled, OrderLine, OrderPlaced
from atelier_common.db import Database

from ..conftest import MIGRATIONS
from .test_reservation_races import ORDERS, _deliver_all, _State

pytestmark = pytest.mark.databases("postgres", why="PostgreSQL itself: row locks")


async def _setup(service_database) -> tuple[Database, _State, Product, uuid.UUID]:
    """10 units: 4 at a French shop (first for France), 6 at the default location."""
    url = service_database("catalog", MIGRATIONS)
    db = Database(url, service="catalog", pool_size=ORDERS)
    async with db.transaction() as session:
        product = Product(name="Slab", slug="slab", sku="SLAB-1", price=Decimal("10.00"), stock_quantity=10)
        shop = StockLocation(name="Lyon", kind="shop", storefront="default", ships_to=["FR"], priority=10)
        session.add_all([product, shop])
        await session.flush()
        locations = LocationRepository(session)
        await locations.seed([(product.id, None, 6)])
        await locations.change(shop.id, product.id, None, 4)
    return db, _State(CatalogSettings(database_url=url)), product, shop.id


def _order(product: Product, quantity: int) -> OrderPlaced:
    order_id = uuid.uuid4()
    return OrderPlaced(order_id=order_id, order_number=f"ORD-{order_id.hex[:6]}", owner_id=uuid.uuid4(),
                       ship_country="FR", lines=[OrderLine(product_id=product.id, sku=product.sku, kind="physical",
                                                           quantity=quantity, unit_price=product.price)])


async def _state_of(db: Database, shop: uuid.UUID) -> tuple[int, int, int, dict[uuid.UUID, int]]:
    """(total, shop's units, default's units, units held per location)."""
    async with db.read_only() as session:
        total = (await session.exec(select(Product.stock_quantity))).one()
        units = dict((await session.exec(select(LocationStock.location_id, LocationStock.quantity))).all())
        held = dict((await session.exec(
            select(StockReservation.location_id, func.sum(StockReservation.quantity))
            .where(StockReservation.status == "reserved").group_by(StockReservation.location_id))).all())
    return total, units.get(shop, 0), units.get(DEFAULT_LOCATION_ID, 0), {k: int(v) for k, v in held.items()}


class TestParallelOrdersOverTwoLocations:
    async def test_fifty_orders_for_the_last_ten_units_take_exactly_ten(self, service_database) -> None:
        db, state, product, shop = await _setup(service_database)
        try:
            orders = [_order(product, 1) for _ in range(ORDERS)]
            await _deliver_all(db, state, orders)
            assert await _state_of(db, shop) == (0, 0, 0, {shop: 4, DEFAULT_LOCATION_ID: 6})

            await _deliver_all(db, state, [OrderCancelled(order_id=o.order_id, owner_id=o.owner_id) for o in orders])
            assert await _state_of(db, shop) == (10, 4, 6, {})
        finally:
            await db.dispose()

    async def test_split_lines_under_contention_never_oversell_a_location(self, service_database) -> None:
        db, state, product, shop = await _setup(service_database)
        try:
            # 3 units each: the first takes 3 of the shop's 4, the second splits 1 + 2, the third
            # takes 3 of the default's 4 left; 1 unit stays, and 47 orders are refused.
            orders = [_order(product, 3) for _ in range(ORDERS)]
            await _deliver_all(db, state, orders)
            total, at_shop, at_default, held = await _state_of(db, shop)
            assert (total, at_shop, at_default) == (1, 0, 1)
            assert held == {shop: 4, DEFAULT_LOCATION_ID: 5}
            async with db.read_only() as session:
                reserved = set((await session.exec(select(StockReservation.order_id))).all())
            assert len(reserved) == 3

            await _deliver_all(db, state, [OrderCancelled(order_id=o.order_id, owner_id=o.owner_id) for o in orders])
            assert await _state_of(db, shop) == (10, 4, 6, {})
        finally:
            await db.dispose()
