"""Generated images, their tags and favorites, and the public gallery."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from datetime import datetime

from sqlalchemy import ColumnElement, and_, delete, false, func, or_, true, update
from sqlalchemy import select as sa_select
from sqlmodel import col, select
from sqlmodel.sql.expression import SelectOfScalar

from atelier_generation.models import (
    GeneratedImage,
    ImageFavorite,
    ImageTag,
)
from atelier_generation.repository._base import RepositoryBase


class ImageRepository(RepositoryBase):
    def readable_statement(self, owner_id: uuid.UUID) -> SelectOfScalar[GeneratedImage]:
        return select(GeneratedImage).where(col(GeneratedImage.owner_id) == owner_id)

    @staticmethod
    def _visible(viewer_id: uuid.UUID | None, subscriber: bool) -> ColumnElement[bool]:
        """Own images, and public ones (premium ones for subscribers only)."""
        public = and_(col(GeneratedImage.is_public) == true(),
                      true() if subscriber else col(GeneratedImage.is_premium) == false())
        if viewer_id is None:
            return public
        return or_(col(GeneratedImage.owner_id) == viewer_id, public)

    @staticmethod
    def _with_tags(stmt: SelectOfScalar[GeneratedImage], tags: Sequence[str]) -> SelectOfScalar[GeneratedImage]:
        """Images carrying every one of `tags`."""
        if not tags:
            return stmt
        tagged = (sa_select(col(ImageTag.image_id)).where(col(ImageTag.tag).in_(tags)).group_by(col(ImageTag.image_id))
                  .having(func.count(func.distinct(ImageTag.tag)) == len(tags)))
        return stmt.where(col(GeneratedImage.id).in_(tagged))

    async def _page(self, stmt: SelectOfScalar[GeneratedImage], limit: int,
                    offset: int) -> tuple[int, Sequence[GeneratedImage]]:
        count = await self._count(stmt)
        page = stmt.order_by(col(GeneratedImage.created_at).desc(), col(GeneratedImage.id)).limit(limit).offset(offset)
        return count, (await self.session.exec(page)).all()

    async def get_for_owner(self, image_id: uuid.UUID, owner_id: uuid.UUID) -> GeneratedImage | None:
        stmt = self.readable_statement(owner_id).where(col(GeneratedImage.id) == image_id)
        return (await self.session.exec(stmt)).first()

    async def get_visible(self, image_id: uuid.UUID, viewer_id: uuid.UUID | None,
                          subscriber: bool) -> GeneratedImage | None:
        stmt = select(GeneratedImage).where(col(GeneratedImage.id) == image_id, self._visible(viewer_id, subscriber))
        return (await self.session.exec(stmt)).first()

    async def list_for_owner(self, owner_id: uuid.UUID, tags: Sequence[str], *, limit: int,
                             offset: int) -> tuple[int, Sequence[GeneratedImage]]:
        return await self._page(self._with_tags(self.readable_statement(owner_id), tags), limit, offset)

    async def list_gallery(self, tags: Sequence[str], *, subscriber: bool, limit: int,
                           offset: int) -> tuple[int, Sequence[GeneratedImage]]:
        stmt = select(GeneratedImage).where(self._visible(None, subscriber))
        return await self._page(self._with_tags(stmt, tags), limit, offset)

    async def list_favorites(self, owner_id: uuid.UUID, subscriber: bool, *, limit: int,
                             offset: int) -> tuple[int, Sequence[GeneratedImage]]:
        stmt = (select(GeneratedImage).join(ImageFavorite, col(ImageFavorite.image_id) == col(GeneratedImage.id))
                .where(col(ImageFavorite.owner_id) == owner_id, self._visible(owner_id, subscriber)))
        count = await self._count(stmt)
        page = stmt.order_by(col(ImageFavorite.created_at).desc(), col(GeneratedImage.id)).limit(limit).offset(offset)
        return count, (await self.session.exec(page)).all()

    async def for_job(self, job_id: uuid.UUID) -> Sequence[GeneratedImage]:
        stmt = select(GeneratedImage).where(col(GeneratedImage.job_id) == job_id).order_by(col(GeneratedImage.id))
        return (await self.session.exec(stmt)).all()

    async def tags_for(self, image_ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, list[str]]:
        ids = list(image_ids)
        tags: dict[uuid.UUID, list[str]] = {image_id: [] for image_id in ids}
        if ids:
            stmt = sa_select(col(ImageTag.image_id), col(ImageTag.tag)).where(col(ImageTag.image_id).in_(ids)).order_by(
                col(ImageTag.tag))
            for image_id, tag in (await self.session.execute(stmt)).all():
                tags[image_id].append(tag)
        return tags

    async def favorites_among(self, owner_id: uuid.UUID, image_ids: Iterable[uuid.UUID]) -> set[uuid.UUID]:
        ids = list(image_ids)
        if not ids:
            return set()
        stmt = sa_select(col(ImageFavorite.image_id)).where(col(ImageFavorite.owner_id) == owner_id,
                                                       col(ImageFavorite.image_id).in_(ids))
        return set((await self.session.execute(stmt)).scalars().all())

    async def add_all(self, images: Sequence[GeneratedImage], tags: dict[uuid.UUID, list[str]]) -> None:
        self.session.add_all(images)
        await self.session.flush()
        self.session.add_all([ImageTag(image_id=image_id, tag=tag) for image_id, names in tags.items()
                              for tag in names])

    async def replace_tags(self, image_id: uuid.UUID, tags: Sequence[str]) -> None:
        await self.session.execute(delete(ImageTag).where(col(ImageTag.image_id) == image_id))
        self.session.add_all([ImageTag(image_id=image_id, tag=tag) for tag in tags])

    async def add_favorite(self, owner_id: uuid.UUID, image_id: uuid.UUID, now: datetime) -> bool:
        stmt = (self.insert(ImageFavorite).values(owner_id=owner_id, image_id=image_id, created_at=now)
                .on_conflict_do_nothing(index_elements=["owner_id", "image_id"]).returning(col(ImageFavorite.image_id)))
        return (await self.session.execute(stmt)).scalar_one_or_none() is not None

    async def remove_favorite(self, owner_id: uuid.UUID, image_id: uuid.UUID) -> None:
        await self.session.execute(delete(ImageFavorite).where(col(ImageFavorite.owner_id) == owner_id,
                                                               col(ImageFavorite.image_id) == image_id))

    async def delete(self, image_id: uuid.UUID) -> None:
        # Tags and favorites go with it (ON DELETE CASCADE).
        await self.session.execute(delete(GeneratedImage).where(col(GeneratedImage.id) == image_id))

    async def keys_for_owner(self, owner_id: uuid.UUID) -> list[str]:
        stmt = sa_select(col(GeneratedImage.storage_key), col(GeneratedImage.thumbnail_key)).where(
            col(GeneratedImage.owner_id) == owner_id)
        return [key for row in (await self.session.execute(stmt)).all() for key in row]

    async def reassign(self, old: uuid.UUID, new: uuid.UUID, now: datetime) -> None:
        await self.session.execute(update(GeneratedImage).where(col(GeneratedImage.owner_id) == old)
                                   .values(owner_id=new))
        favorites = sa_select(col(ImageFavorite.image_id)).where(col(ImageFavorite.owner_id) == old)
        for image_id in (await self.session.execute(favorites)).scalars().all():
            await self.add_favorite(new, image_id, now)
        await self.delete_favorites_of(old)

    async def delete_favorites_of(self, owner_id: uuid.UUID) -> None:
        await self.session.execute(delete(ImageFavorite).where(col(ImageFavorite.owner_id) == owner_id))
