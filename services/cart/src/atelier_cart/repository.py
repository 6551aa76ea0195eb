"""Queries of the cart, and nothing else: no rules, no commits.

Ownership lives in one method (`_owned`): a cart or line of another owner is simply not found.
Locking: every change to a cart's lines first locks the cart row. PostgreSQL takes a row lock
(`SELECT … FOR UPDATE`); SQLite has no row locks and ignores FOR UPDATE, so there the lock is a
write to the cart row, which takes SQLite's database write lock until the commit.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any, TypeVar

from sqlalchemy import bindparam, delete, func, insert, update
from sqlalchemy import select as sa_select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession
from sqlmodel.sql.expression import SelectOfScalar

from atelier_cart.domain import ProductFacts
from atelier_cart.models import Cart, CartItem, CartOwner, CartProduct, ClearedOrder, utcnow
from atelier_common.owners import OwnerState, lock_owner


def _is_sqlite(session: AsyncSession) -> bool:
    return session.bind is not None and session.bind.dialect.name == "sqlite"


def _insert(session: AsyncSession) -> Any:
    return sqlite_insert if _is_sqlite(session) else pg_insert


T = TypeVar("T")


@dataclass
class CartLine:
    """A line read as a plain row, with its product's kind from the read-model (None if it lost
    it): the add path builds no ORM object (see the statements below)."""

    id: uuid.UUID
    cart_id: uuid.UUID
    product_id: uuid.UUID
    variant_id: uuid.UUID | None
    quantity: int
    unit_price: Decimal
    name: str
    sku: str
    image_url: str | None
    created_at: datetime
    updated_at: datetime
    kind: str | None


@dataclass
class LockedCart:
    id: uuid.UUID
    currency: str
    lines: list[CartLine]


# The statements of the add path (the busiest write), built once with bound parameters: under
# load, building a statement and its cache key, then ORM objects from the rows, cost more CPU
# than PostgreSQL spent running them.
_CART = Cart.__table__  # type: ignore[attr-defined]
_ITEM = CartItem.__table__  # type: ignore[attr-defined]
_PRODUCT = CartProduct.__table__  # type: ignore[attr-defined]
_LINE_KIND = (sa_select(_PRODUCT.c.kind)
              .where(_PRODUCT.c.product_id == _ITEM.c.product_id,
                     _PRODUCT.c.variant_id.is_not_distinct_from(_ITEM.c.variant_id))
              .scalar_subquery())
# The cart row locked (SQLite ignores FOR UPDATE, see `lock_with_lines`), then its lines, oldest
# first. Two statements, not one join: after waiting for the lock, a locking read sees the
# joined rows of its own snapshot, which lacks the line a concurrent add just committed.
_LOCK_CART = sa_select(_CART.c.id, _CART.c.currency).where(_CART.c.owner_id == bindparam("owner")).with_for_update()
_LINES = (sa_select(*_ITEM.c, _LINE_KIND.label("kind")).where(_ITEM.c.cart_id == bindparam("cart"))
          .order_by(_ITEM.c.created_at, _ITEM.c.id))
_TOUCH_CART = (update(_CART).where(_CART.c.id == bindparam("cart"))
               .values(updated_at=bindparam("touched"), currency=bindparam("cart_currency")))
_SET_QUANTITY = (update(_ITEM).where(_ITEM.c.id == bindparam("line"))
                 .values(quantity=bindparam("new_quantity"), updated_at=bindparam("touched")))
_INSERT_LINE = insert(_ITEM)
_FACT_COLUMNS = [c for c in _PRODUCT.c if c.name not in ("id", "updated_at")]
_FACTS_OF_PRODUCT = sa_select(*_FACT_COLUMNS).where(_PRODUCT.c.product_id == bindparam("product"),
                                                    _PRODUCT.c.variant_id.is_(None))
_FACTS_OF_VARIANT = sa_select(*_FACT_COLUMNS).where(_PRODUCT.c.product_id == bindparam("product"),
                                                    _PRODUCT.c.variant_id == bindparam("variant"))


class CartRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    @staticmethod
    def _owned(owner_ids: Sequence[uuid.UUID]) -> SelectOfScalar[Cart]:
        return select(Cart).where(col(Cart.owner_id).in_(owner_ids))

    async def ensure(self, owner_id: uuid.UUID, currency: str, *, anonymous: bool = False) -> None:
        """Create the owner's cart unless it exists; concurrent callers end up with the same one."""
        now = utcnow()
        stmt = _insert(self.session)(Cart).values(id=uuid.uuid4(), owner_id=owner_id, currency=currency,
                                                  anonymous=anonymous, created_at=now, updated_at=now)
        await self.session.execute(stmt.on_conflict_do_nothing(index_elements=["owner_id"]))

    async def get_for_owner(self, owner_id: uuid.UUID) -> Cart | None:
        stmt = self._owned([owner_id]).execution_options(populate_existing=True)
        return (await self.session.exec(stmt)).first()

    async def get_or_create(self, owner_id: uuid.UUID, currency: str, *, anonymous: bool = False) -> Cart:
        await self.ensure(owner_id, currency, anonymous=anonymous)
        return (await self.session.exec(self._owned([owner_id]).execution_options(populate_existing=True))).one()

    async def lock_for_owners(self, owner_ids: Sequence[uuid.UUID]) -> list[Cart]:
        """The owners' existing carts, locked until the transaction ends (see the module doc).

        Rows are locked in owner order, so two transactions locking overlapping sets never wait
        for each other in a cycle.
        """
        if _is_sqlite(self.session):
            await self.session.execute(update(Cart).where(col(Cart.owner_id).in_(owner_ids))
                                       .values(updated_at=utcnow()))
        stmt = (self._owned(owner_ids).order_by(col(Cart.owner_id)).with_for_update()
                .execution_options(populate_existing=True))
        return list((await self.session.exec(stmt)).all())

    async def lock_for_owner(self, owner_id: uuid.UUID, currency: str, *, anonymous: bool = False) -> Cart:
        """The owner's cart, created if missing, locked until the transaction ends."""

        async def lock() -> Cart | None:
            carts = await self.lock_for_owners([owner_id])
            return carts[0] if carts else None

        return await self._created_and_locked(lock, owner_id, currency, anonymous)

    async def lock_with_lines(self, owner_id: uuid.UUID, currency: str, *, anonymous: bool = False) -> LockedCart:
        """`lock_for_owner`, then the lines with their products' kinds, as plain rows (the add path)."""

        async def lock() -> LockedCart | None:
            if _is_sqlite(self.session):
                await self.session.execute(update(Cart).where(col(Cart.owner_id) == owner_id)
                                           .values(updated_at=utcnow()))
            cart = (await self.session.execute(_LOCK_CART, {"owner": owner_id})).first()
            if cart is None:
                return None
            rows = (await self.session.execute(_LINES, {"cart": cart.id})).mappings()
            return LockedCart(id=cart.id, currency=cart.currency, lines=[CartLine(**row) for row in rows])

        return await self._created_and_locked(lock, owner_id, currency, anonymous)

    async def _created_and_locked(self, lock: Callable[[], Awaitable[T | None]], owner_id: uuid.UUID,
                                  currency: str, anonymous: bool) -> T:
        """`lock()` the owner's cart, creating it first when it is missing.

        A merge may hand the cart to a user between the insert and the lock (the locked read
        then finds no row for this owner): the owner simply gets a new cart, so try again.
        """
        for _ in range(5):
            # Most owners have a cart already: lock it first, create it only when it is missing.
            if (locked := await lock()) is not None:
                return locked
            await self.ensure(owner_id, currency, anonymous=anonymous)
        raise RuntimeError(f"the cart of {owner_id} kept moving away while being locked")

    async def set_quantity(self, line: CartLine, quantity: int, now: datetime) -> None:
        await self.session.execute(_SET_QUANTITY, {"line": line.id, "new_quantity": quantity, "touched": now})
        line.quantity, line.updated_at = quantity, now

    async def insert_line(self, line: CartLine) -> None:
        values = {k: v for k, v in line.__dict__.items() if k != "kind"}
        await self.session.execute(_INSERT_LINE, values)

    async def touch(self, cart: LockedCart, now: datetime) -> None:
        await self.session.execute(_TOUCH_CART, {"cart": cart.id, "touched": now, "cart_currency": cart.currency})

    async def give_to(self, cart: Cart, owner_id: uuid.UUID) -> bool:
        """Hand `cart` to another owner; False when that owner got a cart of its own meanwhile."""
        try:
            async with self.session.begin_nested():
                cart.owner_id = owner_id
                cart.anonymous = False  # a user's cart now
                cart.updated_at = utcnow()
                await self.session.flush()
        except IntegrityError:
            return False
        return True

    async def delete_untouched_anonymous(self, untouched_since: datetime, limit: int) -> int:
        """Delete up to `limit` anonymous carts (and, by cascade, their lines) of which neither the
        cart nor a line changed since `untouched_since`; carts a writer holds are skipped
        (PostgreSQL). How many rows went, lines included."""
        touched = select(CartItem.id).where(col(CartItem.cart_id) == col(Cart.id),
                                            col(CartItem.updated_at) >= untouched_since).exists()
        picked = (select(Cart.id).where(col(Cart.anonymous).is_(True), col(Cart.updated_at) < untouched_since,
                                        ~touched).limit(limit))
        if not _is_sqlite(self.session):
            picked = picked.with_for_update(of=Cart, skip_locked=True)
        cart_ids = list((await self.session.exec(picked)).all())
        if not cart_ids:
            return 0
        lines = await self.session.execute(select(func.count()).select_from(CartItem)
                                           .where(col(CartItem.cart_id).in_(cart_ids)))
        removed = int(lines.scalar_one())
        await self.session.execute(delete(Cart).where(col(Cart.id).in_(cart_ids)))
        return removed + len(cart_ids)

    async def delete_for_owner(self, owner_id: uuid.UUID) -> None:
        """The cart and (by cascade) its lines."""
        await self.session.flush()
        await self.session.execute(delete(Cart).where(col(Cart.owner_id) == owner_id))

    async def items_of(self, cart_id: uuid.UUID) -> list[CartItem]:
        stmt = (select(CartItem).where(col(CartItem.cart_id) == cart_id)
                .order_by(col(CartItem.created_at), col(CartItem.id)).execution_options(populate_existing=True))
        return list((await self.session.exec(stmt)).all())

    async def get_item_for_owner(self, owner_id: uuid.UUID, item_id: uuid.UUID) -> CartItem | None:
        owned = self._owned([owner_id]).with_only_columns(col(Cart.id))
        stmt = select(CartItem).where(col(CartItem.id) == item_id, col(CartItem.cart_id).in_(owned))
        return (await self.session.exec(stmt)).first()

    def add_item(self, item: CartItem) -> None:
        self.session.add(item)

    async def delete_item(self, item: CartItem) -> None:
        await self.session.delete(item)

    async def clear(self, cart_id: uuid.UUID) -> None:
        await self.session.flush()
        await self.session.execute(delete(CartItem).where(col(CartItem.cart_id) == cart_id))

    async def clear_for_owner(self, owner_id: uuid.UUID) -> None:
        owned = self._owned([owner_id]).with_only_columns(col(Cart.id))
        await self.session.execute(delete(CartItem).where(col(CartItem.cart_id).in_(owned)))


