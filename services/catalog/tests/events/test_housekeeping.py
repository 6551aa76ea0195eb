"""Catalog's housekeeping: `stock_order` rows untouched for the inbox window and owner rows that
learned nothing go; what the order's later events need still works after. SQLite, and PostgreSQL
when set."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from sqlmodel import col, select, update

from atelier_catalog.housekeeping import sweeps
from atelier_catalog.models import CatalogOwner, StockOrder
from atelier_common.columns import utcnow
from atelier_common.contracts.orders import OrderCancelled
from atelier_common.housekeeping import Housekeeper
from atelier_testing import ServiceHarness

from ..conftest import Catalog
from .test_reservations import line, paid, placed, reservations, stock

pytestmark = pytest.mark.databases("sqlite", "postgres", why="housekeeping's batched deletes and row locks")


def _keeper(harness: ServiceHarness) -> Housekeeper:
    runtime = harness.runtime
    return Housekeeper(runtime.db, sweeps(runtime.context), service="catalog", batch_size=2)


async def _age(harness: ServiceHarness, model, column, ids, days: float) -> None:
    async with harness.runtime.db.transaction() as session:
        await session.execute(update(model).where(col(column).in_(ids))
                              .values(updated_at=utcnow() - timedelta(days=days)))


async def _stock_orders(harness: ServiceHarness) -> set[uuid.UUID]:
    async with harness.runtime.db.read_only() as session:
        return set((await session.exec(select(StockOrder.order_id))).all())


class TestStockOrders:
    async def test_rows_past_the_inbox_window_go_and_a_later_cancellation_still_gives_stock_back(
            self, harness: ServiceHarness, catalog: Catalog) -> None:
        slab = await catalog.product(stock_quantity=20)
        orders = [placed(line(slab, 1)) for _ in range(5)]
        for order in orders:
            await harness.deliver(order)
            await harness.deliver(paid(order))
        fresh = placed(line(slab, 2))
        await harness.deliver(fresh)
        assert await stock(harness, slab) == 13
        old_ids = [order.order_id for order in orders]
        await _age(harness, StockOrder, StockOrder.order_id, old_ids, days=7.5)

        report = await _keeper(harness).run_once()

        assert report.removed["stock_orders"] == 5 and not report.failed
        assert await _stock_orders(harness) == {fresh.order_id}
        # An order paid a week ago and cancelled now: the row comes back as a lock, the committed
        # units go back on the shelf once, and a resent cancellation moves nothing more.
        cancelled = OrderCancelled(order_id=orders[0].order_id, owner_id=orders[0].owner_id, was_paid=True)
        await harness.deliver(cancelled)
        await harness.deliver(cancelled)
        assert await stock(harness, slab) == 14
        assert {r.status for r in await reservations(harness, orders[0].order_id)} == {"released"}


class TestOwners:
    async def test_plain_owner_rows_go_claims_and_erasures_stay(self, harness: ServiceHarness) -> None:
        old = utcnow() - timedelta(days=8)
        plain = [uuid.uuid4() for _ in range(3)]
        claimed, erased, recent = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
        async with harness.runtime.db.transaction() as session:
            session.add_all([CatalogOwner(owner_id=o, created_at=old, updated_at=old) for o in plain])
            session.add_all([CatalogOwner(owner_id=claimed, claimed_by=uuid.uuid4(), created_at=old, updated_at=old),
                             CatalogOwner(owner_id=erased, erased_at=old, created_at=old, updated_at=old),
                             CatalogOwner(owner_id=recent)])
        assert (await _keeper(harness).run_once()).removed["catalog_owner_plain"] == 3
        async with harness.runtime.db.read_only() as session:
            assert set((await session.exec(select(CatalogOwner.owner_id))).all()) == {claimed, erased, recent}
