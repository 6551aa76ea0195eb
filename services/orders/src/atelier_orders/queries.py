"""Reads that only answer the API (eShop's `Application/Queries`, cosmicpython's `views.py`): one
order with its items and history, the lists, staff's search, the daily report, a storefront's counts. No use case
decides on them, so they lock nothing and live apart from `repository.py`'s locks and writes.

Ownership lives in one place, `readable_statement` (and its copy in `_details_statement` for the
one-statement read): an order of another owner is simply not found (404, never 403).
"""

from __future__ import annotations

import uuid
from collections.abc import Collection, Iterable, Sequence
from dataclasses import fields
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import and_, bindparam, case, cast, func, literal_column, null, or_, union_all
from sqlalchemy import select as sa_select
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession
from sqlmodel.sql.expression import SelectOfScalar

from atelier_common.columns import table_of, utc_day
from atelier_common.counting import CountEstimates, capped_count
from atelier_common.db import Statement
from atelier_common.filters import Filters, where_given
from atelier_orders import domain
from atelier_orders.domain import Ordering
from atelier_orders.models import CreditNote, Invoice, Order, OrderItem, OrderStatusHistory
from atelier_orders.rows import OrderDetails, OrderItemRow, OrderSummaryRow, PaidOrderRow, StatusEntry

_ORDER_COLUMNS = {"created_at": Order.created_at, "total_amount": Order.total_amount}
# Staff's order search (`domain.StaffOrderFilter`'s fields); `email` is ix_customer_order_email_lower's.
_STAFF_FILTERS: Filters = {
    "email": lambda v: func.lower(col(Order.email)) == v, "number": lambda v: col(Order.order_number) == v,
    "customer": lambda v: col(Order.user_id) == v, "status": lambda v: col(Order.status) == v,
    "storefront": lambda v: col(Order.storefront) == v, "created_after": lambda v: col(Order.created_at) >= v,
    "created_before": lambda v: col(Order.created_at) < v, "storefronts": lambda v: col(Order.storefront).in_(v)}


def _document_filters(table: type[Invoice] | type[CreditNote]) -> Filters:
    """The accounting lists' filters (`domain.DocumentFilter`'s fields) on invoices or credit notes."""
    return {"issued_after": lambda v: col(table.issued_at) >= v, "issued_before": lambda v: col(table.issued_at) < v,
            "storefront": lambda v: col(table.storefront) == v,
            "storefronts": lambda v: col(table.storefront).in_(v)}


# Staff's search counts exactly up to this many orders by default (`OrdersSettings.exact_count_limit`).
EXACT_COUNT_LIMIT = 1_000
_ORDER = table_of(Order)
_ITEM = table_of(OrderItem)
_HISTORY = table_of(OrderStatusHistory)
_ORDER_NAMES = tuple(c.name for c in _ORDER.c)
_ITEM_NAMES = tuple(c.name for c in _ITEM.c)
_HISTORY_NAMES = tuple(c.name for c in _HISTORY.c)
# A list's line (`OrderSummaryRow`, in its fields' order): the order's columns, and its units summed
# beside it (ix_order_item_order_id), one statement for the page where the ORM's items took a second.
_ITEM_COUNT = (sa_select(func.coalesce(func.sum(_ITEM.c.quantity), 0)).where(_ITEM.c.order_id == _ORDER.c.id)
               .correlate(_ORDER).scalar_subquery())
_SUMMARY_COLUMNS = (*(_ORDER.c[f.name] for f in fields(OrderSummaryRow) if f.name != "item_count"),
                    _ITEM_COUNT.label("item_count"))


