"""Stock and the reservations that hold it for orders.

The statements of the checkout (`order.placed`, `order.paid`) are `Statement`s built once, and
rows come back as plain rows: see `atelier_catalog.repository.facts`.
"""

from __future__ import annotations

import functools
import uuid
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import bindparam, case, func, insert, null, update
from sqlalchemy import select as sa_select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import col, select

from atelier_catalog.domain import ReservationStatus, StockNeed
from atelier_catalog.models import (
    Product,
    ProductVariant,
    StockMovement,
    StockOrder,
    StockReservation,
)
from atelier_catalog.repository._shared import _PRODUCT, _VARIANT, SessionRepository
from atelier_catalog.repository.facts import PRODUCT_ROW, VARIANT_ROW
from atelier_common.columns import table_of, utcnow
from atelier_common.db import Statement, on_postgres, one_of, unnested

_ORDER = table_of(StockOrder)
_RESERVATION = table_of(StockReservation)
_MOVEMENT = table_of(StockMovement)


def _change_stock(table: Any, returning: Sequence[Any]) -> Any:
    # The guard re-checks the row as it is once its lock is granted, so stock never goes below zero.
    return (update(table)
            .where(table.c.id == bindparam("row"), table.c.stock_quantity + bindparam("delta") >= 0)
            .values(stock_quantity=table.c.stock_quantity + bindparam("delta"), updated_at=bindparam("now"))
            .returning(*returning))


# The row after the change, as `catalog.product_changed` reads it (`facts.PRODUCT_ROW`/`VARIANT_ROW`):
# the latest version, since the UPDATE holds its lock.
_CHANGE_STOCK = {Product: Statement(_change_stock(_PRODUCT, PRODUCT_ROW)),
                 ProductVariant: Statement(_change_stock(_VARIANT, VARIANT_ROW))}
_INSERT_MOVEMENT = insert(_MOVEMENT).values(
    id=bindparam("movement"), product_id=bindparam("product"), variant_id=bindparam("variant"),
    delta=bindparam("change"), quantity_after=bindparam("after"), reason=bindparam("why"), actor_id=None,
    created_at=bindparam("now"), location_id=bindparam("location"))
_INSERT_RESERVATION = insert(_RESERVATION).values(
    id=bindparam("reservation"), order_id=bindparam("order"), line_no=bindparam("line"),
    product_id=bindparam("product"), variant_id=bindparam("variant"), quantity=bindparam("units"),
    status=bindparam("state"), expires_at=bindparam("expires"), created_at=bindparam("now"),
    updated_at=bindparam("now"), location_id=bindparam("location"))
# The values of a held line that differ from line to line, as `ReservationRepository.hold` names
# them, with the column each goes to.
_LINE_VALUES = {"reservation": _RESERVATION.c.id, "line": _RESERVATION.c.line_no, "product": _RESERVATION.c.product_id,
                "variant": _RESERVATION.c.variant_id, "units": _RESERVATION.c.quantity, "movement": _MOVEMENT.c.id,
                "change": _MOVEMENT.c.delta, "after": _MOVEMENT.c.quantity_after,
                "location": _RESERVATION.c.location_id}


def _hold_lines() -> Any:
    """PostgreSQL: every line's reservation row and stock movement in one statement, the same SQL
    whatever the number of lines (a `Statement`): each of `_LINE_VALUES` an array with an element
    per line, read back as rows by `unnest`. SQLite has no INSERT in WITH: two executemanys there."""
    line = unnested("line", {name: (name, column.type) for name, column in _LINE_VALUES.items()})

    def same(name: str, column: Any) -> Any:  # a value every line shares
        return bindparam(name, type_=column.type)

    now = same("now", _RESERVATION.c.created_at)
    moved = insert(_MOVEMENT).from_select(
        ["id", "product_id", "variant_id", "delta", "quantity_after", "reason", "actor_id", "created_at",
         "location_id"],
        sa_select(line.c.movement, line.c.product, line.c.variant, line.c.change, line.c.after,
                  same("why", _MOVEMENT.c.reason), null(), now, line.c.location))
    return insert(_RESERVATION).from_select(
        ["id", "order_id", "line_no", "product_id", "variant_id", "quantity", "status", "expires_at", "created_at",
         "updated_at", "location_id"],
        sa_select(line.c.reservation, same("order", _RESERVATION.c.order_id), line.c.line, line.c.product,
                  line.c.variant, line.c.units, same("state", _RESERVATION.c.status),
                  same("expires", _RESERVATION.c.expires_at), now, now, line.c.location)).add_cte(moved.cte("moved"))


_HOLD_LINES = Statement(_hold_lines())


