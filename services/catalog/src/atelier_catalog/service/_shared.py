"""What the product use cases share: loading by reference, unique-key conflicts, the event."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping

from sqlalchemy.exc import IntegrityError
from sqlmodel.ext.asyncio.session import AsyncSession

from atelier_catalog import domain, visibility
from atelier_catalog.domain import EVERYTHING
from atelier_catalog.errors import (
    CurrencyNotSold,
    ProductNotFound,
    SkuExists,
    SlugExists,
    StorefrontNotFound,
    UnknownStorefront,
)
from atelier_catalog.models import Product, ProductVariant
from atelier_catalog.repository import ProductFacts, ProductRepository, VariantFacts
from atelier_common import outbox
from atelier_common.auth import Principal
from atelier_common.contracts.catalog import ProductChanged, ProductLowStock
from atelier_common.storefronts import Storefront, StorefrontDirectory
from atelier_common.storefronts import UnknownStorefront as NoSuchStorefront


async def load_product(products: ProductRepository, ref: str, *, staff: Principal | None = None) -> Product:
    """Staff act on any product, active or not; the images and every variant are loaded. With
    `staff`, an API key limited to some storefronts finds only the products of its own
    (`domain.product_in_scope`): another's is not found, as an unknown one."""
    product = await products.get_readable(ref, EVERYTHING)
    if product is None or (staff is not None and not domain.product_in_scope(staff, product.storefronts_key)):
        raise ProductNotFound()
    return product


def check_storefronts_in_scope(staff: Principal | None, slugs: Iterable[str]) -> None:
    """A staff write naming `slugs` (a product's storefronts): an API key limited to some
    storefronts names only its own, and not "every storefront" (no slug) either."""
    if staff is not None and staff.storefronts is not None:
        slugs = list(slugs)
        outside = [slug for slug in slugs if not staff.may_touch(slug)]
        if outside or not slugs:
            raise StorefrontNotFound(f"Storefront not found: {', '.join(outside) or 'every storefront'}")


async def storefronts_key(directory: StorefrontDirectory, slugs: Iterable[str], *, check: bool = True) -> str:
    """The `storefronts_key` of `slugs`, each of them a storefront this process knows (a slug it
    does not know makes it ask identity once): otherwise `UnknownStorefront` (400), before
    anything is written. `check=False` for the demo seed, which runs before identity answers."""
    slugs = list(dict.fromkeys(slugs))
    if check:
        unknown = []
        for slug in slugs:
            try:
                await directory.get(slug)
            except NoSuchStorefront:
                unknown.append(slug)
        if unknown:
            raise UnknownStorefront(details={"storefronts": unknown, "fields": {
                "storefronts": [f"no storefront has the slug {slug!r}" for slug in unknown]}})
    return domain.storefronts_key(slugs)


async def check_sold_in(directory: StorefrontDirectory, slugs: Iterable[str], currency: str) -> None:
    """`CurrencyNotSold` (409), before anything is written, when a storefront of `slugs` (a
    product's scope) does not sell in `currency`: the product would be shown there and could never
    be bought. A slug no storefront has any more is skipped (nothing is shown there). A product
    for every storefront (no slugs) is not judged: the default storefront sells any currency."""
    storefronts = []
    for slug in dict.fromkeys(slugs):
        try:
            storefronts.append(await directory.get(slug))
        except NoSuchStorefront:
            continue
    if unsold := domain.not_selling(currency, storefronts):
        raise CurrencyNotSold(details={
            "currency": currency, "storefronts": {s.slug: s.currency for s in unsold},
            "fields": {"currency": [f"storefront {s.slug!r} sells in {s.currency}" for s in unsold]}})


async def flush_unique(session: AsyncSession) -> None:
    """Flush; a unique-key race lost to another transaction is the same 409 as the pre-check."""
    try:
        await session.flush()
    except IntegrityError as exc:
        message = str(exc.orig).lower()
        if "sku" in message:
            raise SkuExists() from exc
        if "slug" in message:
            raise SlugExists() from exc
        raise


def product_changed(product: Product | ProductFacts, variant: ProductVariant | VariantFacts | None = None, *,
                    category_hidden: bool = False, image_url: str | None, stock_only: bool = False,
                    previous_stock: int | None = None) -> ProductChanged:
    """The event for `product` (or one variant); `is_active` says whether it is on sale now
    (`atelier_catalog.visibility`): a hidden category takes its products off sale. `image_url`:
    `domain.primary_image_url` of its images. `stock_only`: nothing but the stock moved, from
    `previous_stock`."""
    on_sale = visibility.product_sellable(product, category_hidden=category_hidden)
    storefronts = domain.storefronts_of(product.storefronts_key)
    if variant is None:
        return ProductChanged(
            product_id=product.id, name=product.name, slug=product.slug, sku=product.sku, kind=product.kind,
            price=product.price, compare_price=product.compare_price, currency=product.currency,
            stock_quantity=product.stock_quantity, track_inventory=product.track_inventory,
            is_active=on_sale, image_url=image_url, attributes=product.attributes, stock_only=stock_only,
            previous_stock_quantity=previous_stock, storefronts=storefronts, tax_class=product.tax_class)
    return ProductChanged(
        product_id=product.id, variant_id=variant.id, name=product.name, variant_name=variant.name,
        slug=product.slug, sku=variant.sku, kind=product.kind,
        price=domain.effective_price(variant.price, product.price), compare_price=product.compare_price,
        currency=product.currency, stock_quantity=variant.stock_quantity, track_inventory=product.track_inventory,
        is_active=visibility.variant_sellable(variant, product_on_sale=on_sale), image_url=image_url,
        attributes={**product.attributes, **variant.attributes}, stock_only=stock_only,
        previous_stock_quantity=previous_stock, storefronts=storefronts, tax_class=product.tax_class)


