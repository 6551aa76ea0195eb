"""Purchases, reviews and wishlists: what customers did with products."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import (
    and_,
    bindparam,
    exists,
    func,
    update,
)
from sqlalchemy import delete as sa_delete
from sqlalchemy import select as sa_select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import col, select

from atelier_catalog.domain import Visibility
from atelier_catalog.models import (
    CatalogOwner,
    Product,
    Purchase,
    Review,
    WishlistItem,
)
from atelier_catalog.repository._shared import SessionRepository
from atelier_catalog.visibility import readable
from atelier_common.columns import table_of, utcnow
from atelier_common.db import Statement, dialect_insert, on_postgres, unnested
from atelier_common.owners import OwnerState, buyer_of, lock_owner


class OwnerRepository(SessionRepository):
    """The buyers' `catalog_owner` rows (`atelier_common.owners`)."""

    async def lock(self, owner_id: uuid.UUID, *, claimed_by: uuid.UUID | None = None,
                   erased: bool = False) -> OwnerState:
        return await lock_owner(self.session, CatalogOwner, owner_id, claimed_by=claimed_by, erased=erased)

    async def buyer(self, owner_id: uuid.UUID) -> uuid.UUID | None:
        return await buyer_of(self.session, CatalogOwner, owner_id)


# `order.paid`'s statements, built once (see `atelier_catalog.repository.facts`).
_PURCHASE = table_of(Purchase)
_PRODUCT = table_of(Product)
_PURCHASE_COLUMNS = ["id", "owner_id", "product_id", "order_id", "created_at"]


def _value(name: str, column: str) -> Any:
    return bindparam(name, type_=_PURCHASE.c[column].type)


def _record_known(insert: Any, rows: Any, product: Any) -> Any:
    """The purchase rows `rows` selects whose `product` catalog knows: lines may name things catalog
    does not sell (a book). An existing row is kept."""
    return (insert(_PURCHASE).from_select(_PURCHASE_COLUMNS, rows.where(exists().where(_PRODUCT.c.id == product)))
            .on_conflict_do_nothing())


# PostgreSQL: an order's purchases in one statement, the same SQL whatever their number (a
# `Statement`): their ids and products as arrays, read back as rows by `unnest`.
_BOUGHT = unnested("bought", {"id": ("purchases", _PURCHASE.c.id.type),
                               "product_id": ("products", _PURCHASE.c.product_id.type)})
_RECORD_KNOWN = Statement(_record_known(pg_insert, sa_select(
    _BOUGHT.c.id, _value("owner", "owner_id"), _BOUGHT.c.product_id, _value("order", "order_id"),
    _value("now", "created_at")), _BOUGHT.c.product_id))
# SQLite, which has no arrays: one row per execution, run as an executemany.
_RECORD_KNOWN_ROW = _record_known(sqlite_insert, sa_select(*[
    _value(name, column) for name, column in zip(("purchase", "owner", "product", "order", "now"), _PURCHASE_COLUMNS,
                                                 strict=True)]), bindparam("product"))

_ALREADY_BOUGHT = sa_select(_PURCHASE.c.product_id).where(_PURCHASE.c.owner_id == bindparam("to_owner"))
_DROP_ALREADY_BOUGHT = sa_delete(_PURCHASE).where(_PURCHASE.c.owner_id == bindparam("from_owner"),
                                                  _PURCHASE.c.product_id.in_(_ALREADY_BOUGHT))
_HAND_OVER = update(_PURCHASE).where(_PURCHASE.c.owner_id == bindparam("from_owner")).values(
    owner_id=bindparam("to_owner"))
# PostgreSQL, in one statement: the sub-statements see one snapshot, so the UPDATE leaves out the
# rows the DELETE takes. Both owners' rows are locked (`OwnerRepository.lock`): no purchase of
# either is being recorded meanwhile.
_HAND_OVER_REST = Statement(update(_PURCHASE)
                            .where(_PURCHASE.c.owner_id == bindparam("from_owner"),
                                   _PURCHASE.c.product_id.not_in(_ALREADY_BOUGHT))
                            .values(owner_id=bindparam("to_owner"))
                            .add_cte(_DROP_ALREADY_BOUGHT.cte("dropped")))


