"""Stock locations and the units each holds of a product or variant.

A location's units change only by guarded statements (`quantity + :delta >= 0`), always after the
product's or variant's own stock UPDATE in the same transaction: that UPDATE takes the row lock
every change of the item queues on, so a location's count is read and changed by one holder at a
time, and the total (`stock_quantity`) stays the sum of the locations'.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import bindparam, update
from sqlalchemy import select as sa_select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import col, select

from atelier_catalog.domain import Shelf
from atelier_catalog.models import DEFAULT_LOCATION_ID, DEFAULT_LOCATION_NAME, LocationStock, StockLocation
from atelier_catalog.repository._shared import _PRODUCT, SessionRepository
from atelier_common.columns import table_of, utcnow

_LOCATION = table_of(StockLocation)
_LOCATION_STOCK = table_of(LocationStock)

_SHELVES = (sa_select(_LOCATION.c.id, _LOCATION.c.name, _LOCATION.c.storefront, _LOCATION.c.ships_to,
                      _LOCATION.c.priority, _LOCATION.c.is_default, _LOCATION_STOCK.c.quantity)
            .join(_LOCATION_STOCK, _LOCATION_STOCK.c.location_id == _LOCATION.c.id)
            .where(_LOCATION_STOCK.c.item_id == bindparam("item"), _LOCATION.c.is_active.is_(True),
                   _LOCATION_STOCK.c.quantity > 0))
# Locked too: the item's lock already orders every writer, this states it where it is read.
_SHELVES_LOCKED = _SHELVES.with_for_update(of=_LOCATION_STOCK)
_TAKE = (update(_LOCATION_STOCK)
         .where(_LOCATION_STOCK.c.location_id == bindparam("location"), _LOCATION_STOCK.c.item_id == bindparam("item"),
                _LOCATION_STOCK.c.quantity + bindparam("delta") >= 0)
         .values(quantity=_LOCATION_STOCK.c.quantity + bindparam("delta"))
         .returning(_LOCATION_STOCK.c.quantity))


def item_of(product_id: uuid.UUID, variant_id: uuid.UUID | None) -> uuid.UUID:
    """A location row's key: the variant, or the product sold without variants."""
    return variant_id if variant_id is not None else product_id


def _shelf(row: Any) -> Shelf:
    return Shelf(location_id=row.id, name=row.name, storefront=row.storefront, ships_to=tuple(row.ships_to or ()),
                 priority=row.priority, is_default=row.is_default, quantity=row.quantity)


