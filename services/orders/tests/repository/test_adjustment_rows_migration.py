"""The migration that made each line's discount and tax rows fills them on orders placed before, from
what they held (SQLite and PostgreSQL: it pages by the primary key as each dialect stores it)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import sqlalchemy as sa

from atelier_common.migrations import upgrade

NOW = datetime(2026, 11, 20, tzinfo=UTC)
MIGRATIONS = Path(__file__).resolve().parents[2] / "src" / "atelier_orders" / "migrations"


def test_lines_get_their_discount_and_their_share_of_the_tax(empty_database: str) -> None:
    async_url = empty_database.replace("sqlite://", "sqlite+aiosqlite://", 1)
    upgrade(MIGRATIONS, async_url, "orders_0016")
    engine = sa.create_engine(empty_database)
    # Reflected, a UUID column is SQLite's CHAR(32): its hex there.
    key = (lambda value: value.hex) if empty_database.startswith("sqlite") else (lambda value: value)
    order_id, plain_id = key(uuid.uuid4()), key(uuid.uuid4())
    items = [key(uuid.uuid4()) for _ in range(3)]
    discounts = [{"promotion_id": str(uuid.uuid4()), "code": "TEN", "amount": "7.50",
                  "lines": [{"position": 1, "sku": "A", "amount": "6.00"}, {"position": 2, "sku": "B", "amount": "1.50"}]}]
    orders = sa.Table("customer_order", sa.MetaData(), autoload_with=engine)
    lines = sa.Table("order_item", sa.MetaData(), autoload_with=engine)
    common = {"owner_id": key(uuid.uuid4()), "status": "paid", "currency": "USD", "shipping_cost": Decimal("5.00"),
              "from_cart": False, "created_at": NOW, "updated_at": NOW, "storefront": "default"}
    with engine.begin() as conn:
        conn.execute(orders.insert(), [
            {**common, "id": order_id, "order_number": "ORD-20261120-AAAAAA", "subtotal": Decimal("80.00"),
             "tax_amount": Decimal("6.75"), "discount": Decimal("7.50"), "total_amount": Decimal("84.25"),
             "tax_rate": Decimal("0.09"), "discounts": discounts},
            {**common, "id": plain_id, "order_number": "ORD-20261120-BBBBBB", "subtotal": Decimal("4.99"),
             "tax_amount": Decimal("0"), "discount": Decimal("0"), "total_amount": Decimal("4.99"),
             "tax_rate": None, "discounts": []}])
        base = {"product_id": key(uuid.uuid4()), "attributes": {}, "quantity": 1}
        conn.execute(lines.insert(), [
            {**base, "id": items[0], "order_id": order_id, "position": 1, "sku": "A", "name": "A", "kind": "physical",
             "quantity": 2, "unit_price": Decimal("30.00"), "line_total": Decimal("60.00")},
            {**base, "id": items[1], "order_id": order_id, "position": 2, "sku": "B", "name": "B", "kind": "physical",
             "unit_price": Decimal("15.00"), "line_total": Decimal("15.00")},
            {**base, "id": items[2], "order_id": order_id, "position": 3, "sku": "P", "name": "P",
             "kind": "credit_pack", "unit_price": Decimal("5.00"), "line_total": Decimal("5.00")}])
    engine.dispose()
    upgrade(MIGRATIONS, async_url)
    engine = sa.create_engine(empty_database)
    with engine.connect() as conn:
        rows = conn.execute(sa.text("SELECT position, discount_amount, tax_rate, tax_amount, tax_inclusive "
                                    "FROM order_item ORDER BY position")).all()
        kept = conn.execute(sa.text("SELECT total_amount, tax_amount FROM customer_order ORDER BY order_number")).all()
    engine.dispose()
    # 6.75 of tax (9 % of the 75.00 of goods, as charged then) shared 60 : 15; the credit pack included its own.
    # SQLite answers its NUMERIC as floats: compared as the decimals they print.
    assert [(p, Decimal(str(d)), Decimal(str(t)), bool(i)) for p, d, _, t, i in rows] == [
        (1, Decimal("6.00"), Decimal("5.40"), False), (2, Decimal("1.50"), Decimal("1.35"), False),
        (3, Decimal("0"), Decimal("0"), True)]
    assert {Decimal(str(r)) for _, _, r, _, _ in rows} == {Decimal("0.09")}
    # What they were charged stays.
    assert [(Decimal(str(t)), Decimal(str(x))) for t, x in kept] == [(Decimal("84.25"), Decimal("6.75")),
                                                           (Decimal("4.99"), Decimal("0"))]
