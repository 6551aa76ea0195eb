"""Storybooks (S0): books, their items and versions, and the retry packs applied to them."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, case, delete, func, or_, update
from sqlalchemy import select as sa_select
from sqlmodel import col, select
from sqlmodel.sql.expression import SelectOfScalar

from atelier_generation.models import (
    Book,
    BookItem,
    BookItemVersion,
    GeneratedImage,
    GenerationJob,
    RetryPack,
)
from atelier_generation.repository._base import RepositoryBase


def _book_access(owner_id: uuid.UUID, reader: uuid.UUID | None, client: str | None) -> ColumnElement[bool]:
    """The books `owner_id` owns; with `reader`, also those its claim moved to a user (to read);
    with `client`, only those made from that client or bound to none (an anonymous caller)."""
    who = col(Book.owner_id) == owner_id
    if reader is not None:
        who = or_(who, col(Book.anon_reader_id) == reader)
    if client is not None:
        who = and_(who, or_(col(Book.client_hash).is_(None), col(Book.client_hash) == client))
    return who


class BookRepository(RepositoryBase):
    def readable_statement(self, owner_id: uuid.UUID, *, reader: uuid.UUID | None = None,
                           client: str | None = None) -> SelectOfScalar[Book]:
        return select(Book).where(_book_access(owner_id, reader, client))

    def add(self, book: Book) -> None:
        self.session.add(book)

    async def get_for_owner(self, book_id: uuid.UUID, owner_id: uuid.UUID, *, for_update: bool = False,
                            reader: uuid.UUID | None = None, client: str | None = None) -> Book | None:
        stmt = self.readable_statement(owner_id, reader=reader, client=client).where(col(Book.id) == book_id)
        if for_update and self.is_postgres:
            stmt = stmt.with_for_update()
        elif for_update:
            # SQLite has no row locks: a write as the transaction's first statement takes the
            # database's write lock (writers queue on the busy timeout), so what is read next
            # cannot change before commit. A read first would let two requests both count the
            # same items and the second insert fail on the unique number.
            await self.session.execute(update(Book).where(col(Book.id) == book_id).values(owner_id=Book.owner_id))
        return (await self.session.exec(stmt)).first()

    async def get(self, book_id: uuid.UUID) -> Book | None:
        return (await self.session.exec(select(Book).where(col(Book.id) == book_id))).first()

    async def page_for_owner(self, owner_id: uuid.UUID, *, limit: int, offset: int, reader: uuid.UUID | None = None,
                             client: str | None = None) -> tuple[int, Sequence[Book]]:
        stmt = self.readable_statement(owner_id, reader=reader, client=client)
        count = await self._count(stmt)
        page = stmt.order_by(col(Book.created_at).desc(), col(Book.id)).limit(limit).offset(offset)
        return count, (await self.session.exec(page)).all()

    async def count_for_owner(self, owner_id: uuid.UUID) -> int:
        return await self._count(self.readable_statement(owner_id))

    async def set_print_tier(self, book_id: uuid.UUID, *, tier: str, retries: int, order_id: uuid.UUID,
                             paid_at: datetime, now: datetime) -> bool:
        """Record a paid print order unless a later one is recorded already (events arrive in any order)."""
        stmt = (update(Book)
                .where(col(Book.id) == book_id,
                       or_(col(Book.print_paid_at).is_(None), col(Book.print_paid_at) <= paid_at))
                .values(print_tier=tier, print_retries=retries, print_order_id=order_id, print_paid_at=paid_at,
                        status="ordered", updated_at=now)
                .returning(col(Book.id)))
        return (await self.session.execute(stmt)).scalar_one_or_none() is not None

    async def delete(self, book_id: uuid.UUID) -> None:
        # Items and their versions go with it (ON DELETE CASCADE).
        await self.session.execute(delete(Book).where(col(Book.id) == book_id))

    async def reassign(self, old: uuid.UUID, new: uuid.UUID, now: datetime) -> None:
        # The user's book now; the anonymous id still reads it (`_book_access`).
        await self.session.execute(update(Book).where(col(Book.owner_id) == old)
                                   .values(owner_id=new, anonymous=False, anon_reader_id=old, claimed_at=now))

    async def forget_readers(self, claimed_before: datetime, limit: int) -> int:
        """Clear the anonymous reader and the client of up to `limit` books claimed before
        `claimed_before` (their anonymous tokens have expired): how many."""
        picked = sa_select(col(Book.id)).where(col(Book.claimed_at) < claimed_before).limit(limit)
        stmt = (update(Book).where(col(Book.id).in_(picked))
                .values(anon_reader_id=None, client_hash=None, claimed_at=None).returning(col(Book.id)))
        return len((await self.session.execute(stmt)).all())

    async def delete_untouched_anonymous(self, untouched_since: datetime, limit: int) -> tuple[int, list[str]]:
        """Delete up to `limit` anonymous books none of whose parts changed since `untouched_since`
        and on which no money was spent (no paid print, no retry pack applied), with their items,
        versions and the versions' jobs; books a writer holds are skipped (PostgreSQL). How many
        rows went, and the storage keys of the illustrations, to delete once this is committed."""
        touched_item = sa_select(col(BookItem.id)).where(col(BookItem.book_id) == col(Book.id),
                                                     col(BookItem.updated_at) >= untouched_since).exists()
        versions_of = (sa_select(col(BookItemVersion.id)).join(BookItem, col(BookItem.id) == col(BookItemVersion.item_id))
                       .where(col(BookItem.book_id) == col(Book.id)))
        recent_version = versions_of.where(col(BookItemVersion.created_at) >= untouched_since).exists()
        packed = (sa_select(col(RetryPack.order_id)).join(BookItem, col(BookItem.id) == col(RetryPack.applied_item_id))
                  .where(col(BookItem.book_id) == col(Book.id)).exists())
        picked = (sa_select(col(Book.id))
                  .where(col(Book.anonymous).is_(True), col(Book.updated_at) < untouched_since,
                         col(Book.print_paid_at).is_(None), ~touched_item, ~recent_version, ~packed)
                  .limit(limit))
        if self.is_postgres:
            picked = picked.with_for_update(of=Book, skip_locked=True)
        book_ids = list((await self.session.execute(picked)).scalars().all())
        if not book_ids:
            return 0, []
        items = sa_select(col(BookItem.id)).where(col(BookItem.book_id).in_(book_ids))
        versions = (await self.session.execute(
            sa_select(col(BookItemVersion.id), col(BookItemVersion.image_key), col(BookItemVersion.thumbnail_key))
            .where(col(BookItemVersion.item_id).in_(items)))).all()
        job_ids = [row[0] for row in versions]
        keys = [key for row in versions for key in row[1:] if key]
        if job_ids:
            images = sa_select(col(GeneratedImage.storage_key), col(GeneratedImage.thumbnail_key)).where(
                col(GeneratedImage.job_id).in_(job_ids))
            keys += [key for row in (await self.session.execute(images)).all() for key in row if key]
            await self.session.execute(delete(GenerationJob).where(col(GenerationJob.id).in_(job_ids)))
        removed_items = (await self.session.execute(
            sa_select(func.count()).select_from(BookItem).where(col(BookItem.book_id).in_(book_ids)))).scalar_one()
        await self.session.execute(delete(Book).where(col(Book.id).in_(book_ids)))  # items cascade
        return len(book_ids) + int(removed_items) + len(job_ids), keys

    async def delete_for(self, owner_id: uuid.UUID) -> None:
        await self.session.execute(delete(Book).where(col(Book.owner_id) == owner_id))


class BookItemRepository(RepositoryBase):
    def add(self, item: BookItem) -> None:
        self.session.add(item)

    async def get_for_owner(self, item_id: uuid.UUID, owner_id: uuid.UUID, content_type: str, *,
                            book_id: uuid.UUID | None = None, reader: uuid.UUID | None = None,
                            client: str | None = None) -> tuple[BookItem, Book] | None:
        """The item with its book, when the book is the owner's (and is `book_id`, when given)."""
        stmt = (select(BookItem, Book).join(Book, col(Book.id) == col(BookItem.book_id))
                .where(col(BookItem.id) == item_id, col(BookItem.content_type) == content_type,
                       _book_access(owner_id, reader, client))
                .execution_options(populate_existing=True))
        if book_id is not None:
            stmt = stmt.where(col(BookItem.book_id) == book_id)
        row = (await self.session.exec(stmt)).first()
        return None if row is None else (row[0], row[1])

    async def cover(self, book_id: uuid.UUID) -> BookItem | None:
        stmt = (select(BookItem).where(col(BookItem.book_id) == book_id, col(BookItem.content_type) == "COVER")
                .execution_options(populate_existing=True))
        return (await self.session.exec(stmt)).first()

    async def add_cover_once(self, cover: BookItem) -> None:
        """Insert the book's cover unless it has one (the unique (book, type, number) decides)."""
        values = cover.model_dump()
        await self.session.execute(self.insert(BookItem).values(**values).on_conflict_do_nothing(
            index_elements=["book_id", "content_type", "number"]))

    def _of_book(self, book_id: uuid.UUID, content_type: str) -> SelectOfScalar[BookItem]:
        return select(BookItem).where(col(BookItem.book_id) == book_id, col(BookItem.content_type) == content_type)

    async def page_of_book(self, book_id: uuid.UUID, content_type: str, *, limit: int,
                           offset: int) -> tuple[int, Sequence[BookItem]]:
        stmt = self._of_book(book_id, content_type)
        count = await self._count(stmt)
        page = stmt.order_by(col(BookItem.number), col(BookItem.id)).limit(limit).offset(offset)
        return count, (await self.session.exec(page)).all()

    async def all_of_book(self, book_id: uuid.UUID) -> Sequence[BookItem]:
        stmt = (select(BookItem).where(col(BookItem.book_id) == book_id)
                .order_by(col(BookItem.content_type), col(BookItem.number)))
        return (await self.session.exec(stmt)).all()

    async def count_of_book(self, book_id: uuid.UUID, content_type: str) -> int:
        return await self._count(self._of_book(book_id, content_type))

    async def next_number(self, book_id: uuid.UUID, content_type: str) -> int:
        stmt = (sa_select(func.coalesce(func.max(BookItem.number), 0))
                .where(col(BookItem.book_id) == book_id, col(BookItem.content_type) == content_type))
        return int((await self.session.execute(stmt)).scalar_one()) + 1

    async def number_taken(self, book_id: uuid.UUID, content_type: str, number: int,
                           except_id: uuid.UUID | None = None) -> bool:
        stmt = self._of_book(book_id, content_type).where(col(BookItem.number) == number)
        if except_id is not None:
            stmt = stmt.where(col(BookItem.id) != except_id)
        return (await self.session.exec(stmt)).first() is not None

    async def take_first_version(self, item_id: uuid.UUID, now: datetime) -> int | None:
        """Version 1 of an item that has none yet (free); None when another request took it."""
        stmt = (update(BookItem).where(col(BookItem.id) == item_id, col(BookItem.versions_made) == 0)
                .values(versions_made=1, updated_at=now).returning(col(BookItem.versions_made)))
        return (await self.session.execute(stmt)).scalar_one_or_none()

    async def spend_retry(self, item_id: uuid.UUID, base: int, now: datetime) -> int | None:
        """One retry spent and the next version number taken, in one guarded UPDATE: the version
        number, or None when the allowance (`base` + packs) is used up. Parallel calls queue on
        the row, so each retry is spent once and each number handed out once."""
        stmt = (update(BookItem)
                .where(col(BookItem.id) == item_id, col(BookItem.retries_used) < col(BookItem.retries_extra) + base)
                .values(retries_used=BookItem.retries_used + 1, versions_made=BookItem.versions_made + 1,
                        updated_at=now)
                .returning(col(BookItem.versions_made)))
        return (await self.session.execute(stmt)).scalar_one_or_none()

    async def return_retry(self, item_id: uuid.UUID, now: datetime) -> None:
        await self.session.execute(update(BookItem).where(col(BookItem.id) == item_id, col(BookItem.retries_used) > 0)
                                   .values(retries_used=BookItem.retries_used - 1, updated_at=now))

    async def add_retries(self, item_id: uuid.UUID, retries: int, now: datetime) -> None:
        await self.session.execute(update(BookItem).where(col(BookItem.id) == item_id)
                                   .values(retries_extra=BookItem.retries_extra + retries, updated_at=now))

    async def select_version(self, item_id: uuid.UUID, version_id: uuid.UUID | None, now: datetime, *,
                             only_if_none: bool = False) -> None:
        conditions = [col(BookItem.id) == item_id]
        if only_if_none:
            conditions.append(col(BookItem.selected_version_id).is_(None))
        await self.session.execute(update(BookItem).where(*conditions)
                                   .values(selected_version_id=version_id, updated_at=now))

    async def delete(self, item_id: uuid.UUID) -> None:
        await self.session.execute(delete(BookItem).where(col(BookItem.id) == item_id))


