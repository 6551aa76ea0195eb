"""Locks and writes of the cart, on rows (`rows.py`) with statements built once: no rules, no
commits. Reads that only answer the API are in `queries.py`.

A cart is an owner's on one storefront: every statement that finds, locks or creates an owner's
cart names both (`_OWNER_CART`), so a cart or line of another owner, or of the owner's cart on another storefront, is simply not found. Only
a claim and an erasure act on all of an owner's carts.
Locking: every change to a cart's lines first locks the cart row, through one method
(`CartRepository.lock`; a claim locks both owners' carts at once, `lock_rows`). PostgreSQL takes a row lock
(`SELECT … FOR UPDATE`); SQLite has no row locks and ignores FOR UPDATE, so there the lock is a
write to the cart row, which takes SQLite's database write lock until the commit.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    Integer,
    and_,
    bindparam,
    case,
    column,
    delete,
    func,
    literal,
    literal_column,
    true,
    update,
    values,
)
from sqlalchemy import select as sa_select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from atelier_cart.domain import ProductFacts
from atelier_cart.models import Cart, CartItem, CartOwner, CartProduct, ClearedOrder, utcnow
from atelier_cart.rows import CartLine, CartRow, CartWithLines
from atelier_common.columns import table_of
from atelier_common.db import Statement, dialect_insert, held_for_write, insert_row, on_sqlite, one_of, unnested
from atelier_common.owners import OwnerState, lock_owner

# The statements of the add path (the busiest write), built once with bound parameters: under
# load, building a statement and its cache key, then ORM objects from the rows, cost more CPU
# than PostgreSQL spent running them.
_CART = table_of(Cart)
_ITEM = table_of(CartItem)
_PRODUCT = table_of(CartProduct)
# The owner's cart on one storefront: two bound parameters, one lookup of the unique index.
_OWNER_CART = and_(_CART.c.owner_id == bindparam("owner"), _CART.c.storefront == bindparam("storefront_slug"))


def _line_fact(column: Any) -> Any:
    """A line's fact `column` (its kind, its tax class), from the read-model row of its product or
    variant. Two lookups, one per partial unique index (see models.py), and the CASE runs only the
    one that applies: a single lookup with `variant_id IS NOT DISTINCT FROM …` can use neither index
    and scanned the whole read-model (every product of the catalog) once per line."""
    return case(
        (_ITEM.c.variant_id.is_(None),
         sa_select(column).where(_PRODUCT.c.product_id == _ITEM.c.product_id, _PRODUCT.c.variant_id.is_(None))
         .scalar_subquery()),
        else_=sa_select(column).where(_PRODUCT.c.product_id == _ITEM.c.product_id,
                                      _PRODUCT.c.variant_id == _ITEM.c.variant_id).scalar_subquery())


# What a line reads of its product besides its own columns (`CartLine.kind`, `tax_class`).
_LINE_FACTS = [_line_fact(_PRODUCT.c.kind).label("kind"), _line_fact(_PRODUCT.c.tax_class).label("tax_class")]
# The columns of a line as read (`CartLine`): what the cart shows and the rules need.
_LINE_COLUMNS = [c for c in _ITEM.c if c.name not in ("created_at", "updated_at")]
# The add path locks the cart row, then reads its lines, oldest first. Two statements, not one
# join: after waiting for the lock, a statement sees the joined rows of its own snapshot, which
# lacks the line a concurrent add just committed. On PostgreSQL the lock is a row lock that leaves
# the row as it is (`_LOCK_CART_ROW`): touching the cart on every add wrote a new version of its
# row and an entry in each of its three indexes, none of which an add changes (housekeeping sees
# an add in the line's own timestamps). SQLite has no row locks: there the lock is a write to the
# row (`_LOCK_CART`), which takes its database write lock until the commit.
_LOCK_CART = (update(_CART).where(_OWNER_CART).values(updated_at=bindparam("touched"))
              .returning(_CART.c.id, _CART.c.currency))
# FOR NO KEY UPDATE, the lock an UPDATE of non-key columns takes: adds to one cart queue behind
# each other, and the foreign-key checks of their line inserts are not blocked by it.
_LOCK_CART_SELECT = sa_select(_CART.c.id, _CART.c.currency).where(_OWNER_CART).with_for_update(key_share=True)
_LOCK_CART_ROW = Statement(_LOCK_CART_SELECT)
# Lines are built from rows by position (`CartLine(*row)`, cheaper than by name for every line;
# tests/unit/test_rows.py checks the order).
_LINES = Statement(sa_select(*_LINE_COLUMNS, *_LINE_FACTS).where(_ITEM.c.cart_id == bindparam("cart"))
                   .order_by(_ITEM.c.created_at, _ITEM.c.id))
_TOUCH_CART = (update(_CART).where(_CART.c.id == bindparam("cart"))
               .values(updated_at=bindparam("touched"), currency=bindparam("cart_currency")))
_SET_CURRENCY = update(_CART).where(_CART.c.id == bindparam("cart")).values(currency=bindparam("cart_currency"))
_SET_PRICE = (update(_ITEM).where(_ITEM.c.id == bindparam("line"))
              .values(unit_price=bindparam("new_price"), updated_at=bindparam("touched")))
_MOVE_LINE = (update(_ITEM).where(_ITEM.c.id == bindparam("line"))
              .values(cart_id=bindparam("new_cart"), quantity=bindparam("new_quantity"), updated_at=bindparam("touched")))
_DELETE_LINE = delete(_ITEM).where(_ITEM.c.id == bindparam("line"))
_CLEAR_LINES = delete(_ITEM).where(_ITEM.c.cart_id == bindparam("cart"))
_SET_QUANTITY = Statement(update(_ITEM).where(_ITEM.c.id == bindparam("line"))
                          .values(quantity=bindparam("new_quantity"), updated_at=bindparam("touched")))
_INSERT_LINE = insert_row(_ITEM)
_FACT_COLUMNS = [c for c in _PRODUCT.c if c.name not in ("id", "updated_at")]
_FACTS_OF_PRODUCT = sa_select(*_FACT_COLUMNS).where(_PRODUCT.c.product_id == bindparam("product"),
                                                    _PRODUCT.c.variant_id.is_(None))
_FACTS_OF_VARIANT = sa_select(*_FACT_COLUMNS).where(_PRODUCT.c.product_id == bindparam("product"),
                                                    _PRODUCT.c.variant_id == bindparam("variant"))
_FACT_NAMES = [c.name for c in _FACT_COLUMNS]
_FACT_PRODUCT_ID = _FACT_NAMES.index("product_id")  # NULL there: the read-model lacks the product


def _lock_cart_with_facts(facts: Any) -> Any:
    """PostgreSQL: `_LOCK_CART_ROW` and the product's facts (`facts`) in one statement, one row:
    NULL cart columns when the owner has no cart, NULL facts when the read-model lacks the product.

    The facts come from the statement's snapshot, taken before it waited for the lock (if it had
    to): as fresh as the read-model is anyway, which hears catalog's changes after the fact. The
    lines are read after the lock (`_LINES`), so a concurrent add is never missed."""
    locked = _LOCK_CART_SELECT.cte("locked")
    found = facts.subquery("facts")
    one = sa_select(literal_column("1").label("one")).subquery("one")
    return (sa_select(locked.c.id.label("the_cart"), locked.c.currency.label("cart_currency"), *found.c)
            .select_from(one.outerjoin(locked, true()).outerjoin(found, true())))


_LOCK_CART_WITH_PRODUCT = Statement(_lock_cart_with_facts(_FACTS_OF_PRODUCT))
_LOCK_CART_WITH_VARIANT = Statement(_lock_cart_with_facts(_FACTS_OF_VARIANT))
# Read by position: the cart's two columns, then the facts (`lock`; tests/unit/test_rows.py checks).


def _cart_and_lines(carts: Any) -> Any:
    """The cart(s) of `carts` (a table or CTE with `id` and `currency`), each with its lines and
    their kinds, oldest line first: one row with NULL line columns for an empty cart."""
    return (sa_select(carts.c.id.label("the_cart"), carts.c.currency.label("cart_currency"), *_LINE_COLUMNS,
                      *_LINE_FACTS)
            .select_from(carts.outerjoin(_ITEM, _ITEM.c.cart_id == carts.c.id))
            .order_by(_ITEM.c.created_at, _ITEM.c.id))


# The whole cart of an owner in one statement (orders' read, the view of an existing cart): no
# lock, so a single statement's snapshot is what keeps the cart and its lines consistent.
_READ_CART = Statement(_cart_and_lines(_CART).where(_OWNER_CART))
# The view on PostgreSQL: the cart created if missing, and read with its lines, in one statement.
# A new cart has no lines; an existing one is read from the statement's snapshot (which does not
# see the INSERT of its own CTE, hence the UNION). That snapshot may still show a cart a claim
# has meanwhile handed to its user or deleted (the INSERT waited for it, then created the new
# one): a created cart is the answer alone. A cart another transaction committed after the
# snapshot makes both halves empty: `get_or_create_with_lines` then reads it again.
_CREATED = (pg_insert(_CART).values(id=bindparam("new_id"), owner_id=bindparam("owner"),
                                    storefront=bindparam("storefront_slug"), anonymous=bindparam("is_anonymous"),
                                    currency=bindparam("new_currency"), created_at=bindparam("now"),
                                    updated_at=bindparam("now"))
            .on_conflict_do_nothing(index_elements=["owner_id", "storefront"])
            .returning(_CART.c.id, _CART.c.currency).cte("created"))
_OWNED_OR_CREATED = (sa_select(_CREATED.c.id, _CREATED.c.currency)
                     .union_all(sa_select(_CART.c.id, _CART.c.currency)
                                .where(_OWNER_CART, ~sa_select(literal_column("1")).select_from(_CREATED).exists()))
                     .cte("owned"))
_VIEW_CART = Statement(_cart_and_lines(_OWNED_OR_CREATED))


def _lock_rows(of_owners: Any) -> Any:
    """The claim locks both owners' carts (`of_owners`) on every storefront, in (owner, storefront)
    order (see `lock_rows`), as plain rows read by position (tests/unit/test_rows.py checks)."""
    return (sa_select(_CART.c.id, _CART.c.owner_id, _CART.c.storefront, _CART.c.currency).where(of_owners)
            .order_by(_CART.c.owner_id, _CART.c.storefront).with_for_update())


_LOCK_ROWS = Statement(_lock_rows(one_of(_CART.c.owner_id, "owners")),
                       sqlite=_lock_rows(one_of(_CART.c.owner_id, "owners", postgres=False)))
_GIVE_CART = Statement(update(_CART).where(_CART.c.id == bindparam("cart"))
                       .values(owner_id=bindparam("new_owner"), anonymous=False, updated_at=bindparam("touched")))
# An erasure takes every cart of the owner; a merged guest cart goes by its id.
_DELETE_CARTS = delete(_CART).where(_CART.c.owner_id == bindparam("owner"))
_DELETE_CART = delete(_CART).where(_CART.c.id == bindparam("cart"))
# An order's lines leave its cart once: on PostgreSQL the record that they did and the cart's
# lock in one statement (no cart comes back when the record was there already). The lines are
# changed by the next statement (`_TAKE_OUT`), whose snapshot is taken once the lock is held.
_CLEARED_ORDER = table_of(ClearedOrder)
_FIRST_CLEAR = (pg_insert(_CLEARED_ORDER).values(order_id=bindparam("order"), created_at=bindparam("now"))
                .on_conflict_do_nothing().returning(_CLEARED_ORDER.c.order_id).cte("first_clear"))
_LOCK_CART_ONCE = Statement(sa_select(_CART.c.id, _CART.c.currency).where(
    _OWNER_CART, sa_select(literal_column("1")).select_from(_FIRST_CLEAR).exists())
    .with_for_update(key_share=True, of=_CART).add_cte(_FIRST_CLEAR))


def _take_out(lines: Any) -> tuple[Any, Any]:
    """(DELETE, UPDATE) taking the units ordered (`lines`, a CTE of product_id, variant_id and
    quantity) off the lines of the cart bound as `cart`: a line with no more units than were
    ordered goes, any other keeps the rest. Each is one guarded statement whose guards
    (`quantity <=` / `>` the units ordered) split the lines between them, so on one snapshot no
    line is touched by both."""
    units = (sa_select(lines.c.quantity)
             .where(lines.c.product_id == _ITEM.c.product_id,
                    lines.c.variant_id.is_not_distinct_from(_ITEM.c.variant_id))
             .scalar_subquery())
    in_cart = _ITEM.c.cart_id == bindparam("cart")
    dropped = delete(_ITEM).where(in_cart, _ITEM.c.quantity <= units)
    lowered = (update(_ITEM).where(in_cart, _ITEM.c.quantity > units)
               .values(quantity=_ITEM.c.quantity - units, updated_at=bindparam("touched")))
    return dropped, lowered


_PRODUCT_ID_TYPE, _VARIANT_ID_TYPE = _ITEM.c.product_id.type, _ITEM.c.variant_id.type


def _ordered_values(ordered: Mapping[tuple[uuid.UUID, uuid.UUID | None], int]) -> Any:
    """SQLite: `ordered` ((product, variant) → units) as the VALUES of `_take_out`'s lines."""
    return (values(column("product_id", _PRODUCT_ID_TYPE), column("variant_id", _VARIANT_ID_TYPE),
                   column("quantity", Integer), name="ordered")
            .data([(literal(product, _PRODUCT_ID_TYPE), literal(variant, _VARIANT_ID_TYPE), literal(units, Integer))
                   for (product, variant), units in ordered.items()]).cte("ordered"))


