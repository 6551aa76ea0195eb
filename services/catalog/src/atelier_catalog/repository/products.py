"""Products one by one: staff edits, lookups for other services, slugs and SKUs."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import (
    and_,
    func,
    or_,
    true,
    update,
)
from sqlalchemy import select as sa_select
from sqlalchemy.orm import selectinload
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession
from sqlmodel.sql.expression import SelectOfScalar

from atelier_catalog.domain import (
    DIGITAL_KINDS,
    EVERYTHING,
    Visibility,
)
from atelier_catalog.models import (
    Category,
    Product,
    ProductImage,
    ProductVariant,
)
from atelier_catalog.repository._shared import _PRODUCT, ref_condition
from atelier_catalog.repository.search import ProductPages
from atelier_catalog.repository.stock import StockRows
from atelier_catalog.visibility import CATEGORY_ON_SALE, readable
from atelier_common.counting import CountEstimates

# The advisory lock that serialises product numbering (an arbitrary constant of this service).
NUMBER_LOCK = 0x63617461_6E756D  # "catanum"


class ProductRepository(ProductPages, StockRows):
    """Products one by one (staff edits, lookups for other services), pages (`ProductPages`) and
    stock (`StockRows`)."""

    def __init__(self, session: AsyncSession, *, estimates: CountEstimates | None = None) -> None:
        super().__init__(session)
        self.estimates = estimates if estimates is not None else CountEstimates()

    def readable_statement(self, visibility: Visibility) -> SelectOfScalar[Product]:
        return select(Product).where(*readable(visibility))

    def _with_children(self, stmt: SelectOfScalar[Product], visibility: Visibility) -> SelectOfScalar[Product]:
        variants: Any = Product.variants
        if not visibility.include_inactive:
            variants = variants.and_(col(ProductVariant.is_active) == true())
        # populate_existing: a product already in the session (just changed) is read afresh.
        return (stmt.options(selectinload(Product.images), selectinload(variants))  # type: ignore[arg-type]  # SQLModel types a relationship as its model, not as the attribute loaders take
                .execution_options(populate_existing=True))

    async def get_readable(self, ref: str, visibility: Visibility) -> Product | None:
        stmt = self.readable_statement(visibility).where(ref_condition(Product, ref))
        return (await self.session.exec(self._with_children(stmt, visibility))).first()

    async def next_number(self) -> int:
        """The `number` of the product being created: one past the highest. On PostgreSQL two
        creations at once would read the same highest, so they queue on a lock held until commit
        (SQLite has a single writer)."""
        if self._is_postgres:
            await self.session.execute(sa_select(func.pg_advisory_xact_lock(NUMBER_LOCK)))
        highest = await self.session.execute(sa_select(func.max(col(Product.number))))
        return int(highest.scalar() or 0) + 1

    async def find_id(self, ref: str, visibility: Visibility) -> uuid.UUID | None:
        """The id of a visible product, without loading it (reviews and wishlists only need that)."""
        stmt = self.readable_statement(visibility).where(ref_condition(Product, ref))
        return (await self.session.execute(stmt.with_only_columns(col(Product.id)))).scalars().first()

    async def lock(self, product_id: uuid.UUID) -> None:
        """Hold the product row until the transaction ends (serialises review-count updates)."""
        stmt = sa_select(col(Product.id)).where(col(Product.id) == product_id)
        await self.session.execute(stmt.with_for_update() if self._is_postgres else stmt)

    async def get_many(self, *, ids: Iterable[uuid.UUID] = (), skus: Iterable[str] = ()) -> Sequence[Product]:
        ids, skus = list(ids), list(skus)
        if not ids and not skus:
            return []
        stmt = select(Product).where(or_(col(Product.id).in_(ids), col(Product.sku).in_(skus)))
        stmt = self._with_children(stmt.order_by(col(Product.id)), EVERYTHING)
        return (await self.session.exec(stmt)).all()


    async def export_page(self, *, after: tuple[int, uuid.UUID] | None,
                          limit: int) -> Sequence[tuple[Product, str | None]]:
        """Every product, active or not, with its category's slug, its images and every variant:
        `limit` of them after `after` (the last row's (number, id)), in number order; a keyset page,
        so the export stays linear."""
        number = func.coalesce(col(Product.number), 0)
        stmt = (select(Product, col(Category.slug)).outerjoin(Category, col(Category.id) == col(Product.category_id))
                .options(selectinload(Product.images), selectinload(Product.variants))  # type: ignore[arg-type]  # as in _with_children
                .order_by(number, col(Product.id)).limit(limit))
        if after is not None:
            stmt = stmt.where(or_(number > after[0], and_(number == after[0], col(Product.id) > after[1])))
        return [(product, slug) for product, slug in (await self.session.exec(stmt)).all()]

    async def hidden_by_category(self, product_ids: Iterable[uuid.UUID]) -> set[uuid.UUID]:
        """Those of `product_ids` under an inactive category (or under one below an inactive
        one): off sale whatever their own flag says (`atelier_catalog.visibility`)."""
        ids = list(dict.fromkeys(product_ids))
        if not ids:
            return set()
        stmt = sa_select(_PRODUCT.c.id).where(_PRODUCT.c.id.in_(ids), ~CATEGORY_ON_SALE)
        return set((await self.session.execute(stmt)).scalars().all())

    async def in_categories(self, category_ids: Iterable[uuid.UUID]) -> Sequence[Product]:
        """Products directly in any of `category_ids`, with images and every variant."""
        ids = list(category_ids)
        if not ids:
            return []
        stmt = select(Product).where(col(Product.category_id).in_(ids)).order_by(col(Product.id))
        return (await self.session.exec(self._with_children(stmt, EVERYTHING))).all()

    async def list_offers(self, visibility: Visibility) -> Sequence[Product]:
        """The digital offers `visibility` reads, by kind and price."""
        stmt = (self.readable_statement(visibility).where(col(Product.kind).in_([k.value for k in DIGITAL_KINDS]))
                .order_by(col(Product.kind), col(Product.price), col(Product.sku)))
        return (await self.session.exec(stmt)).all()


    async def slugs_like(self, base: str) -> set[str]:
        """`base` and `base-…` (slugs hold only a-z, 0-9 and '-', so nothing needs escaping)."""
        stmt = select(col(Product.slug)).where(or_(col(Product.slug) == base, col(Product.slug).like(f"{base}-%")))
        return set((await self.session.exec(stmt)).all())

    async def slug_taken(self, slug: str, *, except_id: uuid.UUID | None = None) -> bool:
        stmt = select(col(Product.id)).where(col(Product.slug) == slug)
        if except_id is not None:
            stmt = stmt.where(col(Product.id) != except_id)
        return (await self.session.exec(stmt.limit(1))).first() is not None

    async def sku_taken(self, sku: str, *, except_id: uuid.UUID | None = None) -> bool:
        """SKUs are unique across products and variants: orders and carts look them up as one."""
        products = select(col(Product.id)).where(col(Product.sku) == sku)
        variants = select(col(ProductVariant.id)).where(col(ProductVariant.sku) == sku)
        if except_id is not None:
            products = products.where(col(Product.id) != except_id)
            variants = variants.where(col(ProductVariant.id) != except_id)
        for stmt in (products, variants):
            if (await self.session.exec(stmt.limit(1))).first() is not None:
                return True
        return False

    async def category_exists(self, category_id: uuid.UUID) -> bool:
        return await self.session.get(Category, category_id) is not None

    async def clear_primary_image(self, product_id: uuid.UUID, *, except_id: uuid.UUID) -> None:
        stmt = (update(ProductImage)
                .where(col(ProductImage.product_id) == product_id, col(ProductImage.id) != except_id)
                .values(is_primary=False).execution_options(synchronize_session=False))
        await self.session.execute(stmt)

    async def lock_for_seeding(self) -> None:
        """Serialise demo seeding between processes starting at once (PostgreSQL only; SQLite
        has a single writer anyway)."""
        if self._is_postgres:
            await self.session.execute(sa_select(func.pg_advisory_xact_lock(0x6361_7461_6C6F_67)))