def _move(postgres: bool, *, expired: bool) -> Any:
    """`ReservationRepository.move`'s guarded UPDATE; `expired`: of rows past `expired_before` only."""
    stmt = (update(_RESERVATION)
            .where(_RESERVATION.c.order_id == bindparam("order"),
                   one_of(_RESERVATION.c.status, "from_statuses", postgres=postgres))
            .values(status=bindparam("to_status"), updated_at=bindparam("now"))
            .returning(_RESERVATION.c.id, _RESERVATION.c.product_id, _RESERVATION.c.variant_id,
                       _RESERVATION.c.quantity, _RESERVATION.c.location_id))
    return stmt.where(_RESERVATION.c.expires_at < bindparam("expired_before")) if expired else stmt


# `_MOVE` runs twice at every `order.paid`, `_MOVE_EXPIRED` in the expiry sweep; `MovedReservation`
# is their row.
_MOVE = Statement(_move(True, expired=False), sqlite=_move(False, expired=False))
_MOVE_EXPIRED = Statement(_move(True, expired=True), sqlite=_move(False, expired=True))


@dataclass(frozen=True)
class Movement:
    """A `stock_movement` row to insert (staff adjustments keep the ORM object)."""

    product_id: uuid.UUID
    variant_id: uuid.UUID | None
    delta: int
    quantity_after: int
    reason: str
    created_at: datetime
    location_id: uuid.UUID | None = None


def _movement_params(movement: Movement) -> dict[str, Any]:
    return {"movement": uuid.uuid4(), "product": movement.product_id, "variant": movement.variant_id,
            "change": movement.delta, "after": movement.quantity_after, "why": movement.reason,
            "now": movement.created_at, "location": movement.location_id}


class MovedReservation(NamedTuple):
    """A reservation row `ReservationRepository.move` changed."""

    id: uuid.UUID
    product_id: uuid.UUID
    variant_id: uuid.UUID | None
    quantity: int
    location_id: uuid.UUID | None


class LockedStockOrder(NamedTuple):
    """An order's `stock_order` row as `ReservationRepository.lock_order` left it."""

    order_id: uuid.UUID
    paid_at: datetime | None
    paid_by: uuid.UUID | None
    cancelled_at: datetime | None
    # Where the order ships, as `order.placed` said (its stock locations); None before it came.
    storefront: str | None
    ship_country: str | None


@functools.cache
def _lock_order_statement(paid: bool, cancelled: bool, placed: bool) -> Statement:
    """`ReservationRepository.lock_order`'s upsert, built once per kind."""
    return Statement(_lock_order_upsert(True, paid, cancelled, placed),
                     sqlite=_lock_order_upsert(False, paid, cancelled, placed))


def _lock_order_upsert(postgres: bool, paid: bool, cancelled: bool, placed: bool) -> Any:
    now = bindparam("now", type_=_ORDER.c.updated_at.type)
    values: dict[str, Any] = {"order_id": bindparam("order"), "created_at": now, "updated_at": now}
    changes: dict[str, Any] = {"updated_at": now}
    if placed:
        where = {"storefront": bindparam("storefront", type_=_ORDER.c.storefront.type),
                 "ship_country": bindparam("country", type_=_ORDER.c.ship_country.type)}
        values |= where
        changes |= where
    if paid:
        payer = bindparam("payer", type_=_ORDER.c.paid_by.type)
        values |= {"paid_at": now, "paid_by": payer}
        changes |= {"paid_at": func.coalesce(_ORDER.c.paid_at, now), "paid_by": func.coalesce(_ORDER.c.paid_by, payer)}
    if cancelled:
        values["cancelled_at"] = now
        changes["cancelled_at"] = func.coalesce(_ORDER.c.cancelled_at, now)
    insert_ = pg_insert if postgres else sqlite_insert
    return (insert_(_ORDER).values(**values)
            .on_conflict_do_update(index_elements=["order_id"], set_=changes)
            .returning(_ORDER.c.order_id, _ORDER.c.paid_at, _ORDER.c.paid_by, _ORDER.c.cancelled_at,
                       _ORDER.c.storefront, _ORDER.c.ship_country))


@dataclass(frozen=True)
class LowStockRow:
    product_id: uuid.UUID
    variant_id: uuid.UUID | None
    name: str
    variant_name: str | None
    sku: str
    kind: str
    storefronts_key: str
    stock_quantity: int


