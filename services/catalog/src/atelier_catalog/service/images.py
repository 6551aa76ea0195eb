"""Product images: by URL, or uploaded into the catalog's storage (served at /media/<key>).
One image per product is the primary one."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable

from sqlmodel.ext.asyncio.session import AsyncSession

from atelier_catalog import domain, media
from atelier_catalog.context import CatalogContext
from atelier_catalog.errors import FileTooLarge, ImageNotFound, UnsupportedImage
from atelier_catalog.models import Product, ProductImage
from atelier_catalog.repository import ProductRepository
from atelier_catalog.schemas import ImageCreate, ImageUpdate
from atelier_catalog.service._shared import load_product, publish_changes
from atelier_common.auth import Principal
from atelier_common.service import UseCase


class ImageService(UseCase[CatalogContext]):
    def __init__(self, session: AsyncSession, context: CatalogContext) -> None:
        super().__init__(session, context)
        self.products = ProductRepository(session)

    # With `staff`, an API key limited to some storefronts finds only their products (`load_product`).

    async def add(self, ref: str, data: ImageCreate, *, staff: Principal | None = None) -> ProductImage:
        product = await load_product(self.products, ref, staff=staff)
        image = ProductImage(product_id=product.id, **data.model_dump())
        # A product's first image is its primary one until staff pick another.
        image.is_primary = image.is_primary or not product.images
        self.session.add(image)
        await self.session.flush()
        await self._after_change(product, image)
        return image

    async def upload(self, ref: str, read: Callable[[int], Awaitable[bytes]], *, alt_text: str,
                     is_primary: bool, staff: Principal | None = None) -> ProductImage:
        """Store an uploaded JPEG, PNG or WEBP and add it as an image of the product."""
        product = await load_product(self.products, ref, staff=staff)
        data = await read(self.context.settings.max_image_bytes + 1)  # never more than one byte past the limit
        if len(data) > self.context.settings.max_image_bytes:
            raise FileTooLarge(details={"max_bytes": self.context.settings.max_image_bytes})
        extension = media.sniff(data)
        if extension is None:
            raise UnsupportedImage()
        key = f"products/{product.id}/{uuid.uuid4().hex}.{extension}"
        await self.context.storage.put(key, data, media.content_type(key))
        return await self.add(ref, ImageCreate(url=f"{media.MEDIA_URL}/{key}", alt_text=alt_text, is_primary=is_primary),
                              staff=staff)

    async def file(self, key: str) -> tuple[bytes, str]:
        """A stored product picture and its content type (`StoredFileNotFound` → 404)."""
        if not key.startswith("products/"):
            raise ImageNotFound()
        return await self.context.storage.get(key), media.content_type(key)

    async def update(self, ref: str, image_ref: str, data: ImageUpdate, *,
                     staff: Principal | None = None) -> ProductImage:
        product, image = await self._load(ref, image_ref, staff)
        for name, value in data.changes().items():
            setattr(image, name, value)
        await self.session.flush()
        await self._after_change(product, image)
        return image

    async def remove(self, ref: str, image_ref: str, *, staff: Principal | None = None) -> None:
        product, image = await self._load(ref, image_ref, staff)
        await self.session.delete(image)
        await self.session.flush()
        await self._after_change(product, None)
        # An uploaded file goes with its row (after it: never a row pointing at nothing).
        if (key := media.key_of(image.url)) is not None:
            await self.context.storage.delete([key])

    async def _load(self, ref: str, image_ref: str, staff: Principal | None) -> tuple[Product, ProductImage]:
        product = await load_product(self.products, ref, staff=staff)
        image_id = domain.parse_uuid(image_ref)
        image = next((i for i in product.images if i.id == image_id), None)
        if image is None:
            raise ImageNotFound()
        return product, image

    async def _after_change(self, product: Product, image: ProductImage | None) -> None:
        if image is not None and image.is_primary:
            await self.products.clear_primary_image(product.id, except_id=image.id)
        # The primary image is what carts show, for the product and each of its variants.
        product = await load_product(self.products, str(product.id))
        await publish_changes(self.session, product, variants=product.variants)
