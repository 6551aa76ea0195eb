"""Demo data: a natural-stone shop (S1) and the digital offers the other products sold (S0, S2, S4).

`seed_demo_data` creates what is missing (categories by slug, products by SKU) and leaves the
rest alone, so it runs at every start of the embedded mode; staff edits survive restarts. It
goes through the same services as the API, so every product is announced to carts.

The demo is spread over the seed storefronts (identity seeds them: stones for Marbelle and Shop,
credit packs for reviv.pics and FigureForge, plans for FigureForge, print tiers and retry packs
for Storybook); the default storefront is in every scope, so it still shows the whole demo. The
slugs are written unchecked: the seed runs at start, before identity may have answered.
"""

from __future__ import annotations

import asyncio
import logging
import random
import uuid
from collections.abc import Callable, Sequence
from datetime import timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import insert, text

from atelier_catalog import media
from atelier_catalog.context import CatalogContext
from atelier_catalog.domain import PUBLIC as PUBLIC_VISIBILITY
from atelier_catalog.domain import ProductKind
from atelier_catalog.media import MEDIA_URL
from atelier_catalog.models import PriceList, PriceListPrice, Product
from atelier_catalog.repository import CategoryRepository, LocationRepository, PriceListRepository, ProductRepository
from atelier_catalog.schemas import CategoryCreate, ImageCreate, ProductCreate, VariantCreate
from atelier_catalog.service import CategoryService, ImageService, ProductService, VariantService
from atelier_catalog.settings import CatalogSettings
from atelier_common.columns import utcnow
from atelier_common.contracts.identity import GROUP_BUSINESS
from atelier_common.db import Database
from atelier_common.storage import open_storage

log = logging.getLogger("atelier.catalog.demo")

# The storefronts of each part of the demo (`Storefront.offers`), by seed storefront slug.
STONE_STOREFRONTS = ["default", "marbelle", "shop"]
CREDIT_PACK_STOREFRONTS = ["default", "reviv", "figureforge"]
PLAN_STOREFRONTS = ["default", "figureforge"]
STORYBOOK_STOREFRONTS = ["default", "storybook"]
OFFER_STOREFRONTS: dict[ProductKind, list[str]] = {
    ProductKind.CREDIT_PACK: CREDIT_PACK_STOREFRONTS,
    ProductKind.SUBSCRIPTION_PLAN: PLAN_STOREFRONTS,
    ProductKind.PRINT_TIER: STORYBOOK_STOREFRONTS,
    ProductKind.RETRY_PACK: STORYBOOK_STOREFRONTS,
}

# (slug, name, description, parent slug) — parents first; every one in STONE_STOREFRONTS.
CATEGORIES: list[tuple[str, str, str, str | None]] = [
    ("natural-stone", "Natural Stone", "Slabs and tiles quarried around the world", None),
    ("marble", "Marble", "Classic veined marble for floors, walls and worktops", "natural-stone"),
    ("granite", "Granite", "Hard-wearing granite for kitchens and outdoor use", "natural-stone"),
    ("travertine", "Travertine", "Warm travertine tiles and pavers", "natural-stone"),
    ("stone-care", "Stone Care", "Sealers and cleaners for natural stone", None),
]



def _physical(sku: str, name: str, category: str, price: str, stock: int, description: str, *,
              compare_price: str | None = None, featured: bool = False, attributes: dict[str, Any] | None = None,
              variants: Sequence[tuple[str, str, str | None, int, dict[str, Any]]] = ()) -> dict[str, Any]:
    return {"sku": sku, "name": name, "category": category, "price": price, "stock": stock,
            "description": description, "compare_price": compare_price, "featured": featured,
            "attributes": attributes or {}, "variants": variants, "kind": ProductKind.PHYSICAL}


