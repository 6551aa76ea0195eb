"""Generated images: the owner's list, the public gallery, details, tags, favorites, files."""

from __future__ import annotations

import time
import uuid
from collections.abc import Sequence

import orjson
from sqlmodel.ext.asyncio.session import AsyncSession

from atelier_common.auth import Principal
from atelier_common.cache import remembered
from atelier_common.pagination import PageParams
from atelier_common.service import UseCase
from atelier_generation import domain
from atelier_generation.context import GenerationContext
from atelier_generation.errors import ImageNotFound
from atelier_generation.imaging import CONTENT_TYPES
from atelier_generation.models import GeneratedImage
from atelier_generation.repository import ImageRepository
from atelier_generation.schemas import ImageRead, ImageUpdate
from atelier_generation.service._shared import utcnow
from atelier_generation.service.credits import CreditService

# The cache namespace of the public gallery's pages (the tables feeding it: `app.py`).
GALLERY_CACHE = "generation.gallery"


class ImageService(UseCase[GenerationContext]):
    def __init__(self, session: AsyncSession, context: GenerationContext) -> None:
        super().__init__(session, context)
        self.credits = CreditService(session, context)

    async def _views(self, images: Sequence[GeneratedImage], viewer_id: uuid.UUID | None,
                     tags: dict[uuid.UUID, list[str]] | None = None) -> list[ImageRead]:
        repository = ImageRepository(self.session)
        ids = [image.id for image in images]
        tags = tags if tags is not None else await repository.tags_for(ids)
        favorites = await repository.favorites_among(viewer_id, ids) if viewer_id else set()
        return [ImageRead(id=i.id, url=self.context.url(i.storage_key), thumbnail_url=self.context.url(i.thumbnail_key),
                          job_id=i.job_id, prompt=i.prompt, model=i.model, filters=i.filters, tags=tags[i.id],
                          is_public=i.is_public, is_premium=i.is_premium, is_favorite=i.id in favorites,
                          is_owner=i.owner_id == viewer_id, width=i.width, height=i.height, created_at=i.created_at)
                for i in images]

    async def list_own(self, principal: Principal, tag: str | None,
                       page: PageParams) -> tuple[int, list[ImageRead]]:
        owner_id = principal.owner_id
        count, images = await ImageRepository(self.session).list_for_owner(
            owner_id, domain.parse_tag_list(tag), limit=page.limit, offset=page.offset)
        return count, await self._views(images, owner_id)

    async def gallery(self, principal: Principal, tags: str | None, page: PageParams, *,
                      client_ip: str) -> tuple[int, list[ImageRead]]:
        """Public images; premium ones only for subscribers (S4)."""
        viewer_id = principal.user_id or principal.anon_id
        if principal.user_id is None:
            await self.context.limiter.hit(self.context.settings.gallery_rate_limit_anonymous, "gallery", client_ip)
        subscriber = await self.credits.is_subscriber(principal.user_id)
        tag_list = domain.parse_tag_list(tags)

        async def shared_page() -> bytes:
            # The same for every viewer with this subscription status: the images and their tags.
            repository = ImageRepository(self.session)
            count, images = await repository.list_gallery(tag_list, subscriber=subscriber, limit=page.limit,
                                                          offset=page.offset)
            image_tags = await repository.tags_for([image.id for image in images])
            return orjson.dumps({"count": count, "images": [image.model_dump(mode="json") for image in images],
                                 "tags": {str(k): v for k, v in image_tags.items()}})

        key = f"gallery|{int(subscriber)}|{','.join(tag_list)}|{page.limit}|{page.offset}"
        raw = await remembered(self.context.cache, key, (GALLERY_CACHE,), self.context.settings.cache_ttl_seconds,
                               shared_page)
        cached = orjson.loads(raw)
        images = [GeneratedImage.model_validate(row) for row in cached["images"]]
        image_tags = {uuid.UUID(k): v for k, v in cached["tags"].items()}
        # Which of them are the viewer's own and favourites: per viewer, never from the cache.
        return cached["count"], await self._views(images, viewer_id, image_tags)

    async def get(self, principal: Principal, image_id: uuid.UUID) -> ImageRead:
        """The owner's image, or a public one the caller may see."""
        viewer_id = principal.owner_id
        subscriber = await self.credits.is_subscriber(principal.user_id)
        image = await ImageRepository(self.session).get_visible(image_id, viewer_id, subscriber)
        if image is None:
            raise ImageNotFound()
        return (await self._views([image], viewer_id))[0]

    async def _owned(self, principal: Principal, image_id: uuid.UUID) -> GeneratedImage:
        image = await ImageRepository(self.session).get_for_owner(image_id, principal.owner_id)
        if image is None:
            raise ImageNotFound()
        return image

    async def update(self, principal: Principal, image_id: uuid.UUID,
                     data: ImageUpdate) -> ImageRead:
        image = await self._owned(principal, image_id)
        changes = data.model_dump(exclude_unset=True)
        if "is_public" in changes:
            image.is_public = changes["is_public"]
        if "tags" in changes:
            await ImageRepository(self.session).replace_tags(image.id, changes["tags"])
        await self.session.flush()
        return (await self._views([image], principal.owner_id))[0]

    async def delete(self, principal: Principal, image_id: uuid.UUID) -> None:
        image = await self._owned(principal, image_id)
        await ImageRepository(self.session).delete(image.id)
        await self.session.flush()
        # After the rows: a failure here leaves stray files, never a row pointing at nothing.
        await self.context.storage.delete([image.storage_key, image.thumbnail_key])

    async def toggle_favorite(self, principal: Principal, image_id: uuid.UUID) -> bool:
        """Favorite an image the caller can see, or un-favorite it; whether it is a favorite now."""
        owner_id = principal.owner_id
        subscriber = await self.credits.is_subscriber(principal.user_id)
        images = ImageRepository(self.session)
        if await images.get_visible(image_id, owner_id, subscriber) is None:
            raise ImageNotFound()
        if await images.add_favorite(owner_id, image_id, utcnow()):
            return True
        await images.remove_favorite(owner_id, image_id)
        return False

    async def favorites(self, principal: Principal,
                        page: PageParams) -> tuple[int, list[ImageRead]]:
        owner_id = principal.owner_id
        subscriber = await self.credits.is_subscriber(principal.user_id)
        count, images = await ImageRepository(self.session).list_favorites(owner_id, subscriber, limit=page.limit,
                                                                      offset=page.offset)
        return count, await self._views(images, owner_id)

    async def file(self, key: str, expires: int, signature: str) -> tuple[bytes, str]:
        """The bytes behind a signed URL, and their content type."""
        self.context.signer.verify_asset(key, expires, signature, time.time())
        data = await self.context.storage.get(key)
        return data, CONTENT_TYPES.get(key.rsplit(".", 1)[-1], "application/octet-stream")
