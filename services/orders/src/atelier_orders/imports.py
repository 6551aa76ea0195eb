"""Orders moved in from another product (`atelier import`), as history.

An entry point like identity's `import_accounts`: one transaction per batch, every check before a
row is written, each order keyed by its source's primary key in `import_ref` so a second run skips
it. An imported order is written as it stood at the source (lines, totals, status, dates and its
status history) and marked `imported_from`: no event is queued (catalog reserves no stock, identity
mails nobody, payments and generation hear of no payment), and it is never payable here
(`InternalOrderRead.is_payable`), whatever its status.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

from pydantic import BaseModel, Field
from sqlalchemy import insert
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from atelier_common.columns import table_of, utcnow
from atelier_common.db import Database
from atelier_common.imports import RowOutcome, chunks, import_transaction, known_refs
from atelier_orders import domain
from atelier_orders.domain import OrderStatus
from atelier_orders.models import Order, OrderItem, OrdersImportRef, OrderStatusHistory

ORDER_MODEL = "order"
# Who wrote an imported history line: the move, not a customer, staff or a service.
IMPORT_ACTOR = "import"
# A line whose product did not move in (a book, a plan, a deleted product) keeps its snapshot under
# a stable product id of its own, so the same line imports the same way twice.
_LINE_NAMESPACE = uuid.UUID("5b8f3a52-37a1-4c1e-9d2b-6a0f4e1d3c37")


class ImportedLine(BaseModel):
    product_source_pk: str
    # The catalog product it became, if it moved in; None: the line keeps its snapshot only.
    product_id: uuid.UUID | None = None
    # A print order's book (storybook), by its source key, and the book it became.
    book_source_pk: str | None = None
    sku: str = Field(default="", max_length=100)
    name: str = Field(max_length=200)
    kind: str = "physical"
    quantity: int = Field(gt=0)
    unit_price: Decimal = Field(ge=0)
    book_id: uuid.UUID | None = None


class ImportedStatus(BaseModel):
    status: OrderStatus
    note: str = ""
    at: datetime | None = None


class ImportedOrder(BaseModel):
    source_pk: str
    owner_source_pk: str
    # The account the source user became (identity's import); None: that user was not imported.
    owner_id: uuid.UUID | None = None
    email: str | None = None
    # The source's own order number or id, kept as this order's number when free (old links, staff search).
    number: str | None = None
    status: OrderStatus
    currency: str = Field(min_length=3, max_length=3)
    subtotal: Decimal | None = None
    tax_amount: Decimal = Decimal("0")
    shipping_cost: Decimal = Decimal("0")
    discount: Decimal = Decimal("0")
    total_amount: Decimal | None = None
    shipping_address: dict[str, Any] | None = None
    billing_address: dict[str, Any] | None = None
    tracking_number: str | None = Field(default=None, max_length=100)
    paid_at: datetime | None = None
    shipped_at: datetime | None = None
    delivered_at: datetime | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None
    lines: list[ImportedLine] = []
    # Oldest first; empty: one line saying the order arrived in its status.
    history: list[ImportedStatus] = []


async def import_orders(db: Database, orders: Sequence[ImportedOrder], *, source: str, storefront: str,
                        dry_run: bool = False) -> list[RowOutcome]:
    """Write each order not imported before; `dry_run` checks everything the same way, against the
    real database, and writes nothing."""
    outcomes: list[RowOutcome] = []
    async with import_transaction(db, dry_run=dry_run) as session:
        outcomes = await _orders(session, orders, source, storefront)
    return outcomes


async def _orders(session: AsyncSession, rows: Sequence[ImportedOrder], source: str,
                  storefront: str) -> list[RowOutcome]:
    known = set(await known_refs(session, OrdersImportRef, source, ORDER_MODEL, [row.source_pk for row in rows]))
    wanted = [row.number for row in rows if row.number]
    taken: set[str] = set()
    for chunk in chunks(wanted):
        taken.update((await session.exec(select(Order.order_number).where(col(Order.order_number).in_(chunk)))).all())
    orders: list[dict[str, Any]] = []
    items: list[dict[str, Any]] = []
    history: list[dict[str, Any]] = []
    refs: list[dict[str, Any]] = []
    outcomes: list[RowOutcome] = []
    stamp = utcnow()
    for row in rows:
        if row.source_pk in known:
            outcomes.append(RowOutcome(ORDER_MODEL, row.source_pk, "skipped", "already imported"))
            continue
        refusal = _refusal(row)
        if refusal or row.owner_id is None:
            outcomes.append(RowOutcome(ORDER_MODEL, row.source_pk, "refused",
                                       refusal or f"its user {row.owner_source_pk} was not imported"))
            continue
        known.add(row.source_pk)
        order_id = uuid.uuid4()
        created = row.created_at or stamp
        number = row.number if row.number and len(row.number) <= 20 and row.number not in taken else None
        number = number or domain.new_order_number(created.date())
        taken.add(number)
        subtotal = row.subtotal if row.subtotal is not None else sum(
            (line.unit_price * line.quantity for line in row.lines), Decimal("0"))
        total = row.total_amount if row.total_amount is not None else (
            subtotal + row.tax_amount + row.shipping_cost - row.discount)
        orders.append({
            "id": order_id, "order_number": number, "owner_id": row.owner_id, "user_id": row.owner_id,
            "storefront": storefront, "email": row.email, "status": row.status.value, "currency": row.currency.upper(),
            "subtotal": subtotal, "tax_amount": row.tax_amount, "shipping_cost": row.shipping_cost,
            "discount": row.discount, "total_amount": total,
            "shipping_address": row.shipping_address, "billing_address": row.billing_address,
            "tracking_number": row.tracking_number or None, "from_cart": False,
            "paid_at": row.paid_at or (created if domain.is_paid(row.status) else None),
            "shipped_at": row.shipped_at, "delivered_at": row.delivered_at, "created_at": created,
            "updated_at": row.updated_at or created, "anon_reader_id": None, "claimed_at": None,
            "imported_from": source})
        for position, line in enumerate(row.lines):
            items.append({
                "id": uuid.uuid4(), "order_id": order_id, "position": position,
                "product_id": line.product_id or uuid.uuid5(_LINE_NAMESPACE, f"{source}:{line.product_source_pk}"),
                "variant_id": None, "sku": line.sku or line.product_source_pk[:100], "name": line.name,
                "variant_name": None, "kind": line.kind, "quantity": line.quantity, "unit_price": line.unit_price,
                "line_total": line.unit_price * line.quantity, "attributes": {}, "book_id": line.book_id,
                "content_type": None, "content_id": None})
        entries = row.history or [ImportedStatus(status=row.status, at=row.updated_at or created)]
        previous: str | None = None
        for entry in entries:
            history.append({"order_id": order_id, "from_status": previous, "to_status": entry.status.value,
                            "note": (entry.note or f"Imported from {source}")[:1000], "actor": IMPORT_ACTOR,
                            "actor_id": None, "created_at": entry.at or created})
            previous = entry.status.value
        refs.append({"source": source, "model": ORDER_MODEL, "source_pk": row.source_pk, "target_id": order_id,
                     "created_at": stamp})
        outcomes.append(RowOutcome(ORDER_MODEL, row.source_pk, "imported"))
    # Bulk statements (executemany), parents first: 100,000 orders are a few statements, not 300,000 flushes.
    for table, values in ((table_of(Order), orders), (table_of(OrderItem), items),
                          (table_of(OrderStatusHistory), history), (table_of(OrdersImportRef), refs)):
        for start in range(0, len(values), 5_000):
            await session.execute(insert(table), values[start:start + 5_000])
    return outcomes


def _refusal(row: ImportedOrder) -> str | None:
    if not row.lines:
        return "an order without lines"
    return None