def _details_statement(owned: bool) -> Any:
    """The order, its items and its history in one statement: a UNION ALL of three parts, each
    row as wide as the three tables (the other parts' columns NULL), sorted part by part.

    One statement instead of three also gives the read one snapshot (readers run in autocommit).
    Items and history are not filtered by owner: when the order part is missing they are dropped.
    """
    sort_keys = {_ORDER.name: literal_column("0"), _ITEM.name: _ITEM.c.position, _HISTORY.name: _HISTORY.c.id}
    order_where = _ORDER.c.id == bindparam("order_id")
    if owned:
        # The owner's, or (to read) the order its claimed anonymous id placed (`reader`, else NULL).
        order_where &= or_(_ORDER.c.owner_id == bindparam("owner_id"),
                           _ORDER.c.anon_reader_id == bindparam("reader", type_=_ORDER.c.anon_reader_id.type))
    wheres = {_ORDER.name: order_where, _ITEM.name: _ITEM.c.order_id == bindparam("order_id"),
              _HISTORY.name: _HISTORY.c.order_id == bindparam("order_id")}
    parts = []
    for part, table in enumerate((_ORDER, _ITEM, _HISTORY)):
        columns: list[Any] = [literal_column(str(part)).label("part"), sort_keys[table.name].label("sort_key")]
        # Rows are read by position; short labels and bare NULLs after the first part keep the SQL
        # under psycopg's 4 kB limit for caching its parsing. The first part's NULLs are typed:
        # PostgreSQL matches the parts pairwise (NULL with NULL would make text), and its types
        # decide how SQLAlchemy reads every row.
        columns += [(c if other is table else cast(null(), c.type) if part == 0 else null()).label(f"c{i}")
                    for i, (other, c) in enumerate((t, c) for t in (_ORDER, _ITEM, _HISTORY) for c in t.c)]
        parts.append(sa_select(*columns).select_from(table).where(wheres[table.name]))
    compound = union_all(*parts)
    return compound.order_by(compound.selected_columns.part, compound.selected_columns.sort_key)


# Every view of an order, as `Statement`s.
_DETAILS = Statement(_details_statement(owned=False))
_DETAILS_OF_OWNER = Statement(_details_statement(owned=True))
_ITEMS_AT = 2 + len(_ORDER_NAMES)
_HISTORY_AT = _ITEMS_AT + len(_ITEM_NAMES)