PHYSICAL_PRODUCTS = [
    _physical("CARR-WHITE-001", "Carrara White Marble Slab", "marble", "85.50", 25,
              "Premium Italian Carrara white marble slab with soft grey veining.", compare_price="99.00",
              featured=True, attributes={"unit_of_measure": "sqft", "origin": "Italy", "finish": "polished"},
              variants=[("2 cm polished", "CARR-WHITE-001-2CM", None, 15, {"thickness_mm": 20}),
                        ("3 cm honed", "CARR-WHITE-001-3CM", "97.00", 10, {"thickness_mm": 30, "finish": "honed"})]),
    _physical("CALA-GOLD-001", "Calacatta Gold Marble Slab", "marble", "145.00", 8,
              "Bright white Calacatta marble with bold gold veins.", featured=True,
              attributes={"unit_of_measure": "sqft", "origin": "Italy", "finish": "polished"}),
    _physical("NERO-MARQ-001", "Nero Marquina Marble Tile", "marble", "32.00", 120,
              "Black Spanish marble tile with white veining, 60 x 60 cm.",
              attributes={"unit_of_measure": "tile", "origin": "Spain", "dimensions": "60 x 60 cm"}),
    _physical("ABS-BLACK-001", "Absolute Black Granite Slab", "granite", "65.00", 30,
              "Deep black granite for worktops; resists heat and scratches.", compare_price="72.00",
              attributes={"unit_of_measure": "sqft", "origin": "India"},
              variants=[("Polished", "ABS-BLACK-001-POL", None, 20, {"finish": "polished"}),
                        ("Leathered", "ABS-BLACK-001-LEA", "69.00", 10, {"finish": "leathered"})]),
    _physical("KASH-WHITE-001", "Kashmir White Granite Slab", "granite", "58.00", 0,
              "Light granite with garnet speckles.", attributes={"unit_of_measure": "sqft", "origin": "India"}),
    _physical("TRAV-CLASSIC-001", "Classic Travertine Tile", "travertine", "18.75", 300,
              "Beige travertine tile for floors and terraces.",
              attributes={"unit_of_measure": "sqft", "origin": "Turkey"},
              variants=[("Tumbled", "TRAV-CLASSIC-001-TUM", None, 200, {"finish": "tumbled"}),
                        ("Filled and honed", "TRAV-CLASSIC-001-FH", "21.50", 100, {"finish": "filled-honed"})]),
    _physical("SEAL-PRO-1L", "Stone Sealer 1 L", "stone-care", "24.99", 60,
              "Penetrating sealer that protects marble and granite from stains.",
              attributes={"volume_l": 1, "coverage_sqft": 200}),
]

# (sku, slug, name, kind, price, currency, attributes, description)
DIGITAL_OFFERS: list[tuple[str, str, str, ProductKind, str, str, dict[str, Any], str]] = [
    ("PACK_5", "pack-5", "5 credits", ProductKind.CREDIT_PACK, "4.99", "USD", {"credits": 5},
     "Five credits for generations and unlocks."),
    ("PACK_10", "pack-10", "10 credits", ProductKind.CREDIT_PACK, "8.99", "USD", {"credits": 10},
     "Ten credits for generations and unlocks."),
    ("RETRY_PACK_3", "retry-pack-3", "3 extra retries", ProductKind.RETRY_PACK, "2.00", "GEL", {"retries": 3},
     "Three more regenerations for one storybook item."),
    ("pro_monthly", "pro-monthly", "Pro (monthly)", ProductKind.SUBSCRIPTION_PLAN, "19.99", "USD",
     {"interval": "month", "tier": "pro", "monthly_quota": 200, "provider_price_id": None},
     "200 generations a month."),
    ("studio_monthly", "studio-monthly", "Studio (monthly)", ProductKind.SUBSCRIPTION_PLAN, "49.99", "USD",
     {"interval": "month", "tier": "studio", "monthly_quota": 1000, "provider_price_id": None},
     "1000 generations a month and premium gallery access."),
    ("basic", "print-basic", "Basic print", ProductKind.PRINT_TIER, "49.00", "GEL", {"max_retries_per_unit": 3},
     "Softcover print; 3 regenerations per character, cover and page."),
    ("premium", "print-premium", "Premium print", ProductKind.PRINT_TIER, "89.00", "GEL",
     {"max_retries_per_unit": 5}, "Hardcover print; 5 regenerations per character, cover and page."),
]


