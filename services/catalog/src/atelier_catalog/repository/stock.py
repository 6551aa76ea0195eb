"""Stock and the reservations that hold it for orders."""

from __future__ import annotations

import uuid
from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import (
    func,
    update,
)
from sqlalchemy import select as sa_select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import col, select

from atelier_catalog.domain import (
    ReservationStatus,
)
from atelier_catalog.models import (
    Product,
    ProductVariant,
    StockMovement,
    StockOrder,
    StockReservation,
)
from atelier_catalog.repository._shared import SessionRepository, is_postgres
from atelier_common.columns import utcnow


class StockRows(SessionRepository):
    """Stock counts of products and variants, changed only by guarded UPDATEs."""

    async def add_stock(self, model: type[Product] | type[ProductVariant], row_id: uuid.UUID,
                        delta: int) -> int | None:
        """Add `delta` (may be negative) in one guarded UPDATE; the new quantity, or None when it
        would go below zero. Concurrent decrements queue on the row lock and re-check the guard,
        so stock can never be oversold."""
        stmt = (update(model)
                .where(col(model.id) == row_id, col(model.stock_quantity) + delta >= 0)
                .values(stock_quantity=col(model.stock_quantity) + delta, updated_at=utcnow())
                .returning(col(model.stock_quantity))
                .execution_options(synchronize_session=False))
        return (await self.session.execute(stmt)).scalar_one_or_none()

    async def stock_of(self, model: type[Product] | type[ProductVariant], row_id: uuid.UUID) -> int:
        stmt = sa_select(col(model.stock_quantity)).where(col(model.id) == row_id)
        return (await self.session.execute(stmt)).scalar_one()

    def add_movement(self, movement: StockMovement) -> None:
        self.session.add(movement)


class ReservationRepository(SessionRepository):
    """Reservation rows change state only through guarded UPDATEs (`WHERE status IN …`), so a
    cancel racing the expiry sweep gives the stock back once."""

    async def lock_order(self, order_id: uuid.UUID, *, paid_by: uuid.UUID | None = None,
                         cancelled: bool = False) -> Any:
        """Upsert the order's `stock_order` row and hold its lock to the end of the transaction:
        reserve, commit and release of one order run one after the other whatever the delivery
        order or the number of consumers. `paid_by` records the payment (the first one stays),
        `cancelled` the cancellation. The row after the change (order_id, paid_at, paid_by,
        cancelled_at), the latest committed one: an upsert waits for a concurrent holder."""
        now = utcnow()
        insert = pg_insert if is_postgres(self.session) else sqlite_insert
        values: dict[str, Any] = {"order_id": order_id, "created_at": now, "updated_at": now}
        table = StockOrder.__table__  # type: ignore[attr-defined]  # SQLModel does not type __table__
        changes: dict[str, Any] = {"updated_at": now}
        if paid_by is not None:
            values |= {"paid_at": now, "paid_by": paid_by}
            changes |= {"paid_at": func.coalesce(table.c.paid_at, now),
                        "paid_by": func.coalesce(table.c.paid_by, paid_by)}
        if cancelled:
            values["cancelled_at"] = now
            changes["cancelled_at"] = func.coalesce(table.c.cancelled_at, now)
        stmt = (insert(StockOrder).values(**values)
                .on_conflict_do_update(index_elements=["order_id"], set_=changes)
                .returning(col(StockOrder.order_id), col(StockOrder.paid_at), col(StockOrder.paid_by),
                           col(StockOrder.cancelled_at)))
        return (await self.session.execute(stmt)).one()

    async def exists_for_order(self, order_id: uuid.UUID) -> bool:
        stmt = select(col(StockReservation.id)).where(col(StockReservation.order_id) == order_id).limit(1)
        return (await self.session.exec(stmt)).first() is not None

    def add(self, reservation: StockReservation) -> None:
        self.session.add(reservation)

    async def for_order(self, order_id: uuid.UUID) -> Sequence[StockReservation]:
        stmt = (select(StockReservation).where(col(StockReservation.order_id) == order_id)
                .order_by(col(StockReservation.line_no)))
        return (await self.session.exec(stmt)).all()

    async def move(self, order_id: uuid.UUID, *, from_statuses: Collection[ReservationStatus],
                   to: ReservationStatus, expired_before: datetime | None = None) -> list[Any]:
        """Move the order's rows in `from_statuses` to `to` in one guarded UPDATE; the rows that
        moved (id, product_id, variant_id, quantity), in lock order."""
        stmt = (update(StockReservation)
                .where(col(StockReservation.order_id) == order_id,
                       col(StockReservation.status).in_([s.value for s in from_statuses]))
                .values(status=to.value, updated_at=utcnow())
                .returning(col(StockReservation.id), col(StockReservation.product_id),
                           col(StockReservation.variant_id), col(StockReservation.quantity))
                .execution_options(synchronize_session=False))
        if expired_before is not None:
            stmt = stmt.where(col(StockReservation.expires_at) < expired_before)
        rows = list((await self.session.execute(stmt)).all())
        return sorted(rows, key=lambda r: (str(r.product_id), str(r.variant_id or "")))

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

