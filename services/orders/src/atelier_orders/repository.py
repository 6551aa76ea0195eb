"""Queries of the orders service, and nothing else: no rules, no commits.

Ownership lives in one method, `readable_statement`: an order of another owner is simply not
found (404, never 403). Status changes read the order with `lock` (`SELECT … FOR UPDATE`), so two
changes of one order queue up instead of both deciding from the same old status.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import func, or_, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession
from sqlmodel.sql.expression import SelectOfScalar

from atelier_common.owners import lock_owner
from atelier_orders.domain import Ordering
from atelier_orders.models import Order, OrderItem, OrderOwner, OrderStatusHistory

_ORDER_COLUMNS = {"created_at": Order.created_at, "total_amount": Order.total_amount}


class OrderRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    def readable_statement(self, owner_id: uuid.UUID | None) -> SelectOfScalar[Order]:
        """The orders `owner_id` may see; None means every order (staff, other services)."""
        stmt = select(Order)
        if owner_id is not None:
            stmt = stmt.where(col(Order.owner_id) == owner_id)
        return stmt

    @staticmethod
    def _with_details(stmt: SelectOfScalar[Order]) -> SelectOfScalar[Order]:
        # populate_existing: an order already in the session (just changed) is read afresh.
        return (stmt.options(selectinload(Order.items), selectinload(Order.status_history))  # type: ignore[arg-type]
                .execution_options(populate_existing=True))

    async def get(self, order_id: uuid.UUID, *, owner_id: uuid.UUID | None = None) -> Order | None:
        stmt = self.readable_statement(owner_id).where(col(Order.id) == order_id)
        return (await self.session.exec(self._with_details(stmt))).first()

    async def lock(self, order_id: uuid.UUID, *, owner_id: uuid.UUID | None = None) -> Order | None:
        """The order with its items, its row locked until the transaction ends (SQLite has one
        writer anyway). Not its history: a status change only appends to it, and an answer that
        shows it reads the order again (`reload`); one query fewer on every event about an order."""
        stmt = (self.readable_statement(owner_id).where(col(Order.id) == order_id).with_for_update()
                .options(selectinload(Order.items))  # type: ignore[arg-type]
                .execution_options(populate_existing=True))
        return (await self.session.exec(stmt)).first()

    async def list(self, *, owner_id: uuid.UUID | None, status: str | None, ordering: Ordering, limit: int,
                   offset: int) -> tuple[int, Sequence[Order]]:
        stmt = self.readable_statement(owner_id)
        if status is not None:
            stmt = stmt.where(col(Order.status) == status)
        count = (await self.session.exec(select(func.count()).select_from(stmt.subquery()))).one()
        column = col(_ORDER_COLUMNS[ordering.field])
        order_by = (column.desc(), col(Order.id).desc()) if ordering.descending else (column.asc(), col(Order.id))
        page = (stmt.order_by(*order_by).limit(limit).offset(offset)
                .options(selectinload(Order.items)))  # type: ignore[arg-type]
        return count, (await self.session.exec(page)).all()

    async def insert_if_number_free(self, order: Order) -> bool:
        """Insert `order`; False, with nothing written, when its order number is already taken.

        The unique index decides, inside a savepoint, so a collision costs one retry and never
        the caller's transaction.
        """
        try:
            async with self.session.begin_nested():
                self.session.add(order)
        except IntegrityError as exc:
            if "order_number" in str(exc.orig).lower():
                return False
            raise
        return True

    def add(self, *rows: OrderItem | OrderStatusHistory) -> None:
        self.session.add_all(rows)

    async def move_owner(self, anon_id: uuid.UUID, user_id: uuid.UUID, *, now: datetime) -> int:
        """Give every order of an anonymous id to the user who claimed it; one guarded UPDATE."""
        stmt = (update(Order).where(col(Order.owner_id) == anon_id)
                .values(owner_id=user_id, user_id=user_id, updated_at=now)
                .execution_options(synchronize_session=False))
        result = await self.session.execute(stmt)
        return result.rowcount or 0  # type: ignore[attr-defined]

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
