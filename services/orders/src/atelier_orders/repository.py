"""Queries of the orders service, and nothing else: no rules, no commits.

Ownership lives in one method, `readable_statement`: an order of another owner is simply not
found (404, never 403). Status changes read the order with `lock` (`SELECT … FOR UPDATE`), so two
changes of one order queue up instead of both deciding from the same old status.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import bindparam, case, cast, exists, func, insert, literal_column, null, or_, union_all, update
from sqlalchemy import select as sa_select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import selectinload
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession
from sqlmodel.sql.expression import SelectOfScalar

from atelier_common.columns import table_of, utc_day
from atelier_common.db import Statement
from atelier_common.owners import lock_owner
from atelier_orders import domain
from atelier_orders.domain import Ordering
from atelier_orders.models import Order, OrderItem, OrderOwner, OrderStatusHistory

_ORDER_COLUMNS = {"created_at": Order.created_at, "total_amount": Order.total_amount}


# -- the hot paths' rows ---------------------------------------------------------------------------
# Placing, reading one order and the status events run on plain rows and statements built once
# (below): under load, building statements and ORM objects cost orders more CPU than PostgreSQL
# spent running them. The list, the anonymisation and staff's changes keep the ORM.

@dataclass
class OrderItemRow:
    id: uuid.UUID
    order_id: uuid.UUID
    position: int
    product_id: uuid.UUID
    variant_id: uuid.UUID | None
    sku: str
    name: str
    variant_name: str | None
    kind: str
    quantity: int
    unit_price: Decimal
    line_total: Decimal
    attributes: dict[str, Any]
    book_id: uuid.UUID | None
    content_type: str | None
    content_id: uuid.UUID | None


@dataclass
class StatusEntry:
    id: int
    order_id: uuid.UUID
    from_status: str | None
    to_status: str
    note: str
    actor: str
    actor_id: uuid.UUID | None
    created_at: datetime


@dataclass
class OrderDetails:
    """An order with its items and history, as the API shows it (`schemas.OrderRead`)."""

    id: uuid.UUID
    order_number: str
    owner_id: uuid.UUID
    user_id: uuid.UUID | None
    storefront: str
    email: str | None
    status: str
    currency: str
    subtotal: Decimal
    tax_amount: Decimal
    shipping_cost: Decimal
    discount: Decimal
    total_amount: Decimal
    shipping_address: dict[str, Any] | None
    billing_address: dict[str, Any] | None
    tracking_number: str | None
    from_cart: bool
    paid_at: datetime | None
    shipped_at: datetime | None
    delivered_at: datetime | None
    created_at: datetime
    updated_at: datetime
    anon_reader_id: uuid.UUID | None = None
    claimed_at: datetime | None = None
    imported_from: str | None = None
    items: list[OrderItemRow] = field(default_factory=list)
    status_history: list[StatusEntry] = field(default_factory=list)


@dataclass
class LockedOrder:
    """What a status change reads of the order it locked (`OrderRepository.lock`), and writes
    back (`OrderRepository.save_status`): the status columns, and what its events announce."""

    id: uuid.UUID
    order_number: str
    owner_id: uuid.UUID
    user_id: uuid.UUID | None
    storefront: str
    email: str | None
    status: str
    currency: str
    total_amount: Decimal
    tracking_number: str | None
    paid_at: datetime | None
    shipped_at: datetime | None
    delivered_at: datetime | None
    # As read under the lock: the order's version (`domain.order_version`) a staff form is checked against.
    updated_at: datetime
    # Whether a line is shipped (`domain.requires_shipping` of the items' kinds).
    ships: bool


_ORDER = table_of(Order)
_ITEM = table_of(OrderItem)
_HISTORY = table_of(OrderStatusHistory)
_ORDER_NAMES = tuple(c.name for c in _ORDER.c)
_ITEM_NAMES = tuple(c.name for c in _ITEM.c)
_HISTORY_NAMES = tuple(c.name for c in _HISTORY.c)


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


# The busiest reads and writes (every view of an order, every status change) as `Statement`s.
_DETAILS = Statement(_details_statement(owned=False))
_DETAILS_OF_OWNER = Statement(_details_statement(owned=True))
_ITEMS_AT = 2 + len(_ORDER_NAMES)
_HISTORY_AT = _ITEMS_AT + len(_ITEM_NAMES)

# The lock of a status change: the order row FOR UPDATE (SQLite ignores it, having one writer),
# with whether a line ships. Unlike a join over rows that change (cart's lines), the items are
# written with the order and never change, so the subquery cannot see a stale set after the wait.
_SHIPS = exists().where(_ITEM.c.order_id == _ORDER.c.id, _ITEM.c.kind.in_(sorted(domain.SHIPPED_KINDS)))
_LOCK_COLUMNS = [c for c in _ORDER.c if c.name in LockedOrder.__dataclass_fields__]
_LOCK = (sa_select(*_LOCK_COLUMNS, _SHIPS.label("ships")).where(_ORDER.c.id == bindparam("order_id"))
         .with_for_update())
_LOCK_OF_OWNER = _LOCK.where(_ORDER.c.owner_id == bindparam("owner_id"))
_SAVE_STATUS = (update(_ORDER).where(_ORDER.c.id == bindparam("order_id"))
                .values(status=bindparam("new_status"), paid_at=bindparam("paid"), shipped_at=bindparam("shipped"),
                        delivered_at=bindparam("delivered"), tracking_number=bindparam("tracking"),
                        updated_at=bindparam("touched")))
_INSERT_HISTORY = insert(_HISTORY)
# PostgreSQL: the two writes of a status change in one statement (the UPDATE as a data-modifying
# CTE, the history row inserted from what it returns); SQLite has no such CTE and runs both.
_SAVED = _SAVE_STATUS.returning(_ORDER.c.id).cte("saved")
_SAVE_STATUS_AND_HISTORY = Statement(insert(_HISTORY).from_select(
    ["order_id", "from_status", "to_status", "note", "actor", "actor_id", "created_at"],
    sa_select(_SAVED.c.id, *(bindparam(name, type_=_HISTORY.c[column].type) for name, column in (
        ("from_status", "from_status"), ("new_status", "to_status"), ("note", "note"), ("actor", "actor"),
        ("actor_id", "actor_id"), ("touched", "created_at"))))).add_cte(_SAVED, nest_here=True))
_INSERT_HISTORY_RETURNING = insert(_HISTORY).returning(*_HISTORY.c)
_INSERT_ITEMS = insert(_ITEM).returning(*_ITEM.c, sort_by_parameter_order=True)
# ON CONFLICT of the order number only: any other constraint still fails the request. SQLite's;
# PostgreSQL's writes the first history entry too (`_placed_statement`).
_INSERT_ORDER_SQLITE = (sqlite_insert(_ORDER).on_conflict_do_nothing(index_elements=["order_number"])
                        .returning(*_ORDER.c))


def _placed_statement() -> Any:
    """PostgreSQL: the order and its first history entry in one statement (two data-modifying
    CTEs), answering both rows; no row when the order number is taken (nothing written then)."""
    values = {c.name: bindparam(f"o_{c.name}", type_=c.type) for c in _ORDER.c}
    order = pg_insert(_ORDER).values(values).on_conflict_do_nothing(index_elements=["order_number"]).returning(
        *_ORDER.c).cte("placed")
    entry = insert(_HISTORY).from_select(
        ["order_id", "from_status", "to_status", "note", "actor", "actor_id", "created_at"],
        sa_select(order.c.id, cast(null(), _HISTORY.c.from_status.type), order.c.status,
                  bindparam("note", type_=_HISTORY.c.note.type), bindparam("actor", type_=_HISTORY.c.actor.type),
                  bindparam("actor_id", type_=_HISTORY.c.actor_id.type), order.c.updated_at),
    ).returning(*_HISTORY.c).cte("first_entry")
    return sa_select(*order.c, *entry.c).select_from(order).join(entry, entry.c.order_id == order.c.id)


_INSERT_ORDER_AND_ENTRY = _placed_statement()
_MOVE_OWNER = (update(_ORDER).where(_ORDER.c.owner_id == bindparam("anon_id"))
               .values(owner_id=bindparam("new_owner"), user_id=bindparam("new_owner"), updated_at=bindparam("touched"),
                       anon_reader_id=bindparam("anon_id"), claimed_at=bindparam("touched")))
_FORGET_READERS = (update(_ORDER).where(_ORDER.c.id.in_(
    sa_select(_ORDER.c.id).where(_ORDER.c.claimed_at < bindparam("before")).limit(bindparam("limit"))))
    .values(anon_reader_id=None, claimed_at=None).returning(_ORDER.c.id))


class OrderRepository:
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

    async def lock(self, order_id: uuid.UUID, *, owner_id: uuid.UUID | None = None) -> LockedOrder | None:
        """The order's status columns, its row locked until the transaction ends; None if
        `owner_id` may not see it. Neither items nor history: a change only appends to the history,
        and an answer that shows the order reads it again (`_shared.reload`)."""
        if owner_id is None:
            result = await self.session.execute(_LOCK, {"order_id": order_id})
        else:
            result = await self.session.execute(_LOCK_OF_OWNER, {"order_id": order_id, "owner_id": owner_id})
        row = result.mappings().first()
        return LockedOrder(**row) if row is not None else None

    async def save_status(self, order: LockedOrder, entry: Mapping[str, Any]) -> None:
        """Write the locked order's status columns back, with one history entry (`entry`'s
        columns; its `created_at` is the order's `updated_at`)."""
        params = {"order_id": order.id, "new_status": order.status, "paid": order.paid_at, "shipped": order.shipped_at,
                  "delivered": order.delivered_at, "tracking": order.tracking_number, "touched": entry["created_at"]}
        if self.session.bind is not None and self.session.bind.dialect.name == "postgresql":
            await _SAVE_STATUS_AND_HISTORY.execute(self.session, {
                **params, "from_status": entry["from_status"], "note": entry["note"], "actor": entry["actor"],
                "actor_id": entry["actor_id"]})
        else:
            await self.session.execute(_SAVE_STATUS, params)
            await self.session.execute(_INSERT_HISTORY, entry)

    async def list(self, *, owner_id: uuid.UUID | None, status: str | None, ordering: Ordering, limit: int,
                   offset: int, reader: uuid.UUID | None = None,
                   storefront: str | None = None) -> tuple[int, Sequence[Order]]:
        stmt = self.readable_statement(owner_id, reader)
        if status is not None:
            stmt = stmt.where(col(Order.status) == status)
        if storefront is not None:
            stmt = stmt.where(col(Order.storefront) == storefront)
        count = (await self.session.exec(select(func.count()).select_from(stmt.subquery()))).one()
        column = col(_ORDER_COLUMNS[ordering.field])
        order_by = (column.desc(), col(Order.id).desc()) if ordering.descending else (column.asc(), col(Order.id))
        page = (stmt.order_by(*order_by).limit(limit).offset(offset)
                .options(selectinload(Order.items)))  # type: ignore[arg-type]  # SQLModel types a relationship as its model, not as the attribute loaders take
        return count, (await self.session.exec(page)).all()

    async def search(self, where: domain.StaffOrderFilter, *, limit: int,
                     offset: int) -> tuple[int, Sequence[Order]]:
        """Staff's search over every order (#36), newest first."""
        stmt = select(Order)
        if where.email is not None:  # ix_customer_order_email_lower
            stmt = stmt.where(func.lower(col(Order.email)) == where.email)
        if where.number is not None:
            stmt = stmt.where(col(Order.order_number) == where.number)
        if where.customer is not None:
            stmt = stmt.where(col(Order.user_id) == where.customer)
        if where.status is not None:
            stmt = stmt.where(col(Order.status) == where.status)
        if where.storefront is not None:
            stmt = stmt.where(col(Order.storefront) == where.storefront)
        if where.created_after is not None:
            stmt = stmt.where(col(Order.created_at) >= where.created_after)
        if where.created_before is not None:
            stmt = stmt.where(col(Order.created_at) < where.created_before)
        count = (await self.session.exec(select(func.count()).select_from(stmt.subquery()))).one()
        page = (stmt.order_by(col(Order.created_at).desc(), col(Order.id).desc()).limit(limit).offset(offset)
                .options(selectinload(Order.items)))  # type: ignore[arg-type]  # as in `list`
        return count, (await self.session.exec(page)).all()

    async def daily_groups(self, since: datetime) -> Sequence[domain.DayGroup]:
        """Orders placed at or after `since`, counted and summed per UTC day, storefront, currency
        and status (#53): one statement, its rows a few per day (ix_customer_order_storefront_created)."""
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

    async def insert_if_number_free(self, values: Mapping[str, Any],
                                    first_entry: Mapping[str, Any]) -> OrderDetails | None:
        """Insert the order `values` name (every column) with its first history entry (the
        columns of `first_entry`, which records the order's status at its `updated_at`); the order
        as written, or None, with nothing written, when its order number is already taken (the
        unique index decides)."""
        if self.session.bind is not None and self.session.bind.dialect.name == "sqlite":
            row = (await self.session.execute(_INSERT_ORDER_SQLITE, values)).first()
            if row is None:
                return None
            order = OrderDetails(**dict(zip(_ORDER_NAMES, row, strict=True)))
            await self.insert_history(order, first_entry)
            return order
        row = (await self.session.execute(_INSERT_ORDER_AND_ENTRY, {
            "o_anon_reader_id": None, "o_claimed_at": None,  # a new order has not been claimed
            "o_imported_from": None,  # placed here, not moved in
            **{f"o_{name}": value for name, value in values.items()},
            "note": first_entry["note"], "actor": first_entry["actor"], "actor_id": first_entry["actor_id"]})).first()
        if row is None:
            return None
        order = OrderDetails(**dict(zip(_ORDER_NAMES, row[:len(_ORDER_NAMES)], strict=True)))
        order.status_history.append(StatusEntry(**dict(zip(_HISTORY_NAMES, row[len(_ORDER_NAMES):], strict=True))))
        return order

    async def insert_items(self, order: OrderDetails, items: Sequence[Mapping[str, Any]]) -> None:
        """Insert the order's items (one statement) and add them, as written, to `order`."""
        rows = (await self.session.execute(_INSERT_ITEMS, list(items))).all()
        order.items.extend(OrderItemRow(**dict(zip(_ITEM_NAMES, row, strict=True))) for row in rows)

    async def insert_history(self, order: OrderDetails, entry: Mapping[str, Any]) -> None:
        row = (await self.session.execute(_INSERT_HISTORY_RETURNING, entry)).one()
        order.status_history.append(StatusEntry(**dict(zip(_HISTORY_NAMES, row, strict=True))))

    async def move_owner(self, anon_id: uuid.UUID, user_id: uuid.UUID, *, now: datetime) -> int:
        """Give every order of an anonymous id to the user who claimed it; one guarded UPDATE."""
        result = await self.session.execute(_MOVE_OWNER, {"anon_id": anon_id, "new_owner": user_id, "touched": now})
        return result.rowcount or 0  # type: ignore[attr-defined]  # an UPDATE's result is a CursorResult; AsyncSession.execute types it as Result

    async def forget_readers(self, claimed_before: datetime, limit: int) -> int:
        """Clear the anonymous reader of up to `limit` orders claimed before `claimed_before`
        (their anonymous tokens have expired): how many."""
        return len((await self.session.execute(_FORGET_READERS, {"before": claimed_before, "limit": limit})).all())

    async def lock_all_of_user(self, user_id: uuid.UUID) -> Sequence[Order]:
        stmt = (select(Order).where(or_(col(Order.user_id) == user_id, col(Order.owner_id) == user_id))
                .with_for_update())
        return (await self.session.exec(stmt)).all()


class OwnerRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def lock(self, owner_id: uuid.UUID, *, erased: bool = False) -> datetime | None:
        """Lock the user's `order_owner` row until commit, recording an erasure; when the user was
        erased, if they were."""
        return (await lock_owner(self.session, OrderOwner, owner_id, erased=erased)).erased_at
