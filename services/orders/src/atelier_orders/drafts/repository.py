"""Draft orders' reads and writes: no rules, no commits."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from atelier_orders.models import DraftOrder, DraftOrderLine


class DraftRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, draft_id: uuid.UUID, *, lock: bool = False) -> DraftOrder | None:
        """The draft; `lock`: its row held until the transaction ends (every write takes it first,
        so two staff editing or sending one draft go one after the other)."""
        statement = select(DraftOrder).where(col(DraftOrder.id) == draft_id)
        if lock:
            statement = statement.with_for_update()
        return (await self.session.exec(statement)).first()

    async def lines(self, draft_id: uuid.UUID) -> list[DraftOrderLine]:
        return list((await self.session.exec(select(DraftOrderLine).where(
            col(DraftOrderLine.draft_id) == draft_id).order_by(col(DraftOrderLine.position)))).all())

    async def search(self, *, storefront: str | None, status: str | None, limit: int, offset: int,
                     storefronts: frozenset[str] | None = None) -> tuple[int, list[tuple[DraftOrder, int]]]:
        """Newest first, each with its number of lines; only `storefronts`' when given."""
        where = [condition for condition in (
            col(DraftOrder.storefront) == storefront if storefront else None,
            col(DraftOrder.storefront).in_(sorted(storefronts)) if storefronts is not None else None,
            col(DraftOrder.status) == status if status else None) if condition is not None]
        count = (await self.session.exec(select(func.count()).select_from(DraftOrder).where(*where))).one()
        lines = (select(func.count()).select_from(DraftOrderLine)
                 .where(col(DraftOrderLine.draft_id) == col(DraftOrder.id)).scalar_subquery())
        rows = (await self.session.exec(select(DraftOrder, lines).where(*where).order_by(
            col(DraftOrder.created_at).desc(), col(DraftOrder.id).desc()).limit(limit).offset(offset))).all()
        return count, [(draft, n) for draft, n in rows]

    def add(self, *rows: DraftOrder | DraftOrderLine) -> None:
        self.session.add_all(rows)

    async def delete_line(self, line: DraftOrderLine) -> None:
        await self.session.delete(line)

    async def flush(self, rows: Sequence[DraftOrder | DraftOrderLine] = ()) -> None:
        await self.session.flush(list(rows) or None)
