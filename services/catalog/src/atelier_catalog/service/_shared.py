"""What the product use cases share: loading by reference, unique-key conflicts, the event."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy.exc import IntegrityError
from sqlmodel.ext.asyncio.session import AsyncSession

from atelier_catalog import domain, visibility
from atelier_catalog.domain import EVERYTHING
from atelier_catalog.errors import ProductNotFound, SkuExists, SlugExists
from atelier_catalog.models import Product, ProductVariant
from atelier_catalog.repository import ProductRepository
from atelier_common import outbox
from atelier_common.contracts.catalog import ProductChanged


async def load_product(products: ProductRepository, ref: str) -> Product:
    """Staff act on any product, active or not; the images and every variant are loaded."""
    product = await products.get_readable(ref, EVERYTHING)
    if product is None:
        raise ProductNotFound()
    return product


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


def product_changed(product: Product, variant: ProductVariant | None = None, *,
                    category_hidden: bool = False) -> ProductChanged:
    """The event for `product` (or one variant); `is_active` says whether it is on sale now
    (`atelier_catalog.visibility`): a hidden category takes its products off sale."""
    on_sale = visibility.product_sellable(product, category_hidden=category_hidden)
    image_url = domain.primary_image_url(product.images)
    if variant is None:
        return ProductChanged(
            product_id=product.id, name=product.name, slug=product.slug, sku=product.sku, kind=product.kind,
            price=product.price, compare_price=product.compare_price, currency=product.currency,
            stock_quantity=product.stock_quantity, track_inventory=product.track_inventory,
            is_active=on_sale, image_url=image_url, attributes=product.attributes)
    return ProductChanged(
        product_id=product.id, variant_id=variant.id, name=product.name, variant_name=variant.name,
        slug=product.slug, sku=variant.sku, kind=product.kind,
        price=domain.effective_price(variant.price, product.price), compare_price=product.compare_price,
        currency=product.currency, stock_quantity=variant.stock_quantity, track_inventory=product.track_inventory,
        is_active=visibility.variant_sellable(variant, product_on_sale=on_sale), image_url=image_url,
        attributes={**product.attributes, **variant.attributes})


async def publish_changes(session: AsyncSession, product: Product, *, with_product: bool = True,
                          variants: Iterable[ProductVariant] = ()) -> None:
    """Queue `catalog.product_changed` in this transaction for the product and/or variants.

    Variants inherit the product's name, price, activity and image, so a product change is
    announced for each of its variants too (carts keep one line per variant).
    """
    hidden = product.id in await ProductRepository(session).hidden_by_category([product.id])
    if with_product:
        await outbox.add(session, product_changed(product, category_hidden=hidden))
    for variant in variants:
        await outbox.add(session, product_changed(product, variant, category_hidden=hidden))