@dataclass(frozen=True)
class BookFigures:
    """What a book's items add up to (S0 shows them on the book)."""

    pages: int = 0
    cover_version_id: uuid.UUID | None = None
    images_made: int = 0
    last_generation_at: datetime | None = None


# A version not deleted by its owner (a deleted one is only kept when a paid print used it).
_SHOWN = col(BookItemVersion.deleted_at).is_(None)


class VersionRepository(RepositoryBase):
    """Versions with their jobs (a version is a job of kind `storybook`)."""

    async def figures_of_books(self, book_ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, BookFigures]:
        """Pages, the cover's selected version, finished pictures and the latest version of each
        book: three grouped queries for any number of books."""
        ids = list(book_ids)
        if not ids:
            return {}
        in_books = col(BookItem.book_id).in_(ids)
        pages = dict((await self.session.execute(
            sa_select(col(BookItem.book_id), func.count()).where(in_books, col(BookItem.content_type) == "PAGE")
            .group_by(col(BookItem.book_id)))).tuples().all())
        covers = dict((await self.session.execute(
            sa_select(col(BookItem.book_id), col(BookItem.selected_version_id))
            .where(in_books, col(BookItem.content_type) == "COVER"))).tuples().all())
        made = func.sum(case((col(GenerationJob.status) == "completed", 1), else_=0))
        versions = {book_id: (count, latest) for book_id, count, latest in (await self.session.execute(
            sa_select(col(BookItem.book_id), made, func.max(col(BookItemVersion.created_at)))
            .join(BookItem, col(BookItem.id) == col(BookItemVersion.item_id))
            .join(GenerationJob, col(GenerationJob.id) == col(BookItemVersion.id))
            .where(in_books).group_by(col(BookItem.book_id)))).tuples().all()}
        return {book_id: BookFigures(pages=pages.get(book_id, 0), cover_version_id=covers.get(book_id),
                                     images_made=int(versions.get(book_id, (0, None))[0] or 0),
                                     last_generation_at=versions.get(book_id, (0, None))[1])
                for book_id in ids}

    def add(self, version: BookItemVersion) -> None:
        self.session.add(version)

    def _with_job(self) -> Any:
        return (select(BookItemVersion, GenerationJob)
                .join(GenerationJob, col(GenerationJob.id) == col(BookItemVersion.id))
                .execution_options(populate_existing=True))

    async def get(self, version_id: uuid.UUID, item_id: uuid.UUID, *,
                  deleted: bool = False) -> tuple[BookItemVersion, GenerationJob] | None:
        """A version of the item; a deleted one (kept for a paid print) only with `deleted`."""
        stmt = self._with_job().where(col(BookItemVersion.id) == version_id, col(BookItemVersion.item_id) == item_id)
        if not deleted:
            stmt = stmt.where(_SHOWN)
        row = (await self.session.exec(stmt)).first()
        return None if row is None else (row[0], row[1])

    async def by_id(self, version_id: uuid.UUID) -> BookItemVersion | None:
        return await self.session.get(BookItemVersion, version_id)

    async def page_of_item(self, item_id: uuid.UUID, *, limit: int,
                           offset: int) -> tuple[int, list[tuple[BookItemVersion, GenerationJob]]]:
        stmt = self._with_job().where(col(BookItemVersion.item_id) == item_id, _SHOWN)
        count = await self._count(select(BookItemVersion).where(col(BookItemVersion.item_id) == item_id, _SHOWN))
        page = stmt.order_by(col(BookItemVersion.version_number)).limit(limit).offset(offset)
        return count, [(row[0], row[1]) for row in (await self.session.exec(page)).all()]

    async def latest_of(self, item_ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, tuple[BookItemVersion, GenerationJob]]:
        """Each item's newest version, for a page of items in one query."""
        ids = list(item_ids)
        if not ids:
            return {}
        newest = (sa_select(col(BookItemVersion.item_id), func.max(BookItemVersion.version_number).label("number"))
                  .where(col(BookItemVersion.item_id).in_(ids), _SHOWN).group_by(col(BookItemVersion.item_id))
                  .subquery())
        stmt = self._with_job().join(newest, and_(newest.c.item_id == col(BookItemVersion.item_id),
                                                  newest.c.number == col(BookItemVersion.version_number)))
        return {row[0].item_id: (row[0], row[1]) for row in (await self.session.exec(stmt)).all()}

    async def among(self, version_ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, tuple[BookItemVersion, GenerationJob]]:
        ids = [i for i in version_ids if i is not None]
        if not ids:
            return {}
        stmt = self._with_job().where(col(BookItemVersion.id).in_(ids))
        return {row[0].id: (row[0], row[1]) for row in (await self.session.exec(stmt)).all()}

    async def successor(self, item_id: uuid.UUID, deleted: BookItemVersion) -> uuid.UUID | None:
        """What the item shows once `deleted` goes: the finished version before it, else the newest
        finished one after it; None when no finished version is left."""
        finished = (select(BookItemVersion.id)
                    .join(GenerationJob, col(GenerationJob.id) == col(BookItemVersion.id))
                    .where(col(BookItemVersion.item_id) == item_id, col(BookItemVersion.id) != deleted.id, _SHOWN,
                           col(GenerationJob.status) == "completed"))
        before = finished.where(col(BookItemVersion.version_number) < deleted.version_number)
        for stmt in (before, finished):
            found = (await self.session.exec(stmt.order_by(col(BookItemVersion.version_number).desc()).limit(1))).first()
            if found is not None:
                return found
        return None

    async def mark_deleted(self, version_id: uuid.UUID, now: datetime) -> None:
        await self.session.execute(update(BookItemVersion).where(col(BookItemVersion.id) == version_id)
                                   .values(deleted_at=now))

    async def delete_job(self, version_id: uuid.UUID) -> None:
        """The version's job (the version goes with it, ON DELETE CASCADE)."""
        await self.session.execute(delete(GenerationJob).where(col(GenerationJob.id) == version_id))

    async def set_image(self, version_id: uuid.UUID, *, key: str, thumbnail_key: str, width: int,
                        height: int) -> None:
        await self.session.execute(update(BookItemVersion).where(col(BookItemVersion.id) == version_id)
                                   .values(image_key=key, thumbnail_key=thumbnail_key, width=width, height=height))

    async def keys_of_items(self, item_ids: Iterable[uuid.UUID]) -> list[str]:
        ids = list(item_ids)
        if not ids:
            return []
        stmt = sa_select(col(BookItemVersion.image_key), col(BookItemVersion.thumbnail_key)).where(
            col(BookItemVersion.item_id).in_(ids))
        references = sa_select(col(BookItem.reference_key)).where(col(BookItem.id).in_(ids))
        return [key for row in (await self.session.execute(stmt)).all() for key in row if key] + [
            key for key in (await self.session.execute(references)).scalars().all() if key]

    async def keys_of_owner(self, owner_id: uuid.UUID) -> list[str]:
        stmt = (sa_select(col(BookItemVersion.image_key), col(BookItemVersion.thumbnail_key))
                .join(BookItem, col(BookItem.id) == col(BookItemVersion.item_id))
                .join(Book, col(Book.id) == col(BookItem.book_id)).where(col(Book.owner_id) == owner_id))
        references = (sa_select(col(BookItem.reference_key))
                      .join(Book, col(Book.id) == col(BookItem.book_id)).where(col(Book.owner_id) == owner_id))
        return [key for row in (await self.session.execute(stmt)).all() for key in row if key] + [
            key for key in (await self.session.execute(references)).scalars().all() if key]

    async def delete_jobs_of_items(self, item_ids: Iterable[uuid.UUID]) -> None:
        """The versions' jobs (the versions go with them, ON DELETE CASCADE)."""
        ids = list(item_ids)
        if ids:
            versions = sa_select(col(BookItemVersion.id)).where(col(BookItemVersion.item_id).in_(ids))
            await self.session.execute(delete(GenerationJob).where(col(GenerationJob.id).in_(versions)))