class LocationRepository(SessionRepository):
    async def all(self, storefront: str | None = None) -> Sequence[StockLocation]:
        stmt = select(StockLocation).order_by(col(StockLocation.priority), col(StockLocation.name))
        if storefront is not None:
            stmt = stmt.where(col(StockLocation.storefront).in_(("", storefront)))
        return (await self.session.exec(stmt)).all()

    async def get(self, location_id: uuid.UUID) -> StockLocation | None:
        return await self.session.get(StockLocation, location_id)

    async def describe(self, location_ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, tuple[str, str]]:
        """Each existing location's (name, storefront)."""
        ids = set(location_ids)
        if not ids:
            return {}
        rows = await self.session.execute(sa_select(_LOCATION.c.id, _LOCATION.c.name, _LOCATION.c.storefront)
                                          .where(_LOCATION.c.id.in_(ids)))
        return {row.id: (row.name, row.storefront) for row in rows}

    def add(self, location: StockLocation) -> None:
        self.session.add(location)

    async def delete(self, location: StockLocation) -> None:
        await self.session.delete(location)

    async def holds_units(self, location_id: uuid.UUID) -> bool:
        stmt = (sa_select(_LOCATION_STOCK.c.item_id)
                .where(_LOCATION_STOCK.c.location_id == location_id, _LOCATION_STOCK.c.quantity > 0).limit(1))
        return (await self.session.execute(stmt)).first() is not None

    async def shelves(self, item_id: uuid.UUID, *, lock: bool = False) -> list[Shelf]:
        """The active locations holding units of the item, with those units."""
        rows = await self.session.execute(_SHELVES_LOCKED if lock else _SHELVES, {"item": item_id})
        return [_shelf(row) for row in rows]

    async def ensure_default(self) -> None:
        """The default location, made again if its row is gone (the migration makes it; an emptied
        database, as between tests, has none): stock given back or added without a location lands there."""
        insert_ = pg_insert if self._is_postgres else sqlite_insert
        await self.session.execute(insert_(_LOCATION).values(
            id=DEFAULT_LOCATION_ID, storefront="", name=DEFAULT_LOCATION_NAME, kind="warehouse", country=None,
            ships_to=[], priority=100, is_default=True, is_active=True, created_at=utcnow()
        ).on_conflict_do_nothing(index_elements=["id"]))

    async def stock_of(self, location_id: uuid.UUID, item_id: uuid.UUID) -> int:
        stmt = sa_select(_LOCATION_STOCK.c.quantity).where(_LOCATION_STOCK.c.location_id == location_id,
                                                           _LOCATION_STOCK.c.item_id == item_id)
        return int((await self.session.execute(stmt)).scalar() or 0)

    async def by_item(self, item_ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, dict[uuid.UUID, int]]:
        """Each item's units per location (staff reads)."""
        ids = set(item_ids)
        if not ids:
            return {}
        stmt = sa_select(_LOCATION_STOCK.c.item_id, _LOCATION_STOCK.c.location_id, _LOCATION_STOCK.c.quantity).where(
            _LOCATION_STOCK.c.item_id.in_(ids))
        out: dict[uuid.UUID, dict[uuid.UUID, int]] = {}
        for row in await self.session.execute(stmt):
            out.setdefault(row.item_id, {})[row.location_id] = row.quantity
        return out

    async def change(self, location_id: uuid.UUID | None, product_id: uuid.UUID, variant_id: uuid.UUID | None,
                     delta: int) -> int | None:
        """Add `delta` to the location's units of the item (None: the default location): the count
        after, or None when it would go below zero. Call it after the item's own stock UPDATE."""
        location = location_id or DEFAULT_LOCATION_ID
        item = item_of(product_id, variant_id)
        if delta < 0:
            rows = (await self.session.execute(_TAKE, {"location": location, "item": item, "delta": delta})).all()
            return int(rows[0][0]) if rows else None
        insert_ = pg_insert if self._is_postgres else sqlite_insert
        if location == DEFAULT_LOCATION_ID:
            await self.ensure_default()
        upsert = insert_(_LOCATION_STOCK).values(location_id=location, item_id=item, product_id=product_id,
                                                  variant_id=variant_id, quantity=delta).on_conflict_do_update(
            index_elements=["location_id", "item_id"], set_={"quantity": _LOCATION_STOCK.c.quantity + delta})
        return int((await self.session.execute(upsert.returning(_LOCATION_STOCK.c.quantity))).scalar_one())

    async def seed(self, items: Iterable[tuple[uuid.UUID, uuid.UUID | None, int]]) -> None:
        """New products' or variants' first stock, at the default location."""
        for product_id, variant_id, quantity in items:
            if quantity > 0:
                await self.change(None, product_id, variant_id, quantity)

    async def seed_numbered(self, first: int, last: int) -> None:
        """The first stock of the products numbered `first`..`last` (a bulk seed), at the default location."""
        stmt = (sa_select(bindparam("location", DEFAULT_LOCATION_ID, type_=_LOCATION.c.id.type), _PRODUCT.c.id,
                          _PRODUCT.c.id, _PRODUCT.c.stock_quantity)
                .where(_PRODUCT.c.number.between(first, last), _PRODUCT.c.stock_quantity > 0))
        await self.ensure_default()
        await self.session.execute(_LOCATION_STOCK.insert().from_select(
            ["location_id", "item_id", "product_id", "quantity"], stmt))
