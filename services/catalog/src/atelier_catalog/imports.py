"""Categories and products moved in from another product (`atelier import`).

An entry point like `demo.seed_demo_data`: one transaction, through the same use cases staff
creation goes through (`CategoryService`, `ProductService`, `ImageService`), so the rules, the
initial stock movement and `catalog.product_changed` are the usual ones. Each row is keyed by its
source's primary key in `import_ref` (a second run skips it); a product keeps its source's integer
id as its `number` alias when no other product has that number. Every check runs before a row is
written, so a refused row leaves nothing behind.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from decimal import Decimal

from pydantic import BaseModel, ValidationError
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from atelier_catalog.context import CatalogContext
from atelier_catalog.models import CatalogImportRef, Product
from atelier_catalog.repository import ProductRepository
from atelier_catalog.schemas import CategoryCreate, ImageCreate, ProductCreate
from atelier_catalog.service import CategoryService, ImageService, ProductService
from atelier_catalog.settings import CatalogSettings
from atelier_common.db import Database
from atelier_common.imports import DryRun, RowOutcome
from atelier_common.storage import open_storage

CATEGORY_MODEL = "category"
PRODUCT_MODEL = "product"


class ImportedCategory(BaseModel):
    source_pk: str
    name: str
    description: str = ""
    is_active: bool = True


class ImportedImage(BaseModel):
    url: str
    alt_text: str = ""
    display_order: int = 0
    is_primary: bool = False


class ImportedProduct(BaseModel):
    source_pk: str
    category_source_pk: str | None = None
    name: str
    sku: str
    description: str = ""
    price: Decimal
    currency: str = "USD"
    stock_quantity: int = 0
    is_active: bool = True
    attributes: dict[str, object] = {}
    images: list[ImportedImage] = []


async def import_catalog(db: Database, categories: Sequence[ImportedCategory], products: Sequence[ImportedProduct],
                         *, source: str, storefront: str | None, dry_run: bool = False,
                         context: CatalogContext | None = None) -> list[RowOutcome]:
    """Create each category and product not imported before (products in the categories imported
    with them or earlier); `dry_run` checks everything the same way and writes nothing."""
    if context is None:
        settings = CatalogSettings()
        async with open_storage(settings, settings.media_dir) as storage:
            return await import_catalog(db, categories, products, source=source, storefront=storefront,
                                        dry_run=dry_run, context=CatalogContext.of(settings, storage))
    outcomes: list[RowOutcome] = []
    try:
        async with db.transaction() as session:
            run = _Run(session, context, source, [storefront] if storefront else [])
            outcomes = [await run.category(row) for row in categories]
            outcomes += [await run.product(row) for row in products]
            if dry_run:
                raise DryRun()
    except DryRun:
        pass
    return outcomes


async def imported_ids(db: Database, source: str, model: str, keys: Sequence[str]) -> dict[str, uuid.UUID]:
    """What each source key became (products: the product id), for the order lines other services
    import for them."""
    found: dict[str, uuid.UUID] = {}
    async with db.transaction() as session:
        for start in range(0, len(keys), 500):
            refs = await session.exec(select(CatalogImportRef).where(
                col(CatalogImportRef.source) == source, col(CatalogImportRef.model) == model,
                col(CatalogImportRef.source_pk).in_(keys[start:start + 500])))
            found.update((ref.source_pk, ref.target_id) for ref in refs)
    return found


class _Run:
    def __init__(self, session: AsyncSession, context: CatalogContext, source: str, storefronts: list[str]) -> None:
        self.session, self.source, self.storefronts = session, source, storefronts
        self.categories = CategoryService(session, context)
        self.products = ProductService(session, context)
        self.images = ImageService(session, context)
        self.repository = ProductRepository(session)

    async def category(self, row: ImportedCategory) -> RowOutcome:
        if await self._ref(CATEGORY_MODEL, row.source_pk) is not None:
            return RowOutcome(CATEGORY_MODEL, row.source_pk, "skipped", "already imported")
        try:
            data = CategoryCreate(name=row.name, description=row.description, is_active=row.is_active,
                                  storefronts=self.storefronts)
        except ValidationError as exc:
            return RowOutcome(CATEGORY_MODEL, row.source_pk, "refused", _first_error(exc))
        category = await self.categories.create(data, check_storefronts=False)
        self._remember(CATEGORY_MODEL, row.source_pk, category.id)
        return RowOutcome(CATEGORY_MODEL, row.source_pk, "imported")

    async def product(self, row: ImportedProduct) -> RowOutcome:
        if await self._ref(PRODUCT_MODEL, row.source_pk) is not None:
            return RowOutcome(PRODUCT_MODEL, row.source_pk, "skipped", "already imported")
        category_id = None
        if row.category_source_pk is not None:
            category_id = await self._ref(CATEGORY_MODEL, row.category_source_pk)
            if category_id is None:
                return RowOutcome(PRODUCT_MODEL, row.source_pk, "refused",
                                  f"its category {row.category_source_pk} was not imported")
        try:
            data = ProductCreate(name=row.name, sku=row.sku, description=row.description, price=row.price,
                                 currency=row.currency, stock_quantity=row.stock_quantity, is_active=row.is_active,
                                 attributes=row.attributes, category_id=category_id, storefronts=self.storefronts)
            images = [ImageCreate(**image.model_dump()) for image in row.images]
        except ValidationError as exc:
            return RowOutcome(PRODUCT_MODEL, row.source_pk, "refused", _first_error(exc))
        if await self.repository.sku_taken(data.sku):
            return RowOutcome(PRODUCT_MODEL, row.source_pk, "refused", f"SKU {data.sku} is already used")
        product = await self.products.create(data, actor_id=None, check_storefronts=False)
        await self._keep_number(product.id, row.source_pk)
        for image in images:
            await self.images.add(str(product.id), image)
        self._remember(PRODUCT_MODEL, row.source_pk, product.id)
        return RowOutcome(PRODUCT_MODEL, row.source_pk, "imported")

    async def _keep_number(self, product_id: uuid.UUID, source_pk: str) -> None:
        """The source's integer id becomes the `number` alias, so its old links resolve, when free."""
        if not source_pk.isdigit():
            return
        number = int(source_pk)
        taken = (await self.session.exec(select(Product.id).where(col(Product.number) == number))).first()
        if taken is None:
            product = await self.session.get_one(Product, product_id)
            product.number = number
            await self.session.flush()

    async def _ref(self, model: str, source_pk: str) -> uuid.UUID | None:
        ref = await self.session.get(CatalogImportRef, (self.source, model, source_pk))
        return ref.target_id if ref is not None else None

    def _remember(self, model: str, source_pk: str, target_id: uuid.UUID) -> None:
        self.session.add(CatalogImportRef(source=self.source, model=model, source_pk=source_pk, target_id=target_id))


def _first_error(exc: ValidationError) -> str:
    error = exc.errors()[0]
    return f"{'.'.join(str(part) for part in error['loc'])}: {error['msg']}"
