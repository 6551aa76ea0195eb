"""Locks and writes of orders, on rows (`rows.py`): no rules, no commits. Reads that only answer
the API are in `queries.py`.

Status changes read the order with `lock` (`SELECT … FOR UPDATE`), so two changes of one order
queue up instead of both deciding from the same old status; the owner's filter is the lock's own.
"""

from __future__ import annotations

import functools
import uuid
from collections.abc import Collection, Mapping, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import bindparam, cast, delete, exists, func, insert, literal, null, or_, update
from sqlalchemy import select as sa_select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from atelier_common.columns import table_of
from atelier_common.db import Statement, insert_row, on_postgres, on_sqlite
from atelier_common.owners import lock_owner
from atelier_orders import domain
from atelier_orders.models import (
    CreditNote,
    Invoice,
    InvoiceSequence,
    Order,
    OrderItem,
    OrderOwner,
    OrderReturn,
    OrderReturnLine,
    OrderStatusHistory,
)
from atelier_orders.rows import LockedOrder, OrderDetails, OrderItemRow, StatusEntry

_ORDER = table_of(Order)
_ITEM = table_of(OrderItem)
_HISTORY = table_of(OrderStatusHistory)
_ORDER_NAMES = tuple(c.name for c in _ORDER.c)
_ITEM_NAMES = tuple(c.name for c in _ITEM.c)
_NO_GIFT: dict[str, Any] = dict.fromkeys(domain.GIFT_FIELDS)
_HISTORY_NAMES = tuple(c.name for c in _HISTORY.c)


# The lock of a status change: the order row FOR UPDATE (SQLite ignores it, having one writer),
# with whether a line ships. Unlike a join over rows that change (cart's lines), the items are
# written with the order and never change, so the subquery cannot see a stale set after the wait.
# The kinds as a list of values, not an expanding IN: `_LOCK` is a `Statement` (compiled once).
_SHIPS = exists().where(_ITEM.c.order_id == _ORDER.c.id,
                        _ITEM.c.kind.in_([literal(kind, _ITEM.c.kind.type) for kind in sorted(domain.SHIPPED_KINDS)]))
_LOCK_COLUMNS = [c for c in _ORDER.c if c.name in LockedOrder.__dataclass_fields__]
_LOCK_SELECT = (sa_select(*_LOCK_COLUMNS, _SHIPS.label("ships")).where(_ORDER.c.id == bindparam("order_id"))
                .with_for_update())
_LOCK = Statement(_LOCK_SELECT)
_LOCK_OF_OWNER = Statement(_LOCK_SELECT.where(_ORDER.c.owner_id == bindparam("owner_id")))
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


_INSERT_ORDER_AND_ENTRY = Statement(_placed_statement())


@functools.lru_cache(maxsize=32)
def _insert_items(count: int) -> Statement:
    """`count` items in one multi-row INSERT, every column given (`i<n>_<column>`) but `ships_from`
    (catalog says it later), answering the rows."""
    return Statement(insert(_ITEM).values([{column.name: bindparam(f"i{n}_{column.name}", type_=column.type)
                                            for column in _ITEM.c if column.name != "ships_from"}
                                           for n in range(count)]).returning(*_ITEM.c))
_MOVE_OWNER = Statement(update(_ORDER).where(_ORDER.c.owner_id == bindparam("anon_id")).values(
    owner_id=bindparam("new_owner"), user_id=bindparam("new_owner"), updated_at=bindparam("touched"),
    anon_reader_id=bindparam("anon_id"), claimed_at=bindparam("touched")))
_SEQUENCE = table_of(InvoiceSequence)


def _next_number(insert_of: Any) -> Any:
    """The next number of a storefront's sequence of one kind of document, in one statement:
    the counter row is created at 1 or incremented, and stays locked (like `SELECT … FOR UPDATE`)
    until the transaction ends, so concurrent issues queue and a rolled-back one gives its number back."""
    return (insert_of(_SEQUENCE).values(storefront=bindparam("storefront"), kind=bindparam("kind"), last_number=1)
            .on_conflict_do_update(index_elements=["storefront", "kind"],
                                   set_={"last_number": _SEQUENCE.c.last_number + 1})
            .returning(_SEQUENCE.c.last_number))