class ClaimRepository:
    """Who claimed an anonymous owner, who was erased, and the orders whose lines already left a cart."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def lock(self, owner_id: uuid.UUID, *, claimed_by: uuid.UUID | None = None,
                   erased: bool = False) -> OwnerState:
        """Lock the owner's `cart_owner` row until commit, recording a claim or an erasure."""
        return await lock_owner(self.session, CartOwner, owner_id, claimed_by=claimed_by, erased=erased)

    async def first_clear(self, order_id: uuid.UUID) -> bool:
        """Record that the order's lines left its cart; False when they already had."""
        stmt = (_insert(self.session)(ClearedOrder).values(order_id=order_id, created_at=utcnow())
                .on_conflict_do_nothing().returning(col(ClearedOrder.order_id)))
        return (await self.session.execute(stmt)).scalar_one_or_none() is not None


class ProductRepository:
    """The local read-model of catalog's products (`cart_product`)."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, product_id: uuid.UUID, variant_id: uuid.UUID | None) -> ProductFacts | None:
        if variant_id is None:
            result = await self.session.execute(_FACTS_OF_PRODUCT, {"product": product_id})
        else:
            result = await self.session.execute(_FACTS_OF_VARIANT, {"product": product_id, "variant": variant_id})
        row = result.mappings().first()
        return ProductFacts(**row) if row is not None else None

    async def kinds_of(self, lines: Iterable[tuple[uuid.UUID, uuid.UUID | None]]) -> dict[
            tuple[uuid.UUID, uuid.UUID | None], str]:
        """The kind of each (product, variant) the read-model knows."""
        keys = set(lines)
        if not keys:
            return {}
        stmt = select(col(CartProduct.product_id), col(CartProduct.variant_id), col(CartProduct.kind)).where(
            col(CartProduct.product_id).in_({product_id for product_id, _ in keys}))
        return {(row[0], row[1]): row[2] for row in (await self.session.exec(stmt)).all() if (row[0], row[1]) in keys}

    async def upsert(self, facts: ProductFacts, as_of: datetime) -> None:
        """Store `facts` unless the row already holds newer ones (`updated_at` > `as_of`).

        One statement, so two deliveries racing each other cannot roll the row back either.
        """
        values = {**facts.__dict__, "updated_at": as_of}
        stmt = _insert(self.session)(CartProduct).values(id=uuid.uuid4(), **values)
        if facts.variant_id is None:
            target, where = ["product_id"], col(CartProduct.variant_id).is_(None)
        else:
            target, where = ["product_id", "variant_id"], col(CartProduct.variant_id).is_not(None)
        stmt = stmt.on_conflict_do_update(
            index_elements=target, index_where=where,
            set_={name: stmt.excluded[name] for name in values if name not in ("product_id", "variant_id")},
            where=col(CartProduct.updated_at) <= stmt.excluded.updated_at)
        await self.session.execute(stmt)
