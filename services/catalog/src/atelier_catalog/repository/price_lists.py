"""Price lists: staff's lists with their prices, and the prices a group's readers apply."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence

from sqlalchemy import select as sa_select
from sqlalchemy import true
from sqlalchemy.orm import selectinload
from sqlmodel import col, select

from atelier_catalog.domain import ListPrice, PriceGroup
from atelier_catalog.models import CustomerGroupCopy, PriceList, PriceListPrice, Product, ProductVariant
from atelier_catalog.repository._shared import SessionRepository
from atelier_common.columns import table_of
from atelier_common.db import dialect_insert


class PriceListRepository(SessionRepository):
    async def all(self, storefront: str | None) -> Sequence[PriceList]:
        stmt = select(PriceList).options(selectinload(PriceList.prices))  # type: ignore[arg-type]  # SQLModel types a relationship as its model, not as the attribute loaders take
        if storefront is not None:
            stmt = stmt.where(col(PriceList.storefront) == storefront)
        stmt = stmt.order_by(col(PriceList.storefront), col(PriceList.name), col(PriceList.id))
        return (await self.session.exec(stmt)).all()

    async def get(self, price_list_id: uuid.UUID, *, lock: bool = False) -> PriceList | None:
        """The list with its prices; `lock`: FOR UPDATE, so two staff edits of one list take turns
        (the second one then sees the first's version)."""
        stmt = (select(PriceList).where(col(PriceList.id) == price_list_id)
                .options(selectinload(PriceList.prices)))  # type: ignore[arg-type]  # as above
        if lock:
            stmt = stmt.with_for_update()
        return (await self.session.exec(stmt)).first()

    async def replace_prices(self, price_list: PriceList, prices: Iterable[PriceListPrice]) -> None:
        """The list's prices (loaded with it) become `prices`. Deleted row by row, not by a statement:
        the cache tracker then knows these rows purge nothing public at a CDN (`api/cache.py`)."""
        for old in price_list.prices:
            await self.session.delete(old)
        await self.session.flush()
        await self.add_prices(prices)

    async def add_prices(self, prices: Iterable[PriceListPrice]) -> None:
        self.session.add_all(list(prices))
        await self.session.flush()

    async def remove(self, price_list: PriceList) -> None:
        await self.session.delete(price_list)
        await self.session.flush()

    async def products_of(self, product_ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, tuple[str, str]]:
        """The (currency, kind) of each of these products that exists."""
        ids = list(dict.fromkeys(product_ids))
        if not ids:
            return {}
        rows = await self.session.execute(sa_select(col(Product.id), col(Product.currency), col(Product.kind))
                                          .where(col(Product.id).in_(ids)))
        return {product_id: (currency, kind) for product_id, currency, kind in rows.all()}

    async def variants_of(self, variant_ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, uuid.UUID]:
        """The product of each of these variants that exists."""
        ids = list(dict.fromkeys(variant_ids))
        if not ids:
            return {}
        rows = await self.session.exec(select(col(ProductVariant.id), col(ProductVariant.product_id))
                                       .where(col(ProductVariant.id).in_(ids)))
        return dict(rows.all())

    async def prices_for(self, group: PriceGroup, product_ids: Iterable[uuid.UUID]) -> list[ListPrice]:
        """The prices of `product_ids` (and their variants) in the group's active lists on its
        storefront, every currency, oldest list first (`domain.best_list_prices` chooses)."""
        ids = list(dict.fromkeys(product_ids))
        if not ids:
            return []
        stmt = (sa_select(col(PriceList.id), col(PriceList.name), col(PriceList.currency), col(PriceListPrice.product_id),
                       col(PriceListPrice.variant_id), col(PriceListPrice.price))
                .join(PriceList, col(PriceList.id) == col(PriceListPrice.price_list_id))
                .where(col(PriceList.storefront) == group.storefront,
                       col(PriceList.customer_group) == group.customer_group,
                       col(PriceList.is_active) == true(), col(PriceListPrice.product_id).in_(ids))
                .order_by(col(PriceList.created_at), col(PriceList.id)))
        return [ListPrice(price_list_id=list_id, price_list_name=name, currency=currency, product_id=product_id,
                          variant_id=variant_id, price=price)
                for list_id, name, currency, product_id, variant_id, price in (await self.session.execute(stmt)).all()]


class CustomerGroupCopies(SessionRepository):
    """Catalog's copy of identity's customer groups (`CustomerGroupCopy`)."""

    async def exists(self, storefront: str, code: str) -> bool:
        stmt = select(CustomerGroupCopy.code).where(col(CustomerGroupCopy.storefront) == storefront,
                                                    col(CustomerGroupCopy.code) == code,
                                                    col(CustomerGroupCopy.deleted).is_(False))
        return (await self.session.exec(stmt)).first() is not None

    async def codes(self, storefront: str) -> list[str]:
        stmt = (select(CustomerGroupCopy.code).where(col(CustomerGroupCopy.storefront) == storefront,
                                                     col(CustomerGroupCopy.deleted).is_(False))
                .order_by(col(CustomerGroupCopy.code)))
        return list((await self.session.exec(stmt)).all())

    async def apply(self, storefront: str, code: str, *, name: str, revision: int, deleted: bool) -> None:
        """Keep this state of the group unless the copy holds a newer revision (events arrive in any order)."""
        table = table_of(CustomerGroupCopy)
        stmt = dialect_insert(self.session)(table).values(storefront=storefront, code=code, name=name,
                                                          revision=revision, deleted=deleted)
        stmt = stmt.on_conflict_do_update(
            index_elements=[table.c.storefront, table.c.code],
            set_={"name": stmt.excluded.name, "revision": stmt.excluded.revision, "deleted": stmt.excluded.deleted},
            where=table.c.revision < stmt.excluded.revision)
        await self.session.execute(stmt)