_NEXT_NUMBER = Statement(_next_number(pg_insert), sqlite=_next_number(sqlite_insert))
_INSERT_INVOICE = insert_row(table_of(Invoice))
_INSERT_CREDIT_NOTE = insert(table_of(CreditNote))
_FORGET_READERS = (update(_ORDER).where(_ORDER.c.id.in_(
    sa_select(_ORDER.c.id).where(_ORDER.c.claimed_at < bindparam("before")).limit(bindparam("limit"))))
    .values(anon_reader_id=None, claimed_at=None).returning(_ORDER.c.id))


class OrderRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def lock(self, order_id: uuid.UUID, *, owner_id: uuid.UUID | None = None) -> LockedOrder | None:
        """The order's status columns, its row locked until the transaction ends; None if
        `owner_id` may not see it. Neither items nor history: a change only appends to the history,
        and an answer that shows the order reads it again (`_shared.reload`)."""
        if owner_id is None:
            rows = await _LOCK.rows(self.session, {"order_id": order_id})
        else:
            rows = await _LOCK_OF_OWNER.rows(self.session, {"order_id": order_id, "owner_id": owner_id})
        return LockedOrder(**dict(zip(_LOCK.keys, rows[0], strict=True))) if rows else None

    async def save_status(self, order: LockedOrder, entry: Mapping[str, Any]) -> None:
        """Write the locked order's status columns back, with one history entry (`entry`'s
        columns; its `created_at` is the order's `updated_at`)."""
        params = {"order_id": order.id, "new_status": order.status, "paid": order.paid_at, "shipped": order.shipped_at,
                  "delivered": order.delivered_at, "tracking": order.tracking_number, "touched": entry["created_at"]}
        if on_postgres(self.session):
            await _SAVE_STATUS_AND_HISTORY.execute(self.session, {
                **params, "from_status": entry["from_status"], "note": entry["note"], "actor": entry["actor"],
                "actor_id": entry["actor_id"]})
        else:
            await self.session.execute(_SAVE_STATUS, params)
            await self.session.execute(_INSERT_HISTORY, entry)

    async def insert_if_number_free(self, values: Mapping[str, Any],
                                    first_entry: Mapping[str, Any]) -> OrderDetails | None:
        """Insert the order `values` name (every column) with its first history entry (the
        columns of `first_entry`, which records the order's status at its `updated_at`); the order
        as written, or None, with nothing written, when its order number is already taken (the
        unique index decides)."""
        if on_sqlite(self.session):
            row = (await self.session.execute(_INSERT_ORDER_SQLITE, values)).first()
            if row is None:
                return None
            order = OrderDetails(**dict(zip(_ORDER_NAMES, row, strict=True)))
            await self.insert_history(order, first_entry)
            return order
        rows = await _INSERT_ORDER_AND_ENTRY.rows(self.session, {
            "o_anon_reader_id": None, "o_claimed_at": None,  # a new order has not been claimed
            "o_imported_from": None,  # placed here, not moved in
            "o_locale": None,  # the storefront's default language unless the placing names one
            "o_customer_group": None,  # list prices unless the placing names the buyer's group
            **{f"o_{name}": value for name, value in values.items()},
            "note": first_entry["note"], "actor": first_entry["actor"], "actor_id": first_entry["actor_id"]})
        if not rows:
            return None
        row = rows[0]
        order = OrderDetails(**dict(zip(_ORDER_NAMES, row[:len(_ORDER_NAMES)], strict=True)))
        order.status_history.append(StatusEntry(**dict(zip(_HISTORY_NAMES, row[len(_ORDER_NAMES):], strict=True))))
        return order

    async def insert_items(self, order: OrderDetails, items: Sequence[Mapping[str, Any]]) -> None:
        """Insert the order's items (one statement) and add them, as written, to `order`. A line
        that names no gift card fields (a claim's, an exchange's) has none."""
        if not items:
            return
        params = {f"i{n}_{name}": value for n, item in enumerate(items)
                  for name, value in {**_NO_GIFT, **item}.items()}
        written = [OrderItemRow(**dict(zip(_ITEM_NAMES, row, strict=True)))
                   for row in await _insert_items(len(items)).rows(self.session, params)]
        # A multi-row INSERT's RETURNING promises no order: the items' is their position.
        order.items.extend(sorted(written, key=lambda item: item.position))

    async def insert_history(self, order: OrderDetails, entry: Mapping[str, Any]) -> None:
        row = (await self.session.execute(_INSERT_HISTORY_RETURNING, entry)).one()
        order.status_history.append(StatusEntry(**dict(zip(_HISTORY_NAMES, row, strict=True))))

    async def items_of(self, order_id: uuid.UUID) -> Sequence[OrderItem]:
        stmt = select(OrderItem).where(col(OrderItem.order_id) == order_id).order_by(col(OrderItem.position))
        return (await self.session.exec(stmt)).all()

    async def set_ships_from(self, shares: Mapping[uuid.UUID, list[dict[str, Any]]]) -> None:
        for item_id, value in shares.items():
            await self.session.execute(update(_ITEM).where(_ITEM.c.id == item_id).values(ships_from=value))

    async def move_owner(self, anon_id: uuid.UUID, user_id: uuid.UUID, *, now: datetime) -> int:
        """Give every order of an anonymous id to the user who claimed it; one guarded UPDATE."""
        return await _MOVE_OWNER.execute(self.session, {"anon_id": anon_id, "new_owner": user_id, "touched": now})

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


