"""Categories and products moved in from another product (`atelier import`).

An entry point like `demo.seed_demo_data`: one transaction. Categories go through the use case
staff creation goes through (`CategoryService`); products, thousands at a time, through a bulk
path that applies `ProductService.create`'s rules and writes the same rows and events (the initial
stock movement, the images, `catalog.product_changed`) in a few statements. Each row is keyed by its
source's primary key in `import_ref` (a second run skips it); a product keeps its source's integer
id as its `number` alias when no other product has that number. Every check runs before a row is
written, so a refused row leaves nothing behind.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from decimal import Decimal

from pydantic import BaseModel, ValidationError
from sqlalchemy import func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from atelier_catalog import domain
from atelier_catalog.context import CatalogContext
from atelier_catalog.models import (
    DEFAULT_LOCATION_ID,
    CatalogImportRef,
    Product,
    ProductImage,
    ProductVariant,
    StockMovement,
)
from atelier_catalog.repository import LocationRepository, ProductRepository
from atelier_catalog.schemas import CategoryCreate, ImageCreate, ProductCreate
from atelier_catalog.service import CategoryService
from atelier_catalog.service._shared import product_changed, storefronts_key
from atelier_catalog.service.products import INITIAL_STOCK_REASON
from atelier_catalog.settings import CatalogSettings
from atelier_common import outbox
from atelier_common.db import Database
from atelier_common.errors import AtelierError
from atelier_common.imports import RowOutcome, chunks, import_transaction, imported_ids_of, known_refs
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
    # `TaxClass`; an unknown one refuses the row.
    tax_class: str = "standard"


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
    async with import_transaction(db, dry_run=dry_run) as session:
        run = _Run(session, context, source, [storefront] if storefront else [])
        outcomes = [await run.category(row) for row in categories]
        outcomes += await run.products_in_bulk(products)
    return outcomes


async def imported_ids(db: Database, source: str, model: str, keys: Sequence[str]) -> dict[str, uuid.UUID]:
    """What each source key became (products: the product id), for the order lines other services
    import for them."""
    return await imported_ids_of(db, CatalogImportRef, source, model, keys)


class _Run:
    def __init__(self, session: AsyncSession, context: CatalogContext, source: str, storefronts: list[str]) -> None:
        self.session, self.source, self.storefronts, self.context = session, source, storefronts, context
        self.categories = CategoryService(session, context)
        self.repository = ProductRepository(session)
        # Categories made in this run (their refs are not flushed yet when products look them up).
        self.created: dict[str, uuid.UUID] = {}

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

    async def products_in_bulk(self, rows: Sequence[ImportedProduct]) -> list[RowOutcome]:
        """`product` for many rows at once, with the same rules and the same rows and events as
        `ProductService.create` + `ImageService.add` write one by one (the product, its initial stock
        movement, its images, `catalog.product_changed`), in a few statements: 10,000 products in
        seconds, where one use case per row spends ~60 statements each."""
        known = await self._refs(PRODUCT_MODEL, [row.source_pk for row in rows])
        categories = await self._refs(CATEGORY_MODEL, sorted({r.category_source_pk for r in rows
                                                               if r.category_source_pk is not None}))
        skus = await self._taken_skus([row.sku for row in rows])
        slugs = set((await self.session.exec(select(Product.slug))).all())
        wanted = [int(row.source_pk) for row in rows if row.source_pk.isdigit()]
        numbers: set[int] = set()
        for chunk in chunks(wanted):
            numbers.update(n for n in (await self.session.exec(select(Product.number).where(
                col(Product.number).in_(chunk)))).all() if n is not None)
        # Takes the numbering lock on PostgreSQL, as one creation does (`ProductRepository.next_number`).
        following = max([await self.repository.next_number(), *(n + 1 for n in wanted)])
        scope = await storefronts_key(self.context.storefronts, self.storefronts, check=False)
        outcomes: list[RowOutcome] = []
        made: list[tuple[Product, list[ProductImage]]] = []
        for row in rows:
            if row.source_pk in known:
                outcomes.append(RowOutcome(PRODUCT_MODEL, row.source_pk, "skipped", "already imported"))
                continue
            category_id = None
            if row.category_source_pk is not None:
                category_id = categories.get(row.category_source_pk) or self.created.get(row.category_source_pk)
                if category_id is None:
                    outcomes.append(RowOutcome(PRODUCT_MODEL, row.source_pk, "refused",
                                               f"its category {row.category_source_pk} was not imported"))
                    continue
            try:
                data = ProductCreate(name=row.name, sku=row.sku, description=row.description, price=row.price,
                                     currency=row.currency, stock_quantity=row.stock_quantity,
                                     is_active=row.is_active, attributes=row.attributes, category_id=category_id,
                                     storefronts=self.storefronts, tax_class=row.tax_class)
                images = [ImageCreate(**image.model_dump()) for image in row.images]
                attributes = domain.validate_attributes(data.kind, data.attributes)
            except ValidationError as exc:
                outcomes.append(RowOutcome(PRODUCT_MODEL, row.source_pk, "refused", _first_error(exc)))
                continue
            except AtelierError as exc:
                outcomes.append(RowOutcome(PRODUCT_MODEL, row.source_pk, "refused", f"{exc.code}: {exc}"))
                continue
            if data.sku.lower() in skus:
                outcomes.append(RowOutcome(PRODUCT_MODEL, row.source_pk, "refused", f"SKU {data.sku} is already used"))
                continue
            skus.add(data.sku.lower())
            slug = domain.unique_slug(domain.slugify(data.name), slugs)
            slugs.add(slug)
            number = int(row.source_pk) if row.source_pk.isdigit() and int(row.source_pk) not in numbers else None
            if number is None:
                number, following = following, following + 1
            numbers.add(number)
            track = domain.default_track_inventory(data.kind) if data.track_inventory is None else data.track_inventory
            product = Product(**data.model_dump(exclude={"slug", "kind", "tax_class", "attributes", "track_inventory",
                                                         "storefronts"}),
                              slug=slug, kind=data.kind.value, tax_class=data.tax_class.value, attributes=attributes,
                              track_inventory=track,
                              storefronts_key=scope, number=number)
            pictures = [ProductImage(product_id=product.id, **image.model_dump()) for image in images]
            # One primary image (the first marked, else the first), as adding them one by one leaves it.
            primary = next((picture for picture in pictures if picture.is_primary), pictures[0] if pictures else None)
            for picture in pictures:
                picture.is_primary = picture is primary
            made.append((product, pictures))
            outcomes.append(RowOutcome(PRODUCT_MODEL, row.source_pk, "imported"))
            self._remember(PRODUCT_MODEL, row.source_pk, product.id)
        self.session.add_all([product for product, _ in made])
        await self.session.flush()
        self.session.add_all([picture for _, pictures in made for picture in pictures])
        self.session.add_all([StockMovement(product_id=product.id, delta=product.stock_quantity,
                                            quantity_after=product.stock_quantity, reason=INITIAL_STOCK_REASON,
                                            actor_id=None, location_id=DEFAULT_LOCATION_ID)
                              for product, _ in made if product.stock_quantity])
        await LocationRepository(self.session).seed((product.id, None, product.stock_quantity) for product, _ in made)
        hidden: set[uuid.UUID] = set()
        for part in chunks(made):
            hidden |= await self.repository.hidden_by_category(product.id for product, _ in part)
        for product, pictures in made:
            await outbox.add(self.session, product_changed(product, category_hidden=product.id in hidden,
                                                           image_url=domain.primary_image_url(pictures)))
        await self.session.flush()
        return outcomes

    async def _refs(self, model: str, keys: Sequence[str]) -> dict[str, uuid.UUID]:
        return await known_refs(self.session, CatalogImportRef, self.source, model, keys)

    async def _taken_skus(self, skus: Sequence[str]) -> set[str]:
        """SKUs are unique across products and variants, whatever their case (`sku_taken`)."""
        lowered = sorted({sku.lower() for sku in skus})
        taken: set[str] = set()
        for chunk in chunks(lowered):
            for model in (Product, ProductVariant):
                taken.update(sku.lower() for sku in (await self.session.exec(
                    select(model.sku).where(func.lower(model.sku).in_(chunk)))).all())
        return taken

    async def _ref(self, model: str, source_pk: str) -> uuid.UUID | None:
        ref = await self.session.get(CatalogImportRef, (self.source, model, source_pk))
        return ref.target_id if ref is not None else None

    def _remember(self, model: str, source_pk: str, target_id: uuid.UUID) -> None:
        if model == CATEGORY_MODEL:
            self.created[source_pk] = target_id
        self.session.add(CatalogImportRef(source=self.source, model=model, source_pk=source_pk, target_id=target_id))


def _first_error(exc: ValidationError) -> str:
    error = exc.errors()[0]
    return f"{'.'.join(str(part) for part in error['loc'])}: {error['msg']}"