def _take_out_in_one() -> Statement:
    """PostgreSQL: `_take_out`'s two in one statement, built once: the units ordered come as three
    arrays, one per column, whatever the number of lines. Typed arrays: a NULL variant stays a UUID."""
    ordered = sa_select(unnested("given", {"product_id": ("products", _PRODUCT_ID_TYPE),
                                           "variant_id": ("variants", _VARIANT_ID_TYPE),
                                           "quantity": ("units", Integer)})).cte("ordered")
    dropped, lowered = _take_out(ordered)
    return Statement(lowered.add_cte(dropped.cte("dropped")))


_TAKE_OUT = _take_out_in_one()


def _product_upsert(insert_of: Any, with_variant: bool) -> Any:
    """`ProductRepository.upsert`'s statement (its values are bound at execution)."""
    stmt = insert_of(_PRODUCT)
    if with_variant:
        target, where = ["product_id", "variant_id"], _PRODUCT.c.variant_id.is_not(None)
    else:
        target, where = ["product_id"], _PRODUCT.c.variant_id.is_(None)
    return stmt.on_conflict_do_update(
        index_elements=target, index_where=where,
        set_={c.name: stmt.excluded[c.name] for c in _PRODUCT.c if c.name not in ("id", "product_id", "variant_id")},
        where=_PRODUCT.c.updated_at <= stmt.excluded.updated_at)