class InvoiceRepository:
    """Invoices and credit notes: numbers, and the documents written once. Callers hold the
    order's row lock (`OrderRepository.lock`): an order's documents are decided one at a time."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def next_number(self, storefront: str, kind: str) -> int:
        """The next number of `storefront`'s `kind` documents; its counter stays locked until commit."""
        [(number,)] = await _NEXT_NUMBER.rows(self.session, {"storefront": storefront, "kind": kind})
        return int(number)

    async def insert_invoice(self, values: Mapping[str, Any]) -> None:
        """`values`: every column of the invoice."""
        await _INSERT_INVOICE.execute(self.session, dict(values))

    async def insert_credit_note(self, values: Mapping[str, Any]) -> None:
        await self.session.execute(_INSERT_CREDIT_NOTE, values)

    async def invoice_of(self, order_id: uuid.UUID) -> Invoice | None:
        """The order's original invoice (not a paid edit's supplementary one)."""
        return (await self.session.exec(select(Invoice).where(col(Invoice.order_id) == order_id,
                                                              col(Invoice.kind) == "invoice"))).first()

    async def credit_note_of_return(self, return_id: uuid.UUID) -> CreditNote | None:
        """An exchange's credit note (the lines that came back)."""
        return (await self.session.exec(select(CreditNote).where(col(CreditNote.return_id) == return_id))).first()

    async def credited_refunds(self, order_id: uuid.UUID) -> set[uuid.UUID]:
        """The refunds of the order that have their credit note already."""
        stmt = select(CreditNote.refund_id).where(col(CreditNote.order_id) == order_id)
        return {refund for refund in (await self.session.exec(stmt)).all() if refund is not None}

    async def lock_invoices_of(self, order_ids: Sequence[uuid.UUID]) -> Sequence[Invoice]:
        if not order_ids:
            return []
        stmt = select(Invoice).where(col(Invoice.order_id).in_(order_ids)).with_for_update()
        return (await self.session.exec(stmt)).all()


