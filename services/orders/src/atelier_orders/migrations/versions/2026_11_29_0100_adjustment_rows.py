"""Each order line's discount and tax, and shipping's, as columns (the pricing core's adjustments)

Revision ID: orders_0017
Revises: orders_0016
Create Date: 2026-11-29 01:00

Orders placed before are filled from what they hold: a line's discount from the promotions frozen
on the order (`discounts[].lines`, by position); the order's tax shared among its lines of the
kinds tax was added on, in proportion to their totals, to the cent (the rule it was charged by:
tax on the undiscounted lines, none on shipping). Their totals are not touched: they keep what
they were charged.
"""
import json
from collections.abc import Sequence
from decimal import ROUND_DOWN, Decimal

import sqlalchemy as sa
from alembic import op

revision: str = "orders_0017"
down_revision: str | None = "orders_0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CENT = Decimal("0.01")
# The kinds whose price included tax when these orders were placed (contracts.catalog's, as then).
INCLUSIVE_KINDS = ("credit_pack", "retry_pack", "subscription_plan")


def _money(name: str) -> sa.Column:
    return sa.Column(name, sa.Numeric(12, 2), nullable=False, server_default=sa.text("0"))


def upgrade() -> None:
    # Plain ADD COLUMNs (each with a constant default): a batch would reflect and rebuild the tables
    # on SQLite, losing customer_order's expression index.
    op.add_column("order_item", _money("discount_amount"))
    op.add_column("order_item", sa.Column("tax_rate", sa.Numeric(7, 6), nullable=False, server_default=sa.text("0")))
    op.add_column("order_item", _money("tax_amount"))
    op.add_column("order_item", sa.Column("tax_inclusive", sa.Boolean(), nullable=False, server_default=sa.false()))
    op.add_column("customer_order", _money("tax_included"))
    op.add_column("customer_order", _money("shipping_discount"))
    op.add_column("customer_order", _money("shipping_tax"))
    op.add_column("customer_order", sa.Column("shipping_tax_inclusive", sa.Boolean(), nullable=False,
                                              server_default=sa.false()))
    _fill()


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


def _fill() -> None:
    conn = op.get_bind()
    # Typed binds: SQLite's driver takes no Decimal.
    item_update = sa.text("UPDATE order_item SET discount_amount = :discount, tax_rate = :rate, tax_amount = :tax, "
                          "tax_inclusive = :inclusive WHERE id = :id").bindparams(
        sa.bindparam("discount", type_=sa.Numeric(12, 2)), sa.bindparam("rate", type_=sa.Numeric(7, 6)),
        sa.bindparam("tax", type_=sa.Numeric(12, 2)), sa.bindparam("inclusive", type_=sa.Boolean()))
    last = None
    while True:
        # A page at a time by id (the primary key's order), the id compared as the database gave it.
        after = "" if last is None else "WHERE id > :last "
        orders = conn.execute(sa.text(
            f"SELECT id, tax_amount, tax_rate, discounts FROM customer_order {after}ORDER BY id LIMIT 500"),
            {"last": last}).all()
        if not orders:
            return
        last = orders[-1][0]
        updates = []
        for order_id, tax_amount, tax_rate, discounts in orders:
            if isinstance(discounts, str):
                discounts = json.loads(discounts)
            per_line: dict[int, Decimal] = {}
            for discount in discounts or ():
                for line in discount.get("lines") or ():
                    position = int(line["position"])
                    per_line[position] = per_line.get(position, Decimal("0")) + Decimal(str(line["amount"]))
            tax = Decimal(str(tax_amount or 0))
            if not per_line and tax <= 0 and not tax_rate:
                continue
            items = conn.execute(sa.text("SELECT id, position, kind, line_total FROM order_item "
                                         "WHERE order_id = :order ORDER BY position"), {"order": order_id}).all()
            taxed = [kind not in INCLUSIVE_KINDS for _, _, kind, _ in items]
            shares = _allocate(tax, [Decimal(str(total)) if t else Decimal("0")
                                     for (_, _, _, total), t in zip(items, taxed, strict=True)])
            for (item_id, position, _, _), share, is_taxed in zip(items, shares, taxed, strict=True):
                updates.append({"id": item_id, "discount": per_line.get(position, Decimal("0")),
                                "rate": Decimal(str(tax_rate or 0)), "tax": share, "inclusive": not is_taxed})
        if updates:
            conn.execute(item_update, updates)


def downgrade() -> None:
    with op.batch_alter_table("customer_order") as batch:
        for name in ("shipping_tax_inclusive", "shipping_tax", "shipping_discount", "tax_included"):
            batch.drop_column(name)
    with op.batch_alter_table("order_item") as batch:
        for name in ("tax_inclusive", "tax_amount", "tax_rate", "discount_amount"):
            batch.drop_column(name)