class RetryPackRepository(RepositoryBase):
    async def add_once(self, pack: RetryPack) -> None:
        """Record a paid pack line, once per (order, product) whichever path sees it first."""
        await self.session.execute(self.insert(RetryPack).values(**pack.model_dump())
                                   .on_conflict_do_nothing(index_elements=["order_id", "product_id"]))

    async def of_order(self, order_id: uuid.UUID) -> Sequence[RetryPack]:
        stmt = (select(RetryPack).where(col(RetryPack.order_id) == order_id).order_by(col(RetryPack.product_id))
                .execution_options(populate_existing=True))
        return (await self.session.exec(stmt)).all()

    async def apply(self, order_id: uuid.UUID, product_id: uuid.UUID, item_id: uuid.UUID, now: datetime) -> int | None:
        """Mark an unused pack applied to the item; the retries it adds, or None if it was used."""
        stmt = (update(RetryPack)
                .where(col(RetryPack.order_id) == order_id, col(RetryPack.product_id) == product_id,
                       col(RetryPack.applied_item_id).is_(None))
                .values(applied_item_id=item_id, applied_at=now).returning(col(RetryPack.retries)))
        return (await self.session.execute(stmt)).scalar_one_or_none()

    async def reassign(self, old: uuid.UUID, new: uuid.UUID) -> None:
        await self.session.execute(update(RetryPack).where(col(RetryPack.owner_id) == old).values(owner_id=new))

    async def delete_for(self, owner_id: uuid.UUID) -> None:
        await self.session.execute(delete(RetryPack).where(col(RetryPack.owner_id) == owner_id))