class StockRows(SessionRepository):
    """Stock counts of products and variants, changed only by guarded UPDATEs."""

    async def change_stock(self, model: type[Product] | type[ProductVariant], row_id: uuid.UUID,
                           delta: int) -> Mapping[str, Any] | None:
        """Add `delta` (may be negative) in one guarded UPDATE; the row after it (`facts.PRODUCT_ROW`
        or `VARIANT_ROW`), or None when it would go below zero. Concurrent decrements queue on the
        row lock and re-check the guard, so stock can never be oversold."""
        change = _CHANGE_STOCK[model]
        rows = await change.rows(self.session, {"row": row_id, "delta": delta, "now": utcnow()})
        return dict(zip(change.keys, rows[0], strict=True)) if rows else None

    async def add_stock(self, model: type[Product] | type[ProductVariant], row_id: uuid.UUID,
                        delta: int) -> int | None:
        """`change_stock`: the new quantity, or None when it would go below zero."""
        row = await self.change_stock(model, row_id, delta)
        return None if row is None else int(row["stock_quantity"])

    async def stock_of(self, model: type[Product] | type[ProductVariant], row_id: uuid.UUID) -> int:
        stmt = sa_select(col(model.stock_quantity)).where(col(model.id) == row_id)
        return (await self.session.execute(stmt)).scalar_one()

    async def low_stock(self, threshold: int, *, limit: int) -> list[LowStockRow]:
        """Active products and variants counting stock with at most `threshold` left, lowest
        first, at most `limit` of each: the caller keeps those a storefront offers."""
        products = (sa_select(_PRODUCT.c.id, _PRODUCT.c.name, _PRODUCT.c.sku, _PRODUCT.c.kind,
                              _PRODUCT.c.storefronts_key, _PRODUCT.c.stock_quantity)
                    .where(_PRODUCT.c.track_inventory.is_(True), _PRODUCT.c.is_active.is_(True),
                           _PRODUCT.c.stock_quantity <= threshold)
                    .order_by(_PRODUCT.c.stock_quantity, _PRODUCT.c.id).limit(limit))
        variants = (sa_select(_VARIANT.c.product_id, _VARIANT.c.id, _PRODUCT.c.name, _VARIANT.c.name.label("variant"),
                              _VARIANT.c.sku, _PRODUCT.c.kind, _PRODUCT.c.storefronts_key, _VARIANT.c.stock_quantity)
                    .join(_PRODUCT, _PRODUCT.c.id == _VARIANT.c.product_id)
                    .where(_PRODUCT.c.track_inventory.is_(True), _PRODUCT.c.is_active.is_(True),
                           _VARIANT.c.is_active.is_(True), _VARIANT.c.stock_quantity <= threshold)
                    .order_by(_VARIANT.c.stock_quantity, _VARIANT.c.id).limit(limit))
        rows = [LowStockRow(r.id, None, r.name, None, r.sku, r.kind, r.storefronts_key, r.stock_quantity)
                for r in await self.session.execute(products)]
        rows += [LowStockRow(r.product_id, r.id, r.name, r.variant, r.sku, r.kind, r.storefronts_key, r.stock_quantity)
                 for r in await self.session.execute(variants)]
        return sorted(rows, key=lambda row: (row.stock_quantity, row.name))

    def add_movement(self, movement: StockMovement) -> None:
        self.session.add(movement)

    async def insert_movements(self, movements: Sequence[Movement]) -> None:
        """In one statement (an executemany)."""
        if movements:
            await self.session.execute(_INSERT_MOVEMENT, [_movement_params(m) for m in movements])