class ReturnRepository:
    """Returns and their lines. Callers hold the order's row lock (`OrderRepository.lock`)
    while they open, receive, reject or settle one: an order's returns are decided one at a time,
    and the status moves are guarded UPDATEs besides. Reads refresh the session's copies
    (`populate_existing`): a guarded UPDATE of this transaction may have changed the rows."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def hold(self, order_id: uuid.UUID) -> None:
        """SQLite only (its `FOR UPDATE` is ignored, and a read starts no transaction): take the
        database's one write lock now, with a write that changes nothing, so that what this
        transaction reads next is not changed by another until it commits. PostgreSQL: the
        order's row lock (`OrderRepository.lock`) does it."""
        if on_sqlite(self.session):
            await self.session.execute(update(_ORDER).where(_ORDER.c.id == order_id)
                                       .values(updated_at=_ORDER.c.updated_at))

    async def get(self, return_id: uuid.UUID) -> OrderReturn | None:
        stmt = select(OrderReturn).where(col(OrderReturn.id) == return_id).execution_options(populate_existing=True)
        return (await self.session.exec(stmt)).first()

    async def by_replacement(self, order_id: uuid.UUID) -> OrderReturn | None:
        """The claim whose replacement is the order `order_id`."""
        stmt = (select(OrderReturn).where(col(OrderReturn.replacement_order_id) == order_id)
                .execution_options(populate_existing=True))
        return (await self.session.exec(stmt)).first()

    async def of_order(self, order_id: uuid.UUID) -> Sequence[OrderReturn]:
        stmt = (select(OrderReturn).where(col(OrderReturn.order_id) == order_id)
                .order_by(col(OrderReturn.created_at), col(OrderReturn.id)).execution_options(populate_existing=True))
        return (await self.session.exec(stmt)).all()

    async def lines_of(self, return_ids: Sequence[uuid.UUID]) -> Sequence[OrderReturnLine]:
        if not return_ids:
            return []
        stmt = (select(OrderReturnLine).where(col(OrderReturnLine.return_id).in_(return_ids))
                .order_by(col(OrderReturnLine.return_id), col(OrderReturnLine.position))
                .execution_options(populate_existing=True))
        return (await self.session.exec(stmt)).all()

    async def units_by_item(self, order_id: uuid.UUID, statuses: Collection[str]) -> dict[uuid.UUID, int]:
        """The units of the order's lines in its returns of `statuses`, by order item."""
        stmt = (sa_select(OrderReturnLine.item_id, func.sum(OrderReturnLine.quantity))  # type: ignore[call-overload]  # SQLModel types the columns as their values
                .join(OrderReturn, col(OrderReturn.id) == col(OrderReturnLine.return_id))
                .where(col(OrderReturn.order_id) == order_id, col(OrderReturn.status).in_(list(statuses)))
                .group_by(OrderReturnLine.item_id))
        return {item_id: int(units) for item_id, units in (await self.session.execute(stmt)).all()}

    async def insert(self, ret: OrderReturn, lines: Sequence[OrderReturnLine]) -> None:
        self.session.add(ret)
        await self.session.flush()
        self.session.add_all(lines)
        await self.session.flush()

    async def move(self, return_id: uuid.UUID, from_statuses: Collection[str], values: Mapping[str, Any]) -> bool:
        """Set `values` on the return if it is still in one of `from_statuses` (one guarded UPDATE); whether it was."""
        stmt = (update(OrderReturn).where(col(OrderReturn.id) == return_id,
                                          col(OrderReturn.status).in_(list(from_statuses)))
                .values(**values).returning(col(OrderReturn.id)))
        return (await self.session.execute(stmt)).first() is not None

    async def record_refund(self, return_id: uuid.UUID, values: Mapping[str, Any]) -> bool:
        """Write the refund of the return once (`refund_id` still empty); whether this call did."""
        stmt = (update(OrderReturn).where(col(OrderReturn.id) == return_id, col(OrderReturn.refund_id).is_(None))
                .values(**values).returning(col(OrderReturn.id)))
        return (await self.session.execute(stmt)).first() is not None

    async def settle_line(self, line_id: uuid.UUID, *, quantity: int, restock: bool, amount: Decimal) -> None:
        await self.session.execute(update(OrderReturnLine).where(col(OrderReturnLine.id) == line_id)
                                   .values(quantity=quantity, restock=restock, amount=amount))

    async def drop_line(self, line_id: uuid.UUID) -> None:
        """A line none of whose units were received: its units may be returned again."""
        await self.session.execute(delete(OrderReturnLine).where(col(OrderReturnLine.id) == line_id))

    async def search(self, *, status: str | None, storefront: str | None, order_id: uuid.UUID | None,
                     number: str | None, limit: int, offset: int,
                     storefronts: Collection[str] | None = None) -> tuple[int, Sequence[OrderReturn]]:
        """Staff's list of every return, newest first; each filter given narrows it (`storefronts`:
        the caller's API key's scope)."""
        stmt = select(OrderReturn)
        if storefronts is not None:
            stmt = stmt.where(col(OrderReturn.storefront).in_(storefronts))
        for column, value in ((OrderReturn.status, status), (OrderReturn.storefront, storefront),
                              (OrderReturn.order_id, order_id), (OrderReturn.number, number)):
            if value is not None:
                stmt = stmt.where(col(column) == value)
        count = (await self.session.exec(select(func.count()).select_from(stmt.subquery()))).one()
        page = stmt.order_by(col(OrderReturn.created_at).desc(), col(OrderReturn.id).desc()).limit(limit).offset(offset)
        return count, (await self.session.exec(page)).all()