class OrderQueries:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    def readable_statement(self, owner_id: uuid.UUID | None, reader: uuid.UUID | None = None) -> SelectOfScalar[Order]:
        """The orders `owner_id` may see; None means every order (staff, other services). `reader`:
        an anonymous id, which also reads the orders its claim moved to a user."""
        stmt = select(Order)
        if owner_id is not None:
            who = col(Order.owner_id) == owner_id
            stmt = stmt.where(who if reader is None else or_(who, col(Order.anon_reader_id) == reader))
        return stmt

    async def get(self, order_id: uuid.UUID, *, owner_id: uuid.UUID | None = None,
                  reader: uuid.UUID | None = None) -> OrderDetails | None:
        """The order with its items and history (one statement); None if `owner_id` (or `reader`,
        see `readable_statement`) may not see it."""
        if owner_id is None:
            rows = await _DETAILS.rows(self.session, {"order_id": order_id})
        else:
            rows = await _DETAILS_OF_OWNER.rows(self.session, {"order_id": order_id, "owner_id": owner_id,
                                                               "reader": reader})
        if not rows or rows[0][0] != 0:
            return None
        order = OrderDetails(**dict(zip(_ORDER_NAMES, rows[0][2:_ITEMS_AT], strict=True)))
        for row in rows[1:]:
            if row[0] == 1:
                order.items.append(OrderItemRow(**dict(zip(_ITEM_NAMES, row[_ITEMS_AT:_HISTORY_AT], strict=True))))
            else:
                order.status_history.append(StatusEntry(**dict(zip(_HISTORY_NAMES, row[_HISTORY_AT:], strict=True))))
        return order

    async def list(self, *, owner_id: uuid.UUID | None, status: str | None, ordering: Ordering, limit: int,
                   offset: int, reader: uuid.UUID | None = None,
                   storefront: str | None = None,
                   storefronts: Collection[str] | None = None) -> tuple[int, Sequence[OrderSummaryRow]]:
        stmt = self.readable_statement(owner_id, reader)
        if status is not None:
            stmt = stmt.where(col(Order.status) == status)
        if storefront is not None:
            stmt = stmt.where(col(Order.storefront) == storefront)
        if storefronts is not None:
            stmt = stmt.where(col(Order.storefront).in_(storefronts))
        count = (await self.session.exec(select(func.count()).select_from(stmt.subquery()))).one()
        column = col(_ORDER_COLUMNS[ordering.field])
        order_by = (column.desc(), col(Order.id).desc()) if ordering.descending else (column.asc(), col(Order.id))
        return count, await self._summaries(stmt.order_by(*order_by).limit(limit).offset(offset))

    async def storefront_of(self, order_id: uuid.UUID) -> str | None:
        """The order's storefront; None: no such order."""
        return (await self.session.execute(sa_select(_ORDER.c.storefront).where(_ORDER.c.id == order_id))).scalar()

    async def search(self, where: domain.StaffOrderFilter, *, limit: int, offset: int,
                     exact_count_limit: int = EXACT_COUNT_LIMIT, estimates: CountEstimates | None = None,
                     ) -> tuple[int, bool, Sequence[OrderSummaryRow]]:
        """Staff's search over every order, newest first (ix_customer_order_created, walked
        backwards): (count, whether it is an estimate, the page). A broad search's count is
        exact up to `exact_count_limit` orders, past it the planner's estimate, kept in
        `estimates` for the same filters."""
        stmt = where_given(select(Order), _STAFF_FILTERS, where)
        count, estimated = await capped_count(self.session, stmt, exact_count_limit, estimates=estimates,
                                              key=("staff orders", where))
        page = stmt.order_by(col(Order.created_at).desc(), col(Order.id).desc()).limit(limit).offset(offset)
        return count, estimated, await self._summaries(page)

    async def paid_since(self, after: domain.PaidCursor | None, *, settled_before: datetime, limit: int,
                         storefront: str | None, storefronts: Collection[str] | None) -> Sequence[PaidOrderRow]:
        """Orders paid before `settled_before`, past `after` in (`paid_at`, `id`) order, whatever
        their status now (ix_customer_order_paid): `limit` of them."""
        paid = col(Order.paid_at)
        stmt = select(Order).where(paid.is_not(None), paid < settled_before)
        if after is not None:
            stmt = stmt.where(or_(paid > after.paid_at, and_(paid == after.paid_at, col(Order.id) > after.order_id)))
        if storefront is not None:
            stmt = stmt.where(col(Order.storefront) == storefront)
        if storefronts is not None:
            stmt = stmt.where(col(Order.storefront).in_(storefronts))
        page = stmt.order_by(paid, col(Order.id)).limit(limit)
        rows = await self.session.execute(page.with_only_columns(*_SUMMARY_COLUMNS, _ORDER.c.paid_at))
        return [PaidOrderRow(*row) for row in rows]

    async def _summaries(self, page: SelectOfScalar[Order]) -> Sequence[OrderSummaryRow]:
        """The lines of a page of orders (`page`: which orders, in which order)."""
        rows = await self.session.execute(page.with_only_columns(*_SUMMARY_COLUMNS))
        return [OrderSummaryRow(*row) for row in rows]

    async def daily_groups(self, since: datetime) -> Sequence[domain.DayGroup]:
        """Orders placed at or after `since`, counted and summed per UTC day, storefront, currency
        and status: one statement, its rows a few per day (ix_customer_order_storefront_created)."""
        day = utc_day(_ORDER.c.created_at)
        stmt = (sa_select(day, _ORDER.c.storefront, _ORDER.c.currency, _ORDER.c.status, func.count(),
                          func.sum(_ORDER.c.total_amount))
                .where(_ORDER.c.created_at >= since)
                .group_by(day, _ORDER.c.storefront, _ORDER.c.currency, _ORDER.c.status))
        return [domain.DayGroup(day=date.fromisoformat(row[0]), storefront=row[1], currency=row[2], status=row[3],
                                orders=int(row[4]), amount=Decimal(row[5]))
                for row in (await self.session.execute(stmt)).all()]

    async def count_of_storefront(self, storefront: str, statuses: Iterable[str]) -> tuple[int, int]:
        """(every order of `storefront`, those of them in `statuses`): one statement."""
        stmt = sa_select(func.count(), func.coalesce(func.sum(case((_ORDER.c.status.in_(sorted(statuses)), 1),
                                                                   else_=0)), 0)
                         ).where(_ORDER.c.storefront == storefront)
        orders, matching = (await self.session.execute(stmt)).one()
        return int(orders), int(matching)