async def publish_changes(session: AsyncSession, product: Product, *, with_product: bool = True,
                          variants: Iterable[ProductVariant] = ()) -> None:
    """Queue `catalog.product_changed` in this transaction for the product and/or variants.

    Variants inherit the product's name, price, activity and image, so a product change is
    announced for each of its variants too (carts keep one line per variant).
    """
    hidden = product.id in await ProductRepository(session).hidden_by_category([product.id])
    image_url = domain.primary_image_url(product.images)
    if with_product:
        await outbox.add(session, product_changed(product, category_hidden=hidden, image_url=image_url))
    for variant in variants:
        await outbox.add(session, product_changed(product, variant, category_hidden=hidden, image_url=image_url))


def stock_changes(products: Mapping[uuid.UUID, ProductFacts], variants: Mapping[uuid.UUID, VariantFacts],
                  changed: Iterable[tuple[uuid.UUID, uuid.UUID | None, int]]) -> list[ProductChanged]:
    """`publish_changes`'s events, from plain rows, for the products (variant None) and variants
    whose stock moved (`stock_only`), each `(product, variant, stock before)` in the order the
    transaction moved them (a target's first stock before is its stock before the transaction): by
    product in the order first named, the product first, then its variants in `Product.variants`
    order. Rows not found (a variant deleted meanwhile) are left out."""
    by_product: dict[uuid.UUID, set[uuid.UUID | None]] = {}
    before: dict[tuple[uuid.UUID, uuid.UUID | None], int] = {}
    for product_id, variant_id, stock_before in changed:
        by_product.setdefault(product_id, set()).add(variant_id)
        before.setdefault((product_id, variant_id), stock_before)
    events = []
    for product_id, variant_ids in by_product.items():
        product = products.get(product_id)
        if product is None:
            continue
        hidden, image_url = product.category_hidden, product.image_url
        if None in variant_ids:
            events.append(product_changed(product, category_hidden=hidden, image_url=image_url, stock_only=True,
                                          previous_stock=before[(product_id, None)]))
        named = sorted((variants[v] for v in variant_ids if v is not None and v in variants),
                       key=lambda v: (v.created_at, v.id))
        events.extend(product_changed(product, variant, category_hidden=hidden, image_url=image_url, stock_only=True,
                                      previous_stock=before[(product_id, variant.id)])
                      for variant in named)
    return events


def low_stock_alerts(storefronts: Iterable[Storefront], changes: Iterable[ProductChanged],
                     moves: Iterable[domain.LocationMove] = ()) -> list[ProductLowStock]:
    """`product.low_stock` for each stock change (a `ProductChanged` with its stock before) of an
    active product or variant counting stock, per storefront with a threshold that sells it
    (`Storefront.offers`): for each location whose units it moved (`moves`) and that serves that
    storefront, when they went from above the threshold to at or below it; a change with no
    location named, by its total."""
    by_item: dict[tuple[uuid.UUID, uuid.UUID | None], list[domain.LocationMove]] = {}
    for move in moves:
        by_item.setdefault((move.product_id, move.variant_id), []).append(move)
    events = []
    for change in changes:
        before = change.previous_stock_quantity
        if before is None or not change.track_inventory or not change.is_active:
            continue
        counts: list[tuple[int, int, domain.LocationMove | None]] = [
            (m.before, m.after, m) for m in by_item.get((change.product_id, change.variant_id), [])]
        counts = counts or [(before, change.stock_quantity, None)]
        for storefront in storefronts:
            threshold = storefront.policies.low_stock_threshold
            if threshold is None or not storefront.offers(change.kind, change.storefronts):
                continue
            for was, now, where in counts:
                if where is not None and where.storefront not in ("", storefront.slug):
                    continue
                if domain.crossed_low_stock(was, now, threshold):
                    events.append(ProductLowStock(
                        storefront=storefront.slug, product_id=change.product_id, variant_id=change.variant_id,
                        name=domain.stock_item_name(change.name, change.variant_name), sku=change.sku,
                        stock_quantity=now, previous_stock_quantity=was, threshold=threshold,
                        location_id=where.location_id if where else None, location=where.name if where else None))
    return events


async def announce_low_stock(session: AsyncSession, directory: StorefrontDirectory,
                             changes: Iterable[ProductChanged], moves: Iterable[domain.LocationMove] = ()) -> None:
    """Queue `low_stock_alerts` of `changes` in this transaction, by this process's copy of the
    storefronts (loaded first if it never was: a consumer may start before identity answers)."""
    changes = [change for change in changes if change.previous_stock_quantity is not None]
    if not changes:
        return
    await directory.get()
    for event in low_stock_alerts(directory.all(), changes, moves):
        await outbox.add(session, event)
