"""Promotions' reads and writes (#56): no rules, no commits.

`take_use` is the race's answer: one guarded UPDATE raises a promotion's `uses` only while it is
below its `usage_limit`, and holds the promotion's row lock until the placing transaction ends,
so that the per-customer count read after it (`customer_uses`) sees every other redemption of
that promotion already committed, and none can be added meanwhile.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from typing import NamedTuple

from sqlalchemy import ColumnElement, bindparam, func, or_, update
from sqlalchemy import select as sa_select
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from atelier_common.columns import table_of
from atelier_common.db import Statement
from atelier_orders.models import Promotion, PromotionRedemption


class LivePromotion(NamedTuple):
    """What pricing reads of a live promotion (`live_of`: read at every placement, so plain rows)."""

    id: uuid.UUID
    name: str
    kind: str
    value: Decimal
    product_ids: list[str]
    category_ids: list[str]
    code: str | None
    min_subtotal: Decimal | None
    starts_at: datetime | None
    ends_at: datetime | None
    is_active: bool
    combinable: bool
    usage_limit: int | None
    uses: int
    usage_limit_per_customer: int | None


def _live_statement(with_code: bool) -> Statement:
    """The storefront's automatic promotions live at `now`, and (`with_code`) the one of `code_key`."""
    promotion = table_of(Promotion).c
    which: ColumnElement[bool] = promotion.code_key.is_(None)
    if with_code:
        which = or_(which, promotion.code_key == bindparam("code_key"))
    now = bindparam("now", type_=promotion.starts_at.type)
    return Statement(sa_select(*(promotion[name] for name in LivePromotion._fields)).where(
        promotion.storefront == bindparam("storefront"), promotion.is_active.is_(True), which,
        or_(promotion.starts_at.is_(None), promotion.starts_at <= now),
        or_(promotion.ends_at.is_(None), promotion.ends_at > now)))


_LIVE = {False: _live_statement(False), True: _live_statement(True)}
_REDEMPTION = table_of(PromotionRedemption).c
_MOVE_REDEMPTIONS = Statement(update(table_of(PromotionRedemption)).where(_REDEMPTION.owner_id == bindparam("anon_id"))
                              .values(owner_id=bindparam("user_id"), user_id=bindparam("user_id")))


class PromotionRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, promotion_id: uuid.UUID) -> Promotion | None:
        return await self.session.get(Promotion, promotion_id)

    async def lock(self, promotion_id: uuid.UUID) -> Promotion | None:
        result = await self.session.exec(select(Promotion).where(Promotion.id == promotion_id).with_for_update())
        return result.first()

    async def search(self, *, storefront: str | None, active: bool | None, code: str | None, limit: int,
                     offset: int) -> tuple[int, Sequence[Promotion]]:
        where = []
        if storefront is not None:
            where.append(col(Promotion.storefront) == storefront)
        if active is not None:
            where.append(col(Promotion.is_active) == active)
        if code:
            where.append(col(Promotion.code_key) == code.strip().lower())
        count = (await self.session.exec(select(func.count()).select_from(Promotion).where(*where))).one()
        rows = (await self.session.exec(select(Promotion).where(*where).order_by(
            col(Promotion.created_at).desc(), col(Promotion.id)).limit(limit).offset(offset))).all()
        return count, rows

    async def code_taken(self, storefront: str, key: str, *, except_id: uuid.UUID | None = None) -> bool:
        query = select(Promotion.id).where(Promotion.storefront == storefront, Promotion.code_key == key)
        if except_id is not None:
            query = query.where(Promotion.id != except_id)
        return (await self.session.exec(query)).first() is not None

    async def live_of(self, storefront: str, now: datetime, code_key: str | None) -> list[LivePromotion]:
        """The storefront's active promotions within their dates: automatic ones, and the one of
        `code_key` (when given)."""
        rows = await _LIVE[code_key is not None].rows(
            self.session, {"storefront": storefront, "now": now, "code_key": code_key})
        return [LivePromotion(*row) for row in rows]

    async def take_use(self, promotion_id: uuid.UUID, now: datetime) -> int | None:
        """One more use, unless it is used up (or deactivated meanwhile); locks the row. Its uses
        now (None: none taken)."""
        result = await self.session.execute(
            update(Promotion).where(
                col(Promotion.id) == promotion_id, col(Promotion.is_active).is_(True),
                or_(col(Promotion.usage_limit).is_(None), col(Promotion.uses) < col(Promotion.usage_limit)))
            .values(uses=Promotion.uses + 1).returning(col(Promotion.uses)))
        row = result.first()
        return None if row is None else int(row[0])

    async def customer_uses(self, promotion_ids: Sequence[uuid.UUID], *, owner_id: uuid.UUID,
                            user_id: uuid.UUID | None, email_key: str | None) -> dict[uuid.UUID, int]:
        """Redemptions not released, per promotion, by this owner, user or email."""
        if not promotion_ids:
            return {}
        who = [col(PromotionRedemption.owner_id) == owner_id]
        if user_id is not None:
            who.append(col(PromotionRedemption.user_id) == user_id)
        if email_key is not None:
            who.append(col(PromotionRedemption.email_key) == email_key)
        rows = (await self.session.exec(
            select(PromotionRedemption.promotion_id, func.count()).where(
                col(PromotionRedemption.promotion_id).in_(promotion_ids),
                col(PromotionRedemption.released_at).is_(None), or_(*who))
            .group_by(col(PromotionRedemption.promotion_id)))).all()
        return {promotion_id: count for promotion_id, count in rows}

    def add_redemption(self, redemption: PromotionRedemption) -> None:
        self.session.add(redemption)

    async def of_order(self, order_id: uuid.UUID) -> Sequence[PromotionRedemption]:
        return (await self.session.exec(select(PromotionRedemption).where(
            PromotionRedemption.order_id == order_id).order_by(col(PromotionRedemption.created_at)))).all()

    async def move_owner(self, anon_id: uuid.UUID, user_id: uuid.UUID) -> None:
        """An anonymous buyer's redemptions are the user's who claimed the identity (their limits too)."""
        await _MOVE_REDEMPTIONS.execute(self.session, {"anon_id": anon_id, "user_id": user_id})

    async def forget_emails(self, order_ids: Sequence[uuid.UUID]) -> None:
        """The erased customer's orders' redemptions keep no email (their counts stay)."""
        if order_ids:
            await self.session.execute(update(PromotionRedemption).where(
                col(PromotionRedemption.order_id).in_(order_ids)).values(email_key=None))

    async def release_order(self, order_id: uuid.UUID, now: datetime) -> int:
        """The order's redemptions released, and their uses given back; how many."""
        released = (await self.session.execute(
            update(PromotionRedemption).where(col(PromotionRedemption.order_id) == order_id,
                                              col(PromotionRedemption.released_at).is_(None))
            .values(released_at=now).returning(col(PromotionRedemption.promotion_id)))).all()
        for (promotion_id,) in released:
            await self.session.execute(update(Promotion).where(
                col(Promotion.id) == promotion_id, col(Promotion.uses) > 0).values(uses=Promotion.uses - 1))
        return len(released)
