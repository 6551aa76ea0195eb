"""Each line's discount is kept once, on its row: the JSON copies of it go

Revision ID: orders_0019
Revises: orders_0018
Create Date: 2026-11-29 05:00

Since orders_0017 each order line keeps its own discount (`order_item.discount_amount`, filled then
from `customer_order.discounts[].lines`). The per-position copies are removed: `lines` is stripped
from each entry of `customer_order.discounts` (the rest of each entry stays: what each promotion
saved), and `promotion_redemption.lines` is dropped. Reads answer `discounts[].lines` from the
rows (`promotions.rules.order_discounts`). The downgrade writes both back from the rows the same way.
"""
import json
import sqlite3
import uuid
from collections.abc import Iterator, Sequence
from decimal import ROUND_DOWN, Decimal
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql
from atelier_orders.promotions import rules as promotion_rules
from atelier_common.db import on_sqlite

revision: str = "orders_0019"
down_revision: str | None = "orders_0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CENT = Decimal("0.01")
PAGE = 500


def _json() -> sa.types.TypeEngine:
    return sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def _entries(value: Any) -> list[dict[str, Any]]:
    """A `discounts` value as the driver gives it (SQLite: its text)."""
    return list(json.loads(value) if isinstance(value, str) else value or ())


def _orders_with_discounts(conn: sa.Connection, where: str) -> Iterator[Sequence[Any]]:
    """The orders matching `where`, a page at a time by id (the id compared as the database gave it)."""
    last = None
    while True:
        after = "" if last is None else "id > :last AND "
        page = conn.execute(sa.text(f"SELECT id, discounts FROM customer_order WHERE {after}{where} "
                                    f"ORDER BY id LIMIT {PAGE}"), {"last": last}).all()
        if not page:
            return
        last = page[-1][0]
        yield page


def upgrade() -> None:
    conn = op.get_bind()
    write = sa.text("UPDATE customer_order SET discounts = :discounts WHERE id = :id").bindparams(
        sa.bindparam("discounts", type_=_json()))
    # Only the orders whose JSON names `lines` are read (an entry's name may, harmlessly, match too).
    for page in _orders_with_discounts(conn, "CAST(discounts AS TEXT) LIKE '%\"lines\"%'"):
        updates = []
        for order_id, discounts in page:
            entries = _entries(discounts)
            if any("lines" in entry for entry in entries):
                updates.append({"id": order_id, "discounts": [
                    {k: v for k, v in entry.items() if k != "lines"} for entry in entries]})
        if updates:
            conn.execute(write, updates)
    if on_sqlite(conn) and sqlite3.sqlite_version_info < (3, 35):
        # An SQLite without DROP COLUMN: the table is rebuilt (it has no expression index to lose).
        with op.batch_alter_table("promotion_redemption") as batch:
            batch.drop_column("lines")
    else:
        op.drop_column("promotion_redemption", "lines")


def _allocate(amount: Decimal, weights: list[Decimal]) -> list[Decimal]:
    """`amount` in proportion to `weights`, to the cent, largest remainder first (the pricing rule)."""
    total = sum(weights, Decimal("0"))
    if amount <= 0 or total <= 0:
        return [Decimal("0")] * len(weights)
    exact = [amount * w / total for w in weights]
    shares = [e.quantize(CENT, rounding=ROUND_DOWN) for e in exact]
    left = int(((amount - sum(shares, Decimal("0"))) / CENT).to_integral_value())
    for i in sorted(range(len(weights)), key=lambda i: (-(exact[i] - shares[i]), i))[:left]:
        shares[i] += CENT
    return shares


def downgrade() -> None:
    """`lines` written back from the rows, as reads answer them (`promotions.rules.lines_of`)."""
    op.add_column("promotion_redemption", sa.Column("lines", _json(), nullable=False, server_default=sa.text("'[]'")))
    conn = op.get_bind()
    write = sa.text("UPDATE customer_order SET discounts = :discounts WHERE id = :id").bindparams(
        sa.bindparam("discounts", type_=_json()))
    redemption = sa.text("UPDATE promotion_redemption SET lines = :lines WHERE order_id = :order "
                         "AND promotion_id = :promotion").bindparams(sa.bindparam("lines", type_=_json()))
    for page in _orders_with_discounts(conn, "CAST(discounts AS TEXT) LIKE '%\"amount\"%'"):
        for order_id, discounts in page:
            entries = _entries(discounts)
            items = conn.execute(sa.text("SELECT position, sku, discount_amount FROM order_item "
                                         "WHERE order_id = :order ORDER BY position"), {"order": order_id}).all()
            remaining = [Decimal(str(discount)).quantize(CENT) for _, _, discount in items]
            for entry in entries:
                amount = min(Decimal(str(entry.get("amount") or 0)).quantize(CENT), sum(remaining, Decimal("0")))
                share = _allocate(amount, remaining)
                remaining = [left - taken for left, taken in zip(remaining, share, strict=True)]
                entry["lines"] = [{"position": position, "sku": sku, "amount": str(taken)}
                                  for (position, sku, _), taken in zip(items, share, strict=True) if taken > 0]
                if entry.get("promotion_id"):
                    # The redemption's id compared as the database stores it (SQLite: hex).
                    conn.execute(redemption, {"lines": entry["lines"], "order": order_id,
                                              "promotion": _stored_uuid(conn, entry["promotion_id"])})
            conn.execute(write, {"id": order_id, "discounts": entries})


def _stored_uuid(conn: sa.Connection, value: str) -> Any:
    parsed = uuid.UUID(str(value))
    return parsed.hex if on_sqlite(conn) else parsed