class InvoiceQueries:
    """An order's invoice and credit notes, for whoever may read the order: the owner's filter
    is `OrderQueries.readable_statement`'s, so another customer's invoice is simply not found."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def of_order(self, order_id: uuid.UUID, *, owner_id: uuid.UUID | None = None,
                       reader: uuid.UUID | None = None) -> Invoice | None:
        """The order's original invoice, if the caller may read the order (`owner_id`, `reader`)."""
        stmt = select(Invoice).where(col(Invoice.order_id) == order_id, col(Invoice.kind) == "invoice")
        if owner_id is not None:
            readable = OrderQueries(self.session).readable_statement(owner_id, reader).with_only_columns(
                col(Order.id))
            stmt = stmt.where(col(Invoice.order_id).in_(readable))
        return (await self.session.exec(stmt)).first()

    async def locale_of(self, order_id: uuid.UUID) -> str | None:
        """The order's language (`Order.locale`), which its documents are printed in."""
        stmt = select(col(Order.locale)).where(col(Order.id) == order_id)
        return (await self.session.exec(stmt)).first()

    async def supplementary(self, order_id: uuid.UUID) -> Sequence[Invoice]:
        """The order's supplementary invoices (its paid edits'), oldest first."""
        stmt = (select(Invoice).where(col(Invoice.order_id) == order_id, col(Invoice.kind) == "supplementary")
                .order_by(col(Invoice.issued_at), col(Invoice.number)))
        return (await self.session.exec(stmt)).all()

    async def supplementary_one(self, order_id: uuid.UUID, number: str) -> Invoice | None:
        stmt = select(Invoice).where(col(Invoice.order_id) == order_id, col(Invoice.kind) == "supplementary",
                                     col(Invoice.number) == number)
        return (await self.session.exec(stmt)).first()

    async def credit_notes(self, order_id: uuid.UUID) -> Sequence[CreditNote]:
        """The order's credit notes, oldest first (ix_credit_note_order_id)."""
        stmt = (select(CreditNote).where(col(CreditNote.order_id) == order_id)
                .order_by(col(CreditNote.issued_at), col(CreditNote.number)))
        return (await self.session.exec(stmt)).all()

    async def issued(self, where: domain.DocumentFilter, *, limit: int, offset: int) -> tuple[int, Sequence[Invoice]]:
        """Invoices issued in the window, oldest first (ix_invoice_issued): (count, the page)."""
        stmt = where_given(select(Invoice), _document_filters(Invoice), where)
        count = (await self.session.execute(stmt.with_only_columns(func.count()))).scalar_one()
        page = stmt.order_by(col(Invoice.issued_at), col(Invoice.id)).limit(limit).offset(offset)
        return int(count), (await self.session.exec(page)).all()

    async def credited(self, where: domain.DocumentFilter, *, limit: int, offset: int,
                       ) -> tuple[int, Sequence[tuple[CreditNote, str]]]:
        """Credit notes issued in the window, oldest first (ix_credit_note_issued), each with its
        invoice's number: (count, the page)."""
        stmt = where_given(select(CreditNote), _document_filters(CreditNote), where)
        count = (await self.session.execute(stmt.with_only_columns(func.count()))).scalar_one()
        page = (select(CreditNote, col(Invoice.number)).join(Invoice, col(Invoice.id) == col(CreditNote.invoice_id))
                .where(col(CreditNote.id).in_(stmt.with_only_columns(col(CreditNote.id))))
                .order_by(col(CreditNote.issued_at), col(CreditNote.id)).limit(limit).offset(offset))
        return int(count), [(note, number) for note, number in (await self.session.exec(page)).all()]

    async def credit_note(self, invoice_id: uuid.UUID, number: str) -> CreditNote | None:
        stmt = select(CreditNote).where(col(CreditNote.invoice_id) == invoice_id, col(CreditNote.number) == number)
        return (await self.session.exec(stmt)).first()
