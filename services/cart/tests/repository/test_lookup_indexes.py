"""The read-model lookups of a cart's lines (their kinds, read with the lines after each lock), on
PostgreSQL: through its indexes, so changing a line does not read every product of the catalog."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import text
from sqlalchemy.dialects import postgresql

from atelier_cart.repository import _LINES
from atelier_testing import ServiceHarness

pytestmark = pytest.mark.databases("sqlite", "postgres", why="the plans of each database")


@pytest.mark.databases("postgres", why="PostgreSQL's plans")
async def test_the_kinds_of_a_carts_lines_are_read_through_the_indexes(harness: ServiceHarness,
                                                                          db_backend: str) -> None:
    async with harness.runtime.db.transaction() as session:
        # A catalog in miniature: products, and variants of some, with the planner's statistics.
        rows = await session.execute(text("""
            INSERT INTO cart_product (id, product_id, variant_id, name, sku, kind, price, currency, stock_quantity,
                                      track_inventory, is_active, updated_at)
            SELECT gen_random_uuid(), gen_random_uuid(), CASE WHEN n % 5 = 0 THEN gen_random_uuid() END,
                   'Product ' || n, 'SKU-' || n, 'physical', 10, 'USD', 5, true, true, now()
            FROM generate_series(1, 5000) AS n
            RETURNING product_id, variant_id"""))
        found = rows.all()
    async with harness.runtime.db.transaction() as session:
        await session.execute(text("ANALYZE cart_product"))
    plain = next((p, v) for p, v in found if v is None)
    varied = next((p, v) for p, v in found if v is not None)
    cart_id = uuid.uuid4()
    async with harness.runtime.db.transaction() as session:
        await session.execute(text("INSERT INTO cart (id, owner_id, storefront, anonymous, currency, created_at, "
                                   "updated_at) VALUES (:id, :owner, 'default', true, 'USD', now(), now())"),
                              {"id": cart_id, "owner": uuid.uuid4()})
        for product, variant in (plain, varied, (uuid.uuid4(), None)):
            await session.execute(text(
                "INSERT INTO cart_item (id, cart_id, product_id, variant_id, quantity, unit_price, name, sku, "
                "created_at, updated_at) VALUES (:id, :cart, :product, :variant, 1, 10, 'x', 'x', now(), now())"),
                {"id": uuid.uuid4(), "cart": cart_id, "product": product, "variant": variant})
    sql = str(_LINES.stmt.params(cart=cart_id).compile(dialect=postgresql.dialect(),
                                                       compile_kwargs={"literal_binds": True}))
    async with harness.runtime.db.transaction() as session:
        connection = await session.connection()
        plan = (await connection.exec_driver_sql(f"EXPLAIN {sql}")).scalars().all()
        got = (await connection.exec_driver_sql(sql)).all()
    assert not any("Seq Scan on cart_product" in line for line in plan), plan
    assert sorted(str(row.kind) for row in got) == ["None", "physical", "physical"]
