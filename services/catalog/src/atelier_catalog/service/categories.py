"""Categories: the public tree with product counts, and staff administration."""

from __future__ import annotations

import uuid

from sqlmodel.ext.asyncio.session import AsyncSession

from atelier_catalog import domain
from atelier_catalog.context import CatalogContext
from atelier_catalog.domain import EVERYTHING, CategoryForest, CategoryNode, Language, Visibility
from atelier_catalog.errors import CategoryCycle, CategoryNotEmpty, CategoryNotFound, SlugExists, UnknownParentCategory
from atelier_catalog.models import Category
from atelier_catalog.repository import CategoryRepository, ProductRepository
from atelier_catalog.schemas import CategoryCreate, CategoryUpdate
from atelier_catalog.service._shared import flush_unique, publish_changes, storefronts_key
from atelier_catalog.service.translations import Texts
from atelier_common.service import UseCase


class CategoryService(UseCase[CatalogContext]):
    def __init__(self, session: AsyncSession, context: CatalogContext) -> None:
        super().__init__(session, context)
        self.categories = CategoryRepository(session)

    async def tree(self, visibility: Visibility, language: Language | None = None) -> list[CategoryNode]:
        forest = await self._forest(visibility)
        await Texts(self.session).localize_categories(language, forest.by_id.values())
        return forest.roots

    async def get(self, ref: str, visibility: Visibility, language: Language | None = None) -> CategoryNode:
        forest = await self._forest(visibility)
        node = forest.find(ref)
        if node is None:
            raise CategoryNotFound()
        await Texts(self.session).localize_categories(language, forest.by_id.values())
        return node

    async def _forest(self, visibility: Visibility) -> CategoryForest:
        # Two queries whatever the depth: catalogs have tens of categories, not millions.
        categories = await self.categories.list_readable(visibility)
        return domain.build_category_forest(categories, await self.categories.active_product_counts(visibility))

    async def create(self, data: CategoryCreate, *, check_storefronts: bool = True) -> Category:
        """`check_storefronts=False`: the storefronts are written as given (the demo seed)."""
        scope = await storefronts_key(self.context.storefronts, data.storefronts, check=check_storefronts)
        if data.parent_id is not None:
            await self._parent(data.parent_id)
        slug = await self._slug_for(data.slug, data.name)
        category = Category(**data.model_dump(exclude={"slug", "storefronts"}), slug=slug, storefronts_key=scope)
        self.session.add(category)
        await flush_unique(self.session)
        return category

    async def update(self, ref: str, data: CategoryUpdate) -> Category:
        category = await self._load(ref)
        changes = data.changes()
        if "storefronts" in changes:
            changes["storefronts_key"] = await storefronts_key(self.context.storefronts, changes.pop("storefronts"))
        if changes.get("parent_id") is not None:
            parent = await self._parent(changes["parent_id"])
            if domain.would_create_cycle(category.id, parent.id, await self.categories.ancestor_ids(parent.id)):
                raise CategoryCycle(details={"fields": {"parent_id": ["is this category or one of its descendants"]}})
        if "slug" in changes and changes["slug"] != category.slug:
            changes["slug"] = await self._slug_for(changes["slug"], category.name)
        moves_products = ("is_active" in changes and changes["is_active"] != category.is_active) or (
            "parent_id" in changes and changes["parent_id"] != category.parent_id)
        for name, value in changes.items():
            setattr(category, name, value)
        await flush_unique(self.session)
        if moves_products:
            await self._announce_products(category.id)
        return category

    async def deactivate(self, ref: str) -> None:
        """Hides the category and, in the tree, everything under it; products stay as they are."""
        category = await self._load(ref)
        if category.is_active:
            category.is_active = False
            await self.session.flush()
            await self._announce_products(category.id)

    async def delete(self, ref: str) -> None:
        """Remove a category for good: only one that holds no product (active or not) and no child
        category, so no product loses its place and no link breaks but the category's own."""
        category = await self._load(ref)
        children, products = await self.categories.usage(category.id)
        if children or products:
            raise CategoryNotEmpty(details={"children": children, "products": products})
        await self.categories.remove(category)

    async def _announce_products(self, category_id: uuid.UUID) -> None:
        """Whether the products below `category_id` are on sale may have changed: tell carts."""
        products = ProductRepository(self.session)
        for product in await products.in_categories(await self.categories.descendant_ids(category_id)):
            await publish_changes(self.session, product, variants=product.variants)

    async def _load(self, ref: str) -> Category:
        category = await self.categories.get_readable(ref, EVERYTHING)
        if category is None:
            raise CategoryNotFound()
        return category

    async def _parent(self, parent_id: uuid.UUID) -> Category:
        parent = await self.categories.get(parent_id)
        if parent is None:
            raise UnknownParentCategory(details={"fields": {"parent_id": ["does not exist"]}})
        return parent

    async def _slug_for(self, requested: str | None, name: str) -> str:
        if requested is not None:
            if await self.categories.get_by_slug(requested) is not None:
                raise SlugExists(details={"slug": requested})
            return requested
        base = domain.slugify(name)
        return domain.unique_slug(base, await self.categories.slugs_like(base))
