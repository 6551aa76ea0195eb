"""Parallel `order.placed` events on PostgreSQL: stock is reserved exactly, never oversold."""

from __future__ import annotations

import asyncio
import uuid
from decimal import Decimal

import pytest
from sqlalchemy import func
from sqlmodel import select

from atelier_catalog.events import SUBSCRIPTIONS
from atelier_catalog.models import Product, ProductVariant, StockReservation
from atelier_catalog.repository import LocationRepository
from atelier_catalog.settings import CatalogSettings
from atelier_common.contracts.orders import OrderCancelled, OrderLine, OrderPlaced
from atelier_common.db import Database
from atelier_common.events.envelope import Envelope
from atelier_common.inbox import handle_once
from atelier_common.storefronts import StorefrontDirectory, fallback_storefront

from ..conftest import MIGRATIONS

pytestmark = pytest.mark.databases("postgres", why="PostgreSQL itself: row locks and full-text search")

ORDERS = 50
CONSUMER = "catalog"


class _State:
    """What handlers read from the runtime: the settings and the copy of the storefronts (the
    install's default alone here: no low-stock threshold)."""

    def __init__(self, settings: CatalogSettings) -> None:
        self.settings = settings
        self.storefronts = StorefrontDirectory(fallback_storefront(settings))


def _placed(product: Product, quantity: int, variant: ProductVariant | None = None) -> OrderPlaced:
    order_id = uuid.uuid4()
    return OrderPlaced(order_id=order_id, order_number=f"ORD-{order_id.hex[:6]}", owner_id=uuid.uuid4(), lines=[
        OrderLine(product_id=product.id, variant_id=variant.id if variant else None, sku=product.sku,
                  kind="physical", quantity=quantity, unit_price=product.price)])


async def _deliver_all(db: Database, state: _State, events: list, *, envelopes: list[Envelope] | None = None) -> None:
    envelopes = envelopes or [Envelope.wrap(e, producer="orders") for e in events]
    barrier = asyncio.Barrier(len(events))

    async def one(event, envelope: Envelope) -> None:
        await barrier.wait()  # all at once, as parallel consumers of one queue would
        await handle_once(db, CONSUMER, envelope, event, SUBSCRIPTIONS[type(event)], state)

    await asyncio.gather(*(one(e, env) for e, env in zip(events, envelopes, strict=True)))


async def _setup(service_database) -> tuple[Database, _State, Product, ProductVariant]:
    url = service_database("catalog", MIGRATIONS)
    db = Database(url, service="catalog", pool_size=ORDERS)
    async with db.transaction() as session:
        product = Product(name="Slab", slug="slab", sku="SLAB-1", price=Decimal("10.00"), stock_quantity=10)
        session.add(product)
        await session.flush()
        variant = ProductVariant(product_id=product.id, name="Thick", sku="SLAB-1-T", stock_quantity=10)
        session.add(variant)
        await session.flush()
        # Their stock, at the default location (as creating them through the API puts it).
        await LocationRepository(session).seed([(product.id, None, 10), (product.id, variant.id, 10)])
    return db, _State(CatalogSettings(database_url=url)), product, variant


async def _stock(db: Database) -> tuple[int, int, int]:
    async with db.read_only() as session:
        product = (await session.exec(select(Product.stock_quantity))).one()
        variant = (await session.exec(select(ProductVariant.stock_quantity))).one()
        held = (await session.exec(select(func.coalesce(func.sum(StockReservation.quantity), 0))
                                   .where(StockReservation.status == "reserved"))).one()
        return product, variant, held


class TestParallelOrders:
    async def test_fifty_orders_for_ten_in_stock_reserve_exactly_ten(self, service_database) -> None:
        db, state, product, _ = await _setup(service_database)
        try:
            orders = [_placed(product, 1) for _ in range(ORDERS)]
            await _deliver_all(db, state, orders)

            assert await _stock(db) == (0, 10, 10)
            async with db.read_only() as session:
                reserved = set((await session.exec(select(StockReservation.order_id))).all())
            assert len(reserved) == 10

            # Cancelling every order (the rejected ones too) returns exactly what was held.
            await _deliver_all(db, state, [OrderCancelled(order_id=o.order_id, owner_id=o.owner_id)
                                           for o in orders])
            assert await _stock(db) == (10, 10, 0)
        finally:
            await db.dispose()

    async def test_multi_line_orders_are_all_or_nothing_under_contention(self, service_database) -> None:
        db, state, product, variant = await _setup(service_database)
        try:
            # Each order wants 3 of the product and 2 of the variant: at most 3 orders fit.
            orders = [_placed(product, 3) for _ in range(ORDERS)]
            for order in orders:
                order.lines.append(OrderLine(product_id=product.id, variant_id=variant.id, sku=variant.sku,
                                             kind="physical", quantity=2, unit_price=product.price))
            await _deliver_all(db, state, orders)

            product_left, variant_left, held = await _stock(db)
            assert (product_left, variant_left, held) == (1, 4, 15)
            async with db.read_only() as session:
                per_order = (await session.exec(select(StockReservation.order_id, func.count())
                                                .group_by(StockReservation.order_id))).all()
            assert len(per_order) == 3 and all(count == 2 for _, count in per_order)
        finally:
            await db.dispose()

    async def test_the_same_event_delivered_in_parallel_has_one_effect(self, service_database) -> None:
        db, state, product, _ = await _setup(service_database)
        try:
            order = _placed(product, 4)
            envelope = Envelope.wrap(order, producer="orders")
            results = await asyncio.gather(
                *(handle_once(db, CONSUMER, envelope, order, SUBSCRIPTIONS[OrderPlaced], state) for _ in range(5)),
                return_exceptions=True)
            # The losers either see the inbox row or lose the insert race on it (and would be retried).
            assert sum(r is True for r in results) == 1
            assert await _stock(db) == (6, 10, 4)
        finally:
            await db.dispose()