async def seed_demo_data(db: Database, context: CatalogContext | None = None) -> int:
    """Create the missing demo categories and products, and the picture files their image URLs name;
    return how many rows were created. Without a running catalog's `context`, one is made from the
    environment's settings."""
    if context is None:
        settings = CatalogSettings()
        async with open_storage(settings, settings.media_dir) as storage:
            return await seed_demo_data(db, CatalogContext.of(settings, storage))
    created = 0
    async with db.transaction() as session:
        products_repo, categories_repo = ProductRepository(session), CategoryRepository(session)
        await products_repo.lock_for_seeding()
        categories, products = CategoryService(session, context), ProductService(session, context)
        variants, images = VariantService(session, context), ImageService(session, context)

        category_ids: dict[str, Any] = {}
        for slug, name, description, parent in CATEGORIES:
            category = await categories_repo.get_by_slug(slug)
            if category is None:
                category = await categories.create(CategoryCreate(
                    name=name, slug=slug, description=description,
                    parent_id=category_ids[parent] if parent else None, storefronts=STONE_STOREFRONTS),
                    check_storefronts=False)
                created += 1
            category_ids[slug] = category.id

        existing = {p.sku for p in await products_repo.get_many(
            skus=[p["sku"] for p in PHYSICAL_PRODUCTS] + [o[0] for o in DIGITAL_OFFERS])}
        for spec in PHYSICAL_PRODUCTS:
            if spec["sku"] in existing:
                continue
            product = await products.create(ProductCreate(
                name=spec["name"], sku=spec["sku"], description=spec["description"], price=Decimal(spec["price"]),
                compare_price=Decimal(spec["compare_price"]) if spec["compare_price"] else None,
                stock_quantity=spec["stock"], category_id=category_ids[spec["category"]],
                is_featured=spec["featured"], attributes=spec["attributes"], storefronts=STONE_STOREFRONTS),
                actor_id=None, check_storefronts=False)
            slug = product.slug
            for order, alt in enumerate(("full slab", "close-up")):
                await images.add(slug, ImageCreate(url=f"{MEDIA_URL}/{_demo_image_key(slug, order)}",
                                                   alt_text=f"{spec['name']}, {alt}", display_order=order))
            for name, sku, price, stock, attributes in spec["variants"]:
                await variants.add(slug, VariantCreate(name=name, sku=sku, price=Decimal(price) if price else None,
                                                       stock_quantity=stock, attributes=attributes), actor_id=None)
            created += 1

        for sku, slug, name, kind, price, currency, attributes, description in DIGITAL_OFFERS:
            if sku in existing:
                continue
            await products.create(ProductCreate(
                name=name, slug=slug, sku=sku, description=description, price=Decimal(price), currency=currency,
                kind=kind, attributes=attributes, storefronts=OFFER_STOREFRONTS[kind]), actor_id=None,
                check_storefronts=False)
            created += 1
        created += await _seed_business_prices(session)
    await _store_demo_pictures(db, context)
    if created:
        log.info("demo data: created %s categories and products", created)
    return created


# Marbelle's business customers' prices: a few stones and the sealer below the shelf price.
# (SKU of the product, SKU of a variant or None, price)
BUSINESS_PRICES = [
    ("CARR-WHITE-001", None, "76.95"),
    ("CARR-WHITE-001", "CARR-WHITE-001-3CM", "87.30"),
    ("CALA-GOLD-001", None, "130.50"),
    ("ABS-BLACK-001", None, "58.50"),
    ("TRAV-CLASSIC-001", None, "16.90"),
    ("SEAL-PRO-1L", None, "21.24"),
]


