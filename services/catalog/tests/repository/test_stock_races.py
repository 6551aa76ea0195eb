"""Concurrent stock changes on PostgreSQL: the guarded UPDATE never oversells."""

from __future__ import annotations

import asyncio
from decimal import Decimal

import pytest
from sqlmodel import select

from atelier_catalog.models import Product, ProductVariant
from atelier_catalog.repository import ProductRepository
from atelier_common.db import Database
from atelier_testing import ServiceHarness

from ..conftest import MIGRATIONS, Catalog, assert_error

pytestmark = pytest.mark.databases("postgres", why="PostgreSQL itself: row locks and full-text search")

CONCURRENT = 10


async def _race(db: Database, model: type[Product] | type[ProductVariant], row_id, delta: int) -> list[int | None]:
    barrier = asyncio.Barrier(CONCURRENT)

    async def decrement() -> int | None:
        async with db.transaction() as session:
            await barrier.wait()  # every transaction is open before any of them writes
            return await ProductRepository(session).add_stock(model, row_id, delta)

    return await asyncio.gather(*(decrement() for _ in range(CONCURRENT)))


class TestGuardedStockUpdate:
    async def test_ten_concurrent_decrements_of_five_in_stock_sell_exactly_five(self, service_database) -> None:
        db = Database(service_database("catalog", MIGRATIONS), service="catalog", pool_size=CONCURRENT)
        try:
            async with db.transaction() as session:
                product = Product(name="Slab", slug="slab", sku="SLAB-1", price=Decimal("10.00"), stock_quantity=5)
                session.add(product)
            results = await _race(db, Product, product.id, -1)
            assert sorted(r for r in results if r is not None) == [0, 1, 2, 3, 4]
            assert results.count(None) == CONCURRENT - 5
            async with db.read_only() as session:
                assert (await session.exec(select(Product.stock_quantity))).one() == 0
        finally:
            await db.dispose()

    async def test_variant_stock_is_guarded_the_same_way(self, service_database) -> None:
        db = Database(service_database("catalog", MIGRATIONS), service="catalog", pool_size=CONCURRENT)
        try:
            async with db.transaction() as session:
                product = Product(name="Tile", slug="tile", sku="TILE-1", price=Decimal("1.00"))
                variant = ProductVariant(product_id=product.id, name="Big", sku="TILE-1-B", stock_quantity=7)
                session.add(product)
                await session.flush()
                session.add(variant)
            results = await _race(db, ProductVariant, variant.id, -2)
            assert sorted(r for r in results if r is not None) == [1, 3, 5]
            async with db.read_only() as session:
                assert (await session.exec(select(ProductVariant.stock_quantity))).one() == 1
        finally:
            await db.dispose()


async def test_concurrent_staff_requests_never_take_stock_below_zero(harness: ServiceHarness, catalog: Catalog,
                                                                      staff) -> None:
    product = await catalog.product(stock_quantity=5)
    url = f"/api/v1/products/{product['id']}/stock"
    responses = await asyncio.gather(*(harness.client.post(url, headers=staff, json={"delta": -1, "reason": "sale"})
                                       for _ in range(CONCURRENT)))
    assert sorted(r.status_code for r in responses) == [200] * 5 + [409] * 5
    for response in responses:
        if response.status_code == 409:
            assert_error(response, 409, "INSUFFICIENT_STOCK")
    assert sorted(r.json()["stock_quantity"] for r in responses if r.status_code == 200) == [0, 1, 2, 3, 4]
    assert (await harness.client.get(f"/api/v1/products/{product['id']}")).json()["stock_quantity"] == 0
