"""One order read two ways, on PostgreSQL (the `docs/capacity.md` line on orders' UNION ALL).

The API's read of one order (`OrderQueries.get`): the order, its items and its history as one
`UNION ALL` read back by position, against three plain statements built once (the order by id,
its items, its history). Both run as readers do (autocommit, `Database.read_only`), alternating,
on a scratch database with one order of 3 items and 4 history entries; the order's API answer
(`OrderRead`, serialised) is timed too, as the rest of the operation.

    ATELIER_TEST_POSTGRES_URL=postgresql://postgres@127.0.0.1:5432/postgres uv run python -m bench.order_read_shapes
"""

from __future__ import annotations

import asyncio
import os
import statistics
import time
import uuid
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import bindparam, select, text
from sqlalchemy.ext.asyncio import create_async_engine

from atelier_common.columns import table_of
from atelier_common.db import Database, Statement
from atelier_orders.models import Order, OrderItem, OrderStatusHistory
from atelier_orders.queries import OrderQueries
from atelier_orders.rows import OrderDetails, OrderItemRow, StatusEntry
from atelier_orders.schemas import OrderRead

RUNS = int(os.environ.get("RUNS", "3000"))
_ORDER, _ITEM, _HISTORY = table_of(Order), table_of(OrderItem), table_of(OrderStatusHistory)
_PLAIN_ORDER = Statement(select(_ORDER).where(_ORDER.c.id == bindparam("order_id")))
_PLAIN_ITEMS = Statement(select(_ITEM).where(_ITEM.c.order_id == bindparam("order_id")).order_by(_ITEM.c.position))
_PLAIN_HISTORY = Statement(select(_HISTORY).where(_HISTORY.c.order_id == bindparam("order_id"))
                           .order_by(_HISTORY.c.id))
_ORDER_NAMES = [c.name for c in _ORDER.c]
_ITEM_NAMES = [c.name for c in _ITEM.c]
_HISTORY_NAMES = [c.name for c in _HISTORY.c]


async def plain_get(session: Any, order_id: uuid.UUID) -> OrderDetails | None:
    params = {"order_id": order_id}
    rows = await _PLAIN_ORDER.rows(session, params)
    if not rows:
        return None
    order = OrderDetails(**dict(zip(_ORDER_NAMES, rows[0], strict=True)))
    order.items = [OrderItemRow(**dict(zip(_ITEM_NAMES, r, strict=True))) for r in await _PLAIN_ITEMS.rows(session, params)]
    order.status_history = [StatusEntry(**dict(zip(_HISTORY_NAMES, r, strict=True)))
                            for r in await _PLAIN_HISTORY.rows(session, params)]
    return order


async def seed(db: Database) -> uuid.UUID:
    order_id, now = uuid.uuid4(), datetime.now(UTC)
    async with db.transaction() as session:
        await session.execute(_ORDER.insert().values(
            id=order_id, order_number="ORD-20261126-SHAPES", owner_id=uuid.uuid4(), user_id=None,
            storefront="default", email="a@b.test", status="paid", currency="USD", subtotal=Decimal("30.00"),
            tax_amount=Decimal("0"), shipping_cost=Decimal("0"), discount=Decimal("0"), total_amount=Decimal("30.00"),
            shipping_address={"line1": "1 Road", "city": "Town", "country": "US"}, billing_address=None,
            tracking_number=None, from_cart=True, paid_at=now, shipped_at=None, delivered_at=None,
            created_at=now, updated_at=now))
        for position in range(3):
            await session.execute(_ITEM.insert().values(
                id=uuid.uuid4(), order_id=order_id, position=position, product_id=uuid.uuid4(), variant_id=None,
                sku=f"SKU-{position}", name=f"Product {position}", variant_name=None, kind="physical", quantity=1,
                unit_price=Decimal("10.00"), line_total=Decimal("10.00"), attributes={}, book_id=None,
                content_type=None, content_id=None))
        for i, (before, after) in enumerate((("", "pending"), ("pending", "stock_reserved"),
                                             ("stock_reserved", "paid"), ("paid", "paid"))):
            await session.execute(_HISTORY.insert().values(
                order_id=order_id, from_status=before or None, to_status=after, note=f"step {i}", actor="system",
                actor_id=None, created_at=now))
    return order_id


async def main() -> None:
    admin_url = os.environ["ATELIER_TEST_POSTGRES_URL"].replace("postgresql://", "postgresql+psycopg://", 1)
    name = f"order_shapes_{os.getpid()}"
    admin = create_async_engine(admin_url, isolation_level="AUTOCOMMIT", pool_size=1)
    async with admin.connect() as conn:
        await conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = admin_url.rsplit("/", 1)[0] + f"/{name}"
    db = Database(url, service="orders", pool_size=1, max_overflow=0)
    try:
        async with db.engine.begin() as conn:
            await conn.run_sync(lambda c: Order.metadata.create_all(c, tables=[_ORDER, _ITEM, _HISTORY]))
        order_id = await seed(db)
        union = OrderQueries
        results: dict[str, list[tuple[float, float]]] = {"union all": [], "three statements": [], "answer": []}
        async with db.read_only() as session:
            queries = union(session)
            first = await queries.get(order_id)
            second = await plain_get(session, order_id)
            assert first is not None and second is not None and first == second
            for _ in range(200):  # warm both
                await queries.get(order_id)
                await plain_get(session, order_id)
            for _ in range(RUNS):
                for label, read in (("union all", lambda: queries.get(order_id)),
                                    ("three statements", lambda: plain_get(session, order_id))):
                    wall, cpu = time.perf_counter(), time.process_time()
                    await read()
                    results[label].append((time.perf_counter() - wall, time.process_time() - cpu))
                wall, cpu = time.perf_counter(), time.process_time()
                OrderRead.model_validate(first, from_attributes=True).model_dump_json()
                results["answer"].append((time.perf_counter() - wall, time.process_time() - cpu))
        for label, samples in results.items():
            walls = sorted(w for w, _ in samples)
            cpu = sum(c for _, c in samples) / len(samples)
            print(f"{label:17} wall p50 {statistics.median(walls) * 1e6:7.0f} µs  p90 {walls[int(len(walls) * .9)] * 1e6:7.0f} µs"
                  f"  CPU mean {cpu * 1e6:7.0f} µs  ({len(samples)} runs)")
    finally:
        await db.dispose()
        async with admin.connect() as conn:
            await conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        await admin.dispose()


if __name__ == "__main__":
    asyncio.run(main())