async def _seed_business_prices(session: Any) -> int:
    """Marbelle's "Business" price list, unless it has a business list already (1: created)."""
    lists = PriceListRepository(session)
    if any(pl.customer_group == GROUP_BUSINESS for pl in await lists.all("marbelle")):
        return 0
    products = {p.sku: p for p in await ProductRepository(session).get_many(skus=[sku for sku, _, _ in BUSINESS_PRICES])}
    variant_ids = {v.sku: v.id for p in products.values() for v in p.variants}
    price_list = PriceList(name="Business", storefront="marbelle", currency="USD", customer_group=GROUP_BUSINESS)
    session.add(price_list)
    await session.flush()
    await lists.add_prices([
        PriceListPrice(price_list_id=price_list.id, product_id=products[sku].id,
                       variant_id=variant_ids[variant] if variant else None, price=Decimal(price))
        for sku, variant, price in BUSINESS_PRICES if sku in products and (variant is None or variant in variant_ids)])
    return 1


def _demo_image_key(slug: str, order: int) -> str:
    return f"products/demo/{slug}-{order + 1}.jpg"


async def _store_demo_pictures(db: Database, context: CatalogContext) -> None:
    """Every demo image URL names a real file: the missing ones are painted now (a fresh storage,
    or one wiped since the products were made)."""
    async with db.read_only() as session:
        products = await ProductRepository(session).get_many(skus=[p["sku"] for p in PHYSICAL_PRODUCTS])
        slugs = [product.slug for product in products]
    for slug in slugs:
        for order in range(2):
            key = _demo_image_key(slug, order)
            if not await context.storage.exists(key):
                picture = await asyncio.to_thread(media.stone_picture, f"{slug}/{order}")
                await context.storage.put(key, picture, "image/jpeg")


# -- the large catalog of the benchmark (`atelier seed --products N`) ---------------------------

_STONES = ("Carrara", "Calacatta", "Statuario", "Nero Marquina", "Emperador", "Absolute Black", "Kashmir",
           "Travertine", "Onyx", "Quartzite", "Limestone", "Slate", "Basalt", "Sandstone", "Terrazzo")
_FORMS = ("Marble Slab", "Marble Tile", "Granite Slab", "Paver", "Mosaic", "Worktop", "Step", "Sill",
          "Vanity Top", "Cladding Panel")
_FINISHES = ("polished", "honed", "leathered", "brushed", "tumbled", "flamed", "sandblasted")
_BULK_BATCH = 50_000


def _sql_array(values: tuple[str, ...]) -> str:
    return "ARRAY[" + ", ".join("'" + v.replace("'", "''") + "'" for v in values) + "]"


async def seed_bulk(db: Database, n: int, *, batch: int = _BULK_BATCH, context: CatalogContext | None = None,
                    progress: Callable[[int], None] | None = None) -> int:
    """Insert `n` more physical products spread over the demo categories, fast: PostgreSQL builds
    them server-side with `generate_series`, SQLite takes batches of executemany. Names mix a
    stone, a form and a finish so that search has realistic matches; about 1 in 100 is inactive
    and 1 in 50 featured. No `catalog.product_changed` is published (carts learn of a product
    when it is added to a cart); VACUUM ANALYZE refreshes the statistics afterwards."""
    await seed_demo_data(db, context)
    async with db.read_only() as session:
        leaf_ids = [c.id for c in await CategoryRepository(session).list_readable(PUBLIC_VISIBILITY)
                    if c.parent_id is not None]
    run = uuid.uuid4().hex[:8]
    done = 0
    while done < n:
        size = min(batch, n - done)
        async with db.transaction() as session:
            number = await ProductRepository(session).next_number()  # each product's `number`, in turn
            if db.is_sqlite:
                await session.execute(insert(Product), _bulk_rows(run, done, size, leaf_ids, number))
            else:
                await session.execute(text(_BULK_SQL), {"run": run, "start": done + 1, "stop": done + size,
                                                        "number": number,
                                                        "categories": [str(c) for c in leaf_ids]})
            # Their stock is the default location's, as every product's first stock.
            await LocationRepository(session).seed_numbered(number, number + size - 1)
        done += size
        if progress is not None:
            progress(done)
    # VACUUM also sets the visibility map, so list pages can be answered from indexes alone.
    async with db.engine.connect() as connection:
        connection = await connection.execution_options(isolation_level="AUTOCOMMIT")
        await connection.execute(text("ANALYZE" if db.is_sqlite else "VACUUM ANALYZE product"))
    log.info("bulk seed: %s products added", n)
    return n


