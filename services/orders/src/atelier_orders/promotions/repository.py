"""Promotions' reads and writes: no rules, no commits.

Every read answers the one read shape of a promotion, `promotions.rules.PromotionTerms` (`terms_of`):
the live promotions a basket is priced with (`live_of`, read at every placement and quote, so a
statement built once and plain rows), one promotion (`read`) and staff's search. Staff's writes
go through the table (`Promotion`).

`live_sql` is when a promotion runs (`PromotionTerms.live`) in SQL, the one place orders' statements
take it from.

`take_use` is the race's answer: one guarded UPDATE raises a promotion's `uses` only while it is
below its `usage_limit`, and holds the promotion's row lock until the placing transaction ends,
so that the per-customer count read after it (`customer_uses`, a statement of its own: on
PostgreSQL it sees what committed before the lock was granted) sees every other redemption of
that promotion already committed, and none can be added meanwhile.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import fields
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, bindparam, func, or_, update
from sqlalchemy import select as sa_select
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from atelier_common.columns import table_of
from atelier_common.db import Statement, dialect_insert
from atelier_orders.models import OrdersCustomerGroup, Promotion, PromotionRedemption
from atelier_orders.promotions.rules import PromotionKind, PromotionTerms, code_key

_PROMOTION = table_of(Promotion).c
# The read shape's fields, each a column of `promotion`, in its order.
_SHAPE = tuple(f.name for f in fields(PromotionTerms))
_SHAPE_COLUMNS = tuple(_PROMOTION[name] for name in _SHAPE)


def _terms(values: Mapping[str, Any]) -> PromotionTerms:
    return PromotionTerms(**{
        **values, "kind": PromotionKind(values["kind"]),
        "product_ids": tuple(uuid.UUID(str(t)) for t in values["product_ids"] or ()),
        "category_ids": tuple(uuid.UUID(str(t)) for t in values["category_ids"] or ()),
        "customer_groups": tuple(values["customer_groups"] or ()), "names": dict(values.get("names") or {})})


def terms_of(promotion: Promotion) -> PromotionTerms:
    """The table's promotion (as staff's writes hold it) in its read shape."""
    return _terms({name: getattr(promotion, name) for name in _SHAPE})


def _terms_of_row(row: Sequence[Any]) -> PromotionTerms:
    """A row of `_SHAPE_COLUMNS` in the read shape."""
    return _terms(dict(zip(_SHAPE, row, strict=True)))


def live_sql(now: ColumnElement[datetime]) -> ColumnElement[bool]:
    """`PromotionTerms.live` in SQL: active, started at `now` or without a start, and not ended at
    `now` or without an end (the start included, the end excluded). `now` a bound `UtcDateTime`
    (`bindparam(..., type_=Promotion's starts_at type)`), so SQLite compares it as it stores it.
    tests/repository/test_live_now.py runs it on rows of both databases against the Python rule."""
    return and_(_PROMOTION.is_active.is_(True),
                or_(_PROMOTION.starts_at.is_(None), _PROMOTION.starts_at <= now),
                or_(_PROMOTION.ends_at.is_(None), _PROMOTION.ends_at > now))


def _live_statement(with_code: bool) -> Statement:
    """The storefront's automatic promotions live at `now`, and (`with_code`) the one of `code_key`."""
    which: ColumnElement[bool] = _PROMOTION.code_key.is_(None)
    if with_code:
        which = or_(which, _PROMOTION.code_key == bindparam("code_key"))
    now = bindparam("now", type_=_PROMOTION.starts_at.type)
    return Statement(sa_select(*_SHAPE_COLUMNS).where(
        _PROMOTION.storefront == bindparam("storefront"), which, live_sql(now)))


_LIVE = {False: _live_statement(False), True: _live_statement(True)}
_REDEMPTION = table_of(PromotionRedemption).c
_MOVE_REDEMPTIONS = Statement(update(table_of(PromotionRedemption)).where(_REDEMPTION.owner_id == bindparam("anon_id"))
                              .values(owner_id=bindparam("user_id"), user_id=bindparam("user_id")))


class PromotionRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def read(self, promotion_id: uuid.UUID) -> PromotionTerms | None:
        row = (await self.session.execute(sa_select(*_SHAPE_COLUMNS).where(_PROMOTION.id == promotion_id))).first()
        return None if row is None else _terms_of_row(row)

    async def lock(self, promotion_id: uuid.UUID) -> Promotion | None:
        """The promotion's row to change, locked until the transaction ends."""
        result = await self.session.exec(select(Promotion).where(Promotion.id == promotion_id).with_for_update())
        return result.first()

    async def search(self, *, storefront: str | None, active: bool | None, code: str | None, limit: int,
                     offset: int, storefronts: frozenset[str] | None = None) -> tuple[int, list[PromotionTerms]]:
        """`storefronts`: only theirs (an API key's scope); None: every storefront's."""
        where: list[ColumnElement[bool]] = []
        if storefront is not None:
            where.append(_PROMOTION.storefront == storefront)
        if storefronts is not None:
            where.append(_PROMOTION.storefront.in_(sorted(storefronts)))
        if active is not None:
            where.append(_PROMOTION.is_active == active)
        if (key := code_key(code)) is not None:
            where.append(_PROMOTION.code_key == key)
        count = (await self.session.execute(sa_select(func.count()).select_from(table_of(Promotion))
                                            .where(*where))).scalar_one()
        rows = (await self.session.execute(sa_select(*_SHAPE_COLUMNS).where(*where).order_by(
            _PROMOTION.created_at.desc(), _PROMOTION.id).limit(limit).offset(offset))).all()
        return count, [_terms_of_row(row) for row in rows]

    async def code_taken(self, storefront: str, key: str, *, except_id: uuid.UUID | None = None) -> bool:
        query = select(Promotion.id).where(Promotion.storefront == storefront, Promotion.code_key == key)
        if except_id is not None:
            query = query.where(Promotion.id != except_id)
        return (await self.session.exec(query)).first() is not None

    async def live_of(self, storefront: str, now: datetime, code_key: str | None) -> list[PromotionTerms]:
        """The storefront's promotions live at `now` (`live_sql`): automatic ones, and the one of
        `code_key` (when given)."""
        rows = await _LIVE[code_key is not None].rows(
            self.session, {"storefront": storefront, "now": now, "code_key": code_key})
        return [_terms_of_row(row) for row in rows]

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


class CustomerGroupCopies:
    """Orders' copy of identity's customer groups (`OrdersCustomerGroup`): the codes a promotion may name."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def missing(self, storefront: str, codes: Sequence[str]) -> list[str]:
        """Those of `codes` that name no group of `storefront` (unknown, or deleted), in their order."""
        if not codes:
            return []
        known = set((await self.session.exec(select(OrdersCustomerGroup.code).where(
            col(OrdersCustomerGroup.storefront) == storefront, col(OrdersCustomerGroup.code).in_(codes),
            col(OrdersCustomerGroup.deleted).is_(False)))).all())
        return [code for code in codes if code not in known]

    async def codes(self, storefront: str) -> list[str]:
        return list((await self.session.exec(select(OrdersCustomerGroup.code).where(
            col(OrdersCustomerGroup.storefront) == storefront, col(OrdersCustomerGroup.deleted).is_(False))
            .order_by(col(OrdersCustomerGroup.code)))).all())

    async def apply(self, storefront: str, code: str, *, revision: int, deleted: bool) -> None:
        """Keep this state of the group unless the copy holds a newer revision (events arrive in any order)."""
        table = table_of(OrdersCustomerGroup)
        stmt = dialect_insert(self.session)(table).values(storefront=storefront, code=code, revision=revision,
                                                          deleted=deleted)
        await self.session.execute(stmt.on_conflict_do_update(
            index_elements=[table.c.storefront, table.c.code],
            set_={"revision": stmt.excluded.revision, "deleted": stmt.excluded.deleted},
            where=table.c.revision < stmt.excluded.revision))