class ReservationRepository(SessionRepository):
    """Reservation rows change state only through guarded UPDATEs (`WHERE status IN …`), so a
    cancel racing the expiry sweep gives the stock back once."""

    async def lock_order(self, order_id: uuid.UUID, *, paid_by: uuid.UUID | None = None,
                         cancelled: bool = False, destination: tuple[str | None, str | None] | None = None
                         ) -> LockedStockOrder:
        """Upsert the order's `stock_order` row and hold its lock to the end of the transaction:
        reserve, commit and release of one order run one after the other whatever the delivery
        order or the number of consumers. `paid_by` records the payment (the first one stays),
        `cancelled` the cancellation, `destination` the (storefront, country) the order ships to
        (its placement: an edit adding units takes from the same locations). The row after the
        change, the latest committed one: an upsert waits for a concurrent holder."""
        stmt = _lock_order_statement(paid_by is not None, cancelled, destination is not None)
        params: dict[str, Any] = {"order": order_id, "now": utcnow()}
        if destination is not None:
            params["storefront"], params["country"] = destination
        if paid_by is not None:
            params["payer"] = paid_by
        [row] = await stmt.rows(self.session, params)
        return LockedStockOrder(*row)

    async def exists_for_order(self, order_id: uuid.UUID) -> bool:
        stmt = select(col(StockReservation.id)).where(col(StockReservation.order_id) == order_id).limit(1)
        return (await self.session.exec(stmt)).first() is not None

    async def hold(self, order_id: uuid.UUID, taken: Sequence[tuple[StockNeed, int, uuid.UUID | None]], *,
                   status: ReservationStatus, expires_at: datetime, reason: str, now: datetime,
                   first_line: int = 0) -> None:
        """A reservation row per line and location (numbered in `taken`'s order from `first_line`: an
        order edit's rows follow the order's) with its stock movement; each is the units taken at
        one location, the total left after them, and that location. One statement on PostgreSQL,
        two on SQLite."""
        if not taken:
            return
        shared = {"order": order_id, "state": status.value, "expires": expires_at}
        lines = [{"reservation": uuid.uuid4(), "line": first_line + line_no, "units": need.quantity,
                  **_movement_params(Movement(product_id=need.product_id, variant_id=need.variant_id,
                                              delta=-need.quantity, quantity_after=after, reason=reason,
                                              created_at=now, location_id=location))}
                 for line_no, (need, after, location) in enumerate(taken)]
        if on_postgres(self.session):
            await _HOLD_LINES.execute(self.session, {
                **shared, "why": reason, "now": now, **{name: [line[name] for line in lines] for name in _LINE_VALUES}})
        else:
            params = [shared | line for line in lines]
            await self.session.execute(_INSERT_RESERVATION, params)
            await self.session.execute(_INSERT_MOVEMENT, params)

    async def for_order(self, order_id: uuid.UUID) -> Sequence[StockReservation]:
        stmt = (select(StockReservation).where(col(StockReservation.order_id) == order_id)
                .order_by(col(StockReservation.line_no)))
        return (await self.session.exec(stmt)).all()

    async def move(self, order_id: uuid.UUID, *, from_statuses: Collection[ReservationStatus],
                   to: ReservationStatus, expired_before: datetime | None = None) -> list[MovedReservation]:
        """Move the order's rows in `from_statuses` to `to` in one guarded UPDATE; the rows that
        moved, in lock order."""
        params: dict[str, Any] = {"order": order_id, "from_statuses": [s.value for s in from_statuses],
                                  "to_status": to.value, "now": utcnow()}
        if expired_before is None:
            rows = await _MOVE.rows(self.session, params)
        else:
            rows = await _MOVE_EXPIRED.rows(self.session, params | {"expired_before": expired_before})
        moved = [MovedReservation(*row) for row in rows]
        return sorted(moved, key=lambda r: (str(r.product_id), str(r.variant_id or "")))

    async def shrink(self, reservation_id: uuid.UUID, quantity: int) -> None:
        """The row holds `quantity` fewer units (an order edit gave them back); one left with none
        is released, so that a later release or expiry gives back only what it still holds."""
        row = StockReservation.__table__.c  # type: ignore[attr-defined]  # SQLModel does not type a model's __table__
        stmt = (update(StockReservation).where(col(StockReservation.id) == reservation_id).values(
            quantity=case((row.quantity > quantity, row.quantity - quantity), else_=row.quantity),
            status=case((row.quantity > quantity, row.status), else_=ReservationStatus.RELEASED.value),
            updated_at=utcnow()).execution_options(synchronize_session=False))
        await self.session.execute(stmt)

    async def mark_returned(self, reservation_id: uuid.UUID, units: int) -> bool:
        """`units` of the row came back in a return (guarded: never more than it holds)."""
        row = _RESERVATION.c
        stmt = (update(_RESERVATION).where(row.id == reservation_id, row.quantity - row.returned >= units)
                .values(returned=row.returned + units).returning(row.id))
        return (await self.session.execute(stmt)).first() is not None

    async def set_status(self, reservation_id: uuid.UUID, status: ReservationStatus) -> None:
        stmt = (update(StockReservation).where(col(StockReservation.id) == reservation_id)
                .values(status=status.value, updated_at=utcnow()).execution_options(synchronize_session=False))
        await self.session.execute(stmt)

    async def orders_due(self, now: datetime, *, limit: int) -> list[uuid.UUID]:
        """Orders with a reservation past its deadline, oldest first."""
        stmt = (sa_select(col(StockReservation.order_id), func.min(StockReservation.expires_at))
                .where(col(StockReservation.status) == ReservationStatus.RESERVED.value,
                       col(StockReservation.expires_at) < now)
                .group_by(col(StockReservation.order_id))
                .order_by(func.min(StockReservation.expires_at)).limit(limit))
        return [row[0] for row in (await self.session.execute(stmt)).all()]