_BULK_SQL = f"""
INSERT INTO product (id, number, name, slug, sku, description, price, compare_price, currency, stock_quantity,
                     track_inventory, kind, attributes, category_id, is_active, is_featured, rating_avg,
                     review_count, created_at, updated_at)
SELECT gen_random_uuid(),
       CAST(:number AS bigint) + i - CAST(:start AS bigint),
       stone || ' ' || form || ' ' || i,
       'bulk-' || :run || '-' || i,
       'BULK-' || :run || '-' || i,
       'A ' || finish || ' ' || lower(form) || ' in ' || stone || ' stone, item ' || i || '.',
       round((5 + (i * 7919 % 100000) / 100.0)::numeric, 2),
       CASE WHEN i % 7 = 0 THEN round((5 + (i * 7919 % 100000) / 100.0 * 1.2)::numeric, 2) END,
       'USD', i % 60, true, 'physical',
       jsonb_build_object('finish', finish),
       (CAST(:categories AS uuid[]))[1 + i % cardinality(CAST(:categories AS uuid[]))],
       i % 100 <> 0, i % 50 = 0, round(((i % 401) / 100.0 + 1)::numeric, 2), i % 40,
       now() - make_interval(secs => i), now()
FROM (SELECT i,
             ({_sql_array(_STONES)})[1 + i % {len(_STONES)}] AS stone,
             ({_sql_array(_FORMS)})[1 + (i / {len(_STONES)}) % {len(_FORMS)}] AS form,
             ({_sql_array(_FINISHES)})[1 + i % {len(_FINISHES)}] AS finish
      FROM generate_series(CAST(:start AS bigint), CAST(:stop AS bigint)) AS i) AS g
"""


def _bulk_rows(run: str, start: int, size: int, leaf_ids: list[uuid.UUID], number: int) -> list[dict[str, Any]]:
    rng = random.Random(f"{run}-{start}")
    now = utcnow()
    rows = []
    for i in range(start + 1, start + size + 1):
        stone, form = _STONES[i % len(_STONES)], _FORMS[(i // len(_STONES)) % len(_FORMS)]
        finish = _FINISHES[i % len(_FINISHES)]
        price = Decimal(rng.randrange(500, 100_500)) / 100
        rows.append({
            "id": uuid.uuid4(), "number": number + i - start - 1, "name": f"{stone} {form} {i}", "slug": f"bulk-{run}-{i}", "sku": f"BULK-{run}-{i}",
            "description": f"A {finish} {form.lower()} in {stone} stone, item {i}.", "price": price,
            "compare_price": None, "currency": "USD", "stock_quantity": i % 60, "track_inventory": True,
            "kind": ProductKind.PHYSICAL.value, "attributes": {"finish": finish},
            "category_id": leaf_ids[i % len(leaf_ids)] if leaf_ids else None, "is_active": i % 100 != 0,
            "is_featured": i % 50 == 0, "rating_avg": Decimal(i % 401) / 100 + 1, "review_count": i % 40,
            "created_at": now - timedelta(seconds=i), "updated_at": now})
    return rows