_UPSERT_PRODUCT = {(dialect, with_variant): _product_upsert(insert_of, with_variant)
                   for dialect, insert_of in (("postgresql", pg_insert), ("sqlite", sqlite_insert))
                   for with_variant in (False, True)}


_RECORD_CLEAR = {dialect: insert_of(_CLEARED_ORDER).on_conflict_do_nothing().returning(_CLEARED_ORDER.c.order_id)
                 for dialect, insert_of in (("postgresql", pg_insert), ("sqlite", sqlite_insert))}


async def _first_clear(session: AsyncSession, order_id: uuid.UUID) -> bool:
    stmt = _RECORD_CLEAR["sqlite" if on_sqlite(session) else "postgresql"]
    return (await session.execute(stmt, {"order_id": order_id, "created_at": utcnow()})).first() is not None


def _cart_of_rows(rows: Any) -> CartWithLines | None:
    """The cart of `_cart_and_lines`' rows (None: no row, no cart)."""
    cart, lines = None, list[CartLine]()
    for the_cart, currency, *line in rows:
        cart = CartWithLines(id=the_cart, currency=currency, lines=lines)
        if line[0] is not None:
            lines.append(CartLine(*line))
    return cart


async def read_with_lines(session: AsyncSession, owner_id: uuid.UUID, storefront: str) -> CartWithLines | None:
    """The owner's cart on `storefront` and its lines with their kinds, in one statement, unlocked."""
    return _cart_of_rows(await _READ_CART.rows(session, {"owner": owner_id, "storefront_slug": storefront}))


class CartRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def ensure(self, owner_id: uuid.UUID, storefront: str, currency: str, *, anonymous: bool = False) -> None:
        """Create the owner's cart on `storefront` unless it exists; concurrent callers end up
        with the same one."""
        now = utcnow()
        stmt = dialect_insert(self.session)(Cart).values(id=uuid.uuid4(), owner_id=owner_id, storefront=storefront,
                                                  currency=currency, anonymous=anonymous, created_at=now,
                                                  updated_at=now)
        await self.session.execute(stmt.on_conflict_do_nothing(index_elements=["owner_id", "storefront"]))

    async def get_or_create_with_lines(self, owner_id: uuid.UUID, storefront: str, currency: str, *,
                                       anonymous: bool = False) -> CartWithLines:
        """The view: the owner's cart on `storefront` with its lines, the (empty) cart created in
        `currency` if missing: one statement on PostgreSQL."""
        for _ in range(5):
            if on_sqlite(self.session):
                await self.ensure(owner_id, storefront, currency, anonymous=anonymous)
                cart = await read_with_lines(self.session, owner_id, storefront)
            else:
                rows = await _VIEW_CART.rows(self.session, {
                    "owner": owner_id, "storefront_slug": storefront, "new_id": uuid.uuid4(), "is_anonymous": anonymous,
                    "new_currency": currency, "now": utcnow()})
                # Nothing: a concurrent first request committed the cart after this statement's
                # snapshot was taken; the next statement sees it.
                cart = _cart_of_rows(rows) or await read_with_lines(self.session, owner_id, storefront)
            if cart is not None:
                return cart
        raise RuntimeError(f"the cart of {owner_id} on {storefront} kept moving away while being read")

    async def lock_rows(self, owner_ids: Sequence[uuid.UUID]) -> list[CartRow]:
        """`lock` for a claim: every cart of these owners, on every storefront, locked until the
        transaction ends, without lines. Rows are locked in (owner, storefront) order, so two
        transactions locking overlapping sets never wait for each other in a cycle."""
        if on_sqlite(self.session):
            await self.session.execute(update(Cart).where(col(Cart.owner_id).in_(owner_ids))
                                       .values(updated_at=utcnow()))
        return [CartRow(*row) for row in await _LOCK_ROWS.rows(self.session, {"owners": list(owner_ids)})]

    async def lock(self, owner_id: uuid.UUID, storefront: str, now: datetime, *, create_in: str | None = None,
                   anonymous: bool = False, product: tuple[uuid.UUID, uuid.UUID | None] | None = None,
                   lines: bool = True,
                   cleared_order: uuid.UUID | None = None) -> tuple[CartWithLines | None, ProductFacts | None]:
        """The owner's cart on `storefront`, locked until the transaction ends (see the module doc;
        on SQLite by touching it at `now`), then its lines read (oldest first, with their kinds),
        unless `lines` is False. None: the owner has no cart there.

        `create_in`: a missing cart is created in that currency (`anonymous`: a guest's).
        `product`: (product, variant) whose read-model facts come back too (None: not known), in
        the lock's statement on PostgreSQL: the add is two statements there, then its write.
        `cleared_order`: only if that order's lines had not left the cart yet, which is recorded
        (`ClaimRepository.first_clear`), in the lock's statement on PostgreSQL; else None, and
        nothing is locked.

        A merge may hand the cart to a user between its creation and the lock (the lock then
        finds no row for this owner): the owner simply gets a new cart, so try again.
        """
        if cleared_order is not None and on_sqlite(self.session) and not await _first_clear(self.session,
                                                                                               cleared_order):
            return None, None
        for _ in range(5):
            # Most owners have a cart already: lock it first, create it only when it is missing.
            cart, facts = await self._lock_cart(owner_id, storefront, now, product, cleared_order)
            if cart is not None:
                lines_read = await _LINES.rows(self.session, {"cart": cart[0]}) if lines else []
                return CartWithLines(id=cart[0], currency=cart[1], lines=[CartLine(*row) for row in lines_read]), facts
            if create_in is None:
                return None, facts
            await self.ensure(owner_id, storefront, create_in, anonymous=anonymous)
        raise RuntimeError(f"the cart of {owner_id} on {storefront} kept moving away while being locked")

    async def _lock_cart(self, owner_id: uuid.UUID, storefront: str, now: datetime,
                         product: tuple[uuid.UUID, uuid.UUID | None] | None,
                         cleared_order: uuid.UUID | None) -> tuple[tuple[uuid.UUID, str] | None, ProductFacts | None]:
        """`lock`'s one statement (two on SQLite with a `product`): the cart's id and currency."""
        params: dict[str, Any] = {"owner": owner_id, "storefront_slug": storefront}
        if on_sqlite(self.session):  # no row locks, no UPDATE in a WITH: the cart touched, then the product
            core = await self.session.connection()
            row = (await core.execute(_LOCK_CART, {**params, "touched": now})).first()
            facts = await ProductRepository(self.session).get(*product) if product is not None else None
            return ((row.id, row.currency) if row is not None else None), facts
        if cleared_order is not None:
            rows = await _LOCK_CART_ONCE.rows(self.session, {**params, "order": cleared_order, "now": now})
            return (rows[0][0], rows[0][1]) if rows else None, None
        if product is None:
            rows = await _LOCK_CART_ROW.rows(self.session, params)
            return (rows[0][0], rows[0][1]) if rows else None, None
        params["product"], variant = product
        if variant is None:
            stmt = _LOCK_CART_WITH_PRODUCT
        else:
            stmt, params["variant"] = _LOCK_CART_WITH_VARIANT, variant
        the_cart, cart_currency, *values = (await stmt.rows(self.session, params))[0]
        facts = ProductFacts(**dict(zip(_FACT_NAMES, values, strict=True))) \
            if values[_FACT_PRODUCT_ID] is not None else None
        return ((the_cart, cart_currency) if the_cart is not None else None), facts

    # A locked cart's writes, as statements on rows.
    async def set_quantity(self, line: CartLine, quantity: int, now: datetime) -> None:
        await _SET_QUANTITY.execute(self.session, {"line": line.id, "new_quantity": quantity, "touched": now})
        line.quantity = quantity

    async def set_price(self, line: CartLine, price: Decimal, now: datetime) -> None:
        await self.session.execute(_SET_PRICE, {"line": line.id, "new_price": price, "touched": now})
        line.unit_price = price

    async def move_line(self, line: CartLine, cart_id: uuid.UUID, quantity: int, now: datetime) -> None:
        """The line goes to the cart `cart_id` (locked too) with `quantity` units."""
        await self.session.execute(_MOVE_LINE, {"line": line.id, "new_cart": cart_id, "new_quantity": quantity,
                                                "touched": now})
        line.cart_id, line.quantity = cart_id, quantity

    async def insert_line(self, line: CartLine, now: datetime) -> None:
        values = {k: v for k, v in line.__dict__.items() if k not in ("kind", "tax_class")}
        await _INSERT_LINE.execute(self.session, {**values, "created_at": now, "updated_at": now})

    async def delete_line(self, line: CartLine) -> None:
        await self.session.execute(_DELETE_LINE, {"line": line.id})

    async def clear(self, cart_id: uuid.UUID) -> None:
        await self.session.execute(_CLEAR_LINES, {"cart": cart_id})

    async def lines_of(self, cart_id: uuid.UUID) -> list[CartLine]:
        """The lines of a cart the caller has locked, oldest first, with their kinds."""
        return [CartLine(*row) for row in await _LINES.rows(self.session, {"cart": cart_id})]

    async def set_currency(self, cart: CartWithLines, currency: str) -> None:
        await self.session.execute(_SET_CURRENCY, {"cart": cart.id, "cart_currency": currency})
        cart.currency = currency

    async def touch(self, cart: CartWithLines | CartRow, now: datetime) -> None:
        await self.session.execute(_TOUCH_CART, {"cart": cart.id, "touched": now, "cart_currency": cart.currency})

    async def give_to(self, cart: CartRow, owner_id: uuid.UUID) -> bool:
        """Hand `cart` (locked) to another owner, a user's cart on the same storefront now; False
        when that owner got a cart of its own there meanwhile (`cart` is then left as it was,
        still locked)."""
        try:
            async with self.session.begin_nested():
                await _GIVE_CART.execute(self.session, {"cart": cart.id, "new_owner": owner_id, "touched": utcnow()})
        except IntegrityError:
            return False
        cart.owner_id = owner_id
        return True

    async def delete_untouched_anonymous(self, untouched_since: datetime, limit: int) -> int:
        """Delete up to `limit` anonymous carts (and, by cascade, their lines) of which neither the
        cart nor a line changed since `untouched_since`; carts a writer holds are skipped
        (PostgreSQL). How many rows went, lines included."""
        touched = select(CartItem.id).where(col(CartItem.cart_id) == col(Cart.id),
                                            col(CartItem.updated_at) >= untouched_since).exists()
        picked = (select(Cart.id).where(col(Cart.anonymous).is_(True), col(Cart.updated_at) < untouched_since,
                                        ~touched).limit(limit))
        picked = held_for_write(picked, self.session, of=Cart, skip_locked=True)
        cart_ids = list((await self.session.exec(picked)).all())
        if not cart_ids:
            return 0
        lines = await self.session.execute(select(func.count()).select_from(CartItem)
                                           .where(col(CartItem.cart_id).in_(cart_ids)))
        removed = int(lines.scalar_one())
        await self.session.execute(delete(Cart).where(col(Cart.id).in_(cart_ids)))
        return removed + len(cart_ids)

    async def delete_for_owner(self, owner_id: uuid.UUID) -> None:
        """Every cart of the owner, on every storefront, and (by cascade) their lines."""
        await self.session.execute(_DELETE_CARTS, {"owner": owner_id})

    async def delete_cart(self, cart_id: uuid.UUID) -> None:
        """The cart and (by cascade) its lines."""
        await self.session.execute(_DELETE_CART, {"cart": cart_id})

    async def take_out(self, cart_id: uuid.UUID, ordered: Mapping[tuple[uuid.UUID, uuid.UUID | None], int],
                       now: datetime) -> None:
        """Take `ordered` ((product, variant) → units) off the lines of the cart `cart_id`, which
        the caller has locked: each line loses the units ordered, and goes when none are left; a
        line of something else is not touched. Guarded statements, never a read then a write:
        one statement on PostgreSQL, two on SQLite (which has no DELETE in a WITH)."""
        if not ordered:
            return
        params = {"cart": cart_id, "touched": now}
        if on_sqlite(self.session):
            dropped, lowered = _take_out(_ordered_values(ordered))
            # The DELETE first: the UPDATE first would leave a line of 2 with 1 ordered at 1,
            # which the DELETE would then take as well.
            await self.session.execute(dropped, params)
            await self.session.execute(lowered, params)
        else:
            await _TAKE_OUT.execute(self.session, {
                **params, "products": [product for product, _ in ordered],
                "variants": [variant for _, variant in ordered], "units": list(ordered.values())})


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
        return await _first_clear(self.session, order_id)


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

    async def upsert(self, facts: ProductFacts, as_of: datetime) -> None:
        """Store `facts` unless the row already holds newer ones (`updated_at` > `as_of`).

        One statement, so two deliveries racing each other cannot roll the row back either.
        """
        stmt = _UPSERT_PRODUCT["sqlite" if on_sqlite(self.session) else "postgresql", facts.variant_id is not None]
        await self.session.execute(stmt, {**facts.__dict__, "storefronts": list(facts.storefronts), "id": uuid.uuid4(),
                                          "updated_at": as_of})