class PurchaseRepository(SessionRepository):
    async def record(self, owner_id: uuid.UUID, product_ids: Iterable[uuid.UUID], order_id: uuid.UUID) -> None:
        """One row per owner and product, however many orders bought it (existing rows are kept);
        products catalog does not know are left out. One statement."""
        products = list(dict.fromkeys(product_ids))
        if not products:
            return
        shared = {"owner": owner_id, "order": order_id, "now": utcnow()}
        if on_postgres(self.session):
            await _RECORD_KNOWN.execute(self.session, {
                **shared, "purchases": [uuid.uuid4() for _ in products], "products": products})
        else:
            await self.session.execute(_RECORD_KNOWN_ROW, [
                {**shared, "purchase": uuid.uuid4(), "product": product_id} for product_id in products])

    async def has_bought(self, owner_id: uuid.UUID, product_id: uuid.UUID) -> bool:
        stmt = select(col(Purchase.id)).where(col(Purchase.owner_id) == owner_id, col(Purchase.product_id) == product_id)
        return (await self.session.exec(stmt.limit(1))).first() is not None

    async def move_owner(self, from_owner: uuid.UUID, to_owner: uuid.UUID) -> None:
        """Hand an anonymous buyer's purchases to the user who claimed the identity; products
        the user had already bought keep the user's row."""
        params = {"from_owner": from_owner, "to_owner": to_owner}
        if on_postgres(self.session):
            await _HAND_OVER_REST.execute(self.session, params)
        else:
            await self.session.execute(_DROP_ALREADY_BOUGHT, params)
            await self.session.execute(_HAND_OVER, params)

    async def forget_owner(self, owner_id: uuid.UUID) -> None:
        await self.session.execute(sa_delete(Purchase).where(col(Purchase.owner_id) == owner_id)
                                   .execution_options(synchronize_session=False))


class ReviewRepository(SessionRepository):
    async def exists(self, product_id: uuid.UUID, user_id: uuid.UUID) -> bool:
        stmt = select(col(Review.id)).where(col(Review.product_id) == product_id, col(Review.user_id) == user_id)
        return (await self.session.exec(stmt.limit(1))).first() is not None

    def add(self, review: Review) -> None:
        self.session.add(review)

    async def list_for_product(self, product_id: uuid.UUID, *, limit: int,
                               offset: int) -> tuple[int, Sequence[Review]]:
        where = col(Review.product_id) == product_id
        count = (await self.session.execute(sa_select(func.count()).select_from(Review).where(where))).scalar_one()
        stmt = (select(Review).where(where).order_by(col(Review.created_at).desc(), col(Review.id))
                .limit(limit).offset(offset))
        return count, (await self.session.exec(stmt)).all()

    async def summary(self, product_id: uuid.UUID) -> tuple[int, int]:
        """(number of reviews, sum of their ratings) as committed plus this transaction's."""
        stmt = (sa_select(func.count(), func.coalesce(func.sum(Review.rating), 0))
                .where(col(Review.product_id) == product_id))
        count, total = (await self.session.execute(stmt)).one()
        return int(count), int(total)

    async def anonymise_author(self, user_id: uuid.UUID) -> None:
        stmt = (update(Review).where(col(Review.user_id) == user_id).values(user_id=None, author_name="")
                .execution_options(synchronize_session=False))
        await self.session.execute(stmt)


class WishlistRepository(SessionRepository):
    """Wishlists belong to users: every query filters on `user_id`."""

    async def remove(self, user_id: uuid.UUID, product_id: uuid.UUID) -> bool:
        stmt = (sa_delete(WishlistItem)
                .where(col(WishlistItem.user_id) == user_id, col(WishlistItem.product_id) == product_id)
                .execution_options(synchronize_session=False))
        result: Any = await self.session.execute(stmt)  # a DML result: it has a rowcount
        return bool(result.rowcount)

    async def add(self, user_id: uuid.UUID, product_id: uuid.UUID) -> None:
        """Insert, or nothing when a parallel toggle already did (the unique key decides)."""
        insert = dialect_insert(self.session)
        await self.session.execute(insert(WishlistItem).values(
            id=uuid.uuid4(), user_id=user_id, product_id=product_id, created_at=utcnow()).on_conflict_do_nothing())

    async def list_for_user(self, user_id: uuid.UUID, visibility: Visibility, *, limit: int,
                            offset: int) -> tuple[int, list[tuple[WishlistItem, Product]]]:
        """Newest first; products that are no longer on sale, or that `visibility`'s storefront
        does not offer, are left out."""
        where = and_(col(WishlistItem.user_id) == user_id, *readable(visibility))
        joined = sa_select(WishlistItem, Product).join(Product, col(Product.id) == col(WishlistItem.product_id))
        count = (await self.session.execute(
            sa_select(func.count()).select_from(WishlistItem)
            .join(Product, col(Product.id) == col(WishlistItem.product_id)).where(where))).scalar_one()
        stmt = (joined.where(where).order_by(col(WishlistItem.created_at).desc(), col(WishlistItem.id))
                .limit(limit).offset(offset))
        return count, [(row[0], row[1]) for row in (await self.session.execute(stmt)).all()]

    async def forget_user(self, user_id: uuid.UUID) -> None:
        await self.session.execute(sa_delete(WishlistItem).where(col(WishlistItem.user_id) == user_id)
                                   .execution_options(synchronize_session=False))

