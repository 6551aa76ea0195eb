"""The migration that keeps each line's discount once, on its row (orders_0019): `lines` goes from
`customer_order.discounts` and from `promotion_redemption`, the rest of each entry stays, and
reads answer `discounts[].lines` from the rows; the downgrade writes `lines` back from the rows
(SQLite and PostgreSQL)."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import sqlalchemy as sa
from alembic import command

from atelier_common.migrations import alembic_config, upgrade
from atelier_orders.promotions import rules as promotion_rules

NOW = datetime(2026, 11, 20, tzinfo=UTC)
MIGRATIONS = Path(__file__).resolve().parents[2] / "src" / "atelier_orders" / "migrations"


def _json(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str) else value


def _discount(promotion: uuid.UUID, amount: str, lines: list[tuple[int, str, str]], **fields: Any) -> dict[str, Any]:
    return {"promotion_id": str(promotion), "code": None, "name": "Promo", "kind": "percentage", "amount": amount,
            "free_shipping": False, **fields,
            "lines": [{"position": p, "sku": sku, "amount": a} for p, sku, a in lines]}


def test_lines_leave_the_json_and_are_read_back_from_the_rows(empty_database: str) -> None:
    async_url = empty_database.replace("sqlite://", "sqlite+aiosqlite://", 1)
    upgrade(MIGRATIONS, async_url, "orders_0018")
    engine = sa.create_engine(empty_database)
    sqlite = empty_database.startswith("sqlite")
    # Reflected, a UUID column is SQLite's CHAR(32): its hex there.
    key = (lambda value: value.hex) if sqlite else (lambda value: value)
    code, shipping, tenth, five = (uuid.uuid4() for _ in range(4))
    one, two, plain = (uuid.uuid4() for _ in range(3))
    # One order with a code on both lines and free shipping; one whose two promotions combined.
    single = [_discount(code, "7.50", [(1, "A", "6.00"), (2, "B", "1.50")], code="TEN"),
              _discount(shipping, "0.00", [], kind="free_shipping", free_shipping=True)]
    combined = [_discount(tenth, "7.50", [(1, "A", "6.00"), (2, "B", "1.50")]),
                _discount(five, "5.00", [(1, "A", "5.00")], kind="fixed")]
    meta = sa.MetaData()
    orders, items, promotions, redemptions = (sa.Table(name, meta, autoload_with=engine) for name in (
        "customer_order", "order_item", "promotion", "promotion_redemption"))
    common = {"owner_id": key(uuid.uuid4()), "status": "paid", "currency": "USD", "shipping_cost": Decimal("0"),
              "tax_amount": Decimal("0"), "from_cart": False, "created_at": NOW, "updated_at": NOW,
              "storefront": "default"}
    with engine.begin() as conn:
        conn.execute(promotions.insert(), [
            {"id": key(p), "storefront": "default", "name": "Promo", "kind": "percentage", "value": Decimal("10"),
             "product_ids": [], "category_ids": [], "is_active": True, "combinable": True, "uses": 1,
             "created_at": NOW, "updated_at": NOW} for p in (code, shipping, tenth, five)])
        conn.execute(orders.insert(), [
            {**common, "id": key(one), "order_number": "ORD-20261120-AAAAAA", "subtotal": Decimal("75.00"),
             "discount": Decimal("7.50"), "total_amount": Decimal("67.50"), "discounts": single},
            {**common, "id": key(two), "order_number": "ORD-20261120-BBBBBB", "subtotal": Decimal("75.00"),
             "discount": Decimal("12.50"), "total_amount": Decimal("62.50"), "discounts": combined},
            {**common, "id": key(plain), "order_number": "ORD-20261120-CCCCCC", "subtotal": Decimal("5.00"),
             "discount": Decimal("0"), "total_amount": Decimal("5.00"), "discounts": []}])
        line = {"product_id": key(uuid.uuid4()), "attributes": {}, "kind": "physical", "name": "x"}
        conn.execute(items.insert(), [
            {**line, "id": key(uuid.uuid4()), "order_id": key(order), "position": position, "sku": sku,
             "quantity": 1, "unit_price": Decimal(total), "line_total": Decimal(total), "discount_amount": Decimal(off)}
            for order, position, sku, total, off in (
                (one, 1, "A", "60.00", "6.00"), (one, 2, "B", "15.00", "1.50"),
                (two, 1, "A", "60.00", "11.00"), (two, 2, "B", "15.00", "1.50"), (plain, 1, "C", "5.00", "0"))])
        conn.execute(redemptions.insert(), [
            {"id": key(uuid.uuid4()), "promotion_id": key(entry_promotion), "order_id": key(order),
             "storefront": "default", "name": "Promo", "kind": "percentage", "owner_id": common["owner_id"],
             "amount": Decimal(entry["amount"]), "free_shipping": entry["free_shipping"], "lines": entry["lines"],
             "created_at": NOW}
            for order, entries in ((one, single), (two, combined))
            for entry in entries for entry_promotion in (uuid.UUID(entry["promotion_id"]),)])
    engine.dispose()

    upgrade(MIGRATIONS, async_url)
    engine = sa.create_engine(empty_database)
    with engine.connect() as conn:
        kept = {number: _json(d) for number, d in conn.execute(sa.text(
            "SELECT order_number, discounts FROM customer_order")).all()}
        rows = {number: [SimpleNamespace(position=p, sku=s, discount_amount=Decimal(str(d)))
                         for p, s, d in conn.execute(sa.text(
                             "SELECT position, sku, discount_amount FROM order_item i JOIN customer_order o "
                             "ON o.id = i.order_id WHERE o.order_number = :n ORDER BY position"), {"n": number}).all()]
                for number in kept}
        columns = {c["name"] for c in sa.inspect(conn).get_columns("promotion_redemption")}
    engine.dispose()
    # The copies are gone; what each promotion saved stays.
    assert "lines" not in columns
    assert kept["ORD-20261120-AAAAAA"] == [{k: v for k, v in d.items() if k != "lines"} for d in single]
    assert kept["ORD-20261120-BBBBBB"] == [{k: v for k, v in d.items() if k != "lines"} for d in combined]
    assert kept["ORD-20261120-CCCCCC"] == []

    # Read back from the rows: one promotion on the lines, exactly what it had.
    read = promotion_rules.order_discounts(kept["ORD-20261120-AAAAAA"], rows["ORD-20261120-AAAAAA"])
    assert [d["lines"] for d in read] == [single[0]["lines"], []]
    # Two that combined: each one's shares add up to what it saved, each line's to its discount.
    read = promotion_rules.order_discounts(kept["ORD-20261120-BBBBBB"], rows["ORD-20261120-BBBBBB"])
    assert [sum(Decimal(x["amount"]) for x in d["lines"]) for d in read] == [Decimal("7.50"), Decimal("5.00")]
    per_line = {p: sum(Decimal(x["amount"]) for d in read for x in d["lines"] if x["position"] == p) for p in (1, 2)}
    assert per_line == {1: Decimal("11.00"), 2: Decimal("1.50")}

    # Down again: `lines` written back from the rows, as reads answer them.
    command.downgrade(alembic_config(MIGRATIONS, async_url), "orders_0018")
    engine = sa.create_engine(empty_database)
    with engine.connect() as conn:
        restored = {number: _json(d) for number, d in conn.execute(sa.text(
            "SELECT order_number, discounts FROM customer_order")).all()}
        redeemed = conn.execute(sa.text("SELECT r.lines FROM promotion_redemption r JOIN customer_order o "
                                        "ON o.id = r.order_id WHERE o.order_number = 'ORD-20261120-AAAAAA' "
                                        "AND r.free_shipping = :no"), {"no": False}).all()
    engine.dispose()
    assert restored["ORD-20261120-AAAAAA"] == single
    assert [_json(lines) for (lines,) in redeemed] == [single[0]["lines"]]
