"""Categories: the tree, slugs, subtrees."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import (
    func,
    or_,
    true,
)
from sqlalchemy import select as sa_select
from sqlmodel import col, select
from sqlmodel.sql.expression import SelectOfScalar

from atelier_catalog.domain import (
    Visibility,
)
from atelier_catalog.models import (
    Category,
    Product,
)
from atelier_catalog.repository._shared import SessionRepository, ref_condition
from atelier_catalog.visibility import category_readable, offered_by


class CategoryRepository(SessionRepository):
    def readable_statement(self, visibility: Visibility) -> SelectOfScalar[Category]:
        return select(Category).where(*category_readable(visibility))

    async def list_readable(self, visibility: Visibility) -> Sequence[Category]:
        stmt = self.readable_statement(visibility).order_by(col(Category.name), col(Category.id))
        return (await self.session.exec(stmt)).all()

    async def get_readable(self, ref: str, visibility: Visibility) -> Category | None:
        stmt = self.readable_statement(visibility).where(ref_condition(Category, ref))
        return (await self.session.exec(stmt)).first()

    async def get(self, category_id: uuid.UUID) -> Category | None:
        return await self.session.get(Category, category_id)

    async def usage(self, category_id: uuid.UUID) -> tuple[int, int]:
        """(its child categories, the products in it), active or not."""
        children = await self.session.exec(select(func.count()).select_from(Category)
                                           .where(col(Category.parent_id) == category_id))
        products = await self.session.exec(select(func.count()).select_from(Product)
                                           .where(col(Product.category_id) == category_id))
        return children.one(), products.one()

    async def remove(self, category: Category) -> None:
        await self.session.delete(category)
        await self.session.flush()

    async def ids_by_slug(self) -> dict[str, uuid.UUID]:
        """Every category's id by its slug, active or not (a CSV names categories by slug)."""
        return {slug: id_ for slug, id_ in (await self.session.exec(select(col(Category.slug), col(Category.id)))).all()}

    async def get_by_slug(self, slug: str) -> Category | None:
        return (await self.session.exec(select(Category).where(col(Category.slug) == slug))).first()

    async def active_product_counts(self, visibility: Visibility) -> dict[uuid.UUID, int]:
        """Active products per category, directly in it (descendants are summed by the domain),
        of those `visibility`'s storefront offers."""
        stmt = (sa_select(col(Product.category_id), func.count())
                .where(col(Product.is_active) == true(), col(Product.category_id).is_not(None),
                       *offered_by(visibility))
                .group_by(col(Product.category_id)))
        return {row[0]: row[1] for row in (await self.session.execute(stmt)).all()}

    async def ancestor_ids(self, category_id: uuid.UUID) -> list[uuid.UUID]:
        """`category_id` and every category above it."""
        anchor = sa_select(col(Category.id), col(Category.parent_id)).where(col(Category.id) == category_id)
        chain = anchor.cte("category_ancestors", recursive=True)
        chain = chain.union(sa_select(col(Category.id), col(Category.parent_id)).where(col(Category.id) == chain.c.parent_id))
        return list((await self.session.execute(sa_select(chain.c.id))).scalars().all())

    async def slugs_like(self, base: str) -> set[str]:
        """`base` and `base-…` (slugs hold only a-z, 0-9 and '-', so nothing needs escaping)."""
        stmt = select(col(Category.slug)).where(or_(col(Category.slug) == base, col(Category.slug).like(f"{base}-%")))
        return set((await self.session.exec(stmt)).all())

    async def descendant_ids(self, category_id: uuid.UUID) -> list[uuid.UUID]:
        """`category_id` and every category below it, active or not."""
        tree = sa_select(col(Category.id)).where(col(Category.id) == category_id).cte("category_below", recursive=True)
        tree = tree.union(sa_select(col(Category.id)).where(col(Category.parent_id) == tree.c.id))
        return list((await self.session.execute(sa_select(tree.c.id))).scalars().all())

    @staticmethod
    def subtree_ids(ref: str, visibility: Visibility) -> Any:
        """A subquery of the category `ref` and all its descendants, visible ones only (active
        unless staff asks, in the storefront's scope)."""
        anchor = sa_select(col(Category.id)).where(ref_condition(Category, ref), *category_readable(visibility))
        children = sa_select(col(Category.id)).where(*category_readable(visibility))
        tree = anchor.cte("category_subtree", recursive=True)
        tree = tree.union(children.where(col(Category.parent_id) == tree.c.id))
        return sa_select(tree.c.id)

