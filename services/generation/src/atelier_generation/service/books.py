"""Storybooks (S0): books, their characters, cover and pages, and each item's versions.

Every read goes through the owner's book: another owner's book, item or version is not found.
An anonymous owner may have one book, one character in it and the cover's first version; pages
and regenerations need an account (the routes ask for a user; the rules here say 403).

A version is a job of kind `storybook` on the worker path of /generation/jobs (same progress
stream, same failure handling) and shares the job's id. An item's first version is free; each
later one spends a retry of the item's allowance in the same guarded UPDATE that hands out its
number, so parallel regenerations never overspend and never share a number. A failed job gives
its retry back (`version_failed`, called by the worker).
"""

from __future__ import annotations

import asyncio
import secrets
import uuid
from collections.abc import Sequence
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from atelier_common import outbox
from atelier_common.auth import Principal
from atelier_common.contracts.generation import JobRequested
from atelier_common.contracts.identity import DEFAULT_STOREFRONT
from atelier_common.errors import RateLimited
from atelier_common.pagination import PageParams
from atelier_common.service import UseCase
from atelier_generation import domain, imaging
from atelier_generation.context import GenerationContext, is_external
from atelier_generation.domain import ContentType, JobKind, JobStatus
from atelier_generation.errors import (
    AnonymousLimit,
    BookNotFound,
    CharacterTaken,
    ItemNotFound,
    NumberTaken,
    RetryLimit,
    TooManyItems,
    VersionInProgress,
    VersionNotFound,
    VersionNotReady,
)
from atelier_generation.models import Book, BookItem, BookItemVersion, GenerationJob
from atelier_generation.repository import (
    BookItemRepository,
    BookRepository,
    JobRepository,
    VersionRepository,
    WalletRepository,
)
from atelier_generation.schemas import (
    BookCreate,
    BookItemOwnership,
    BookOwnership,
    BookRead,
    CharacterCreate,
    CharacterRead,
    CoverRead,
    ItemRead,
    PageCreate,
    PageRead,
    RetryAllowanceRead,
    VersionCreate,
    VersionRead,
)
from atelier_generation.service._shared import Reader, read_limited, utcnow

# Anonymous visitors (S0): one book, one character in it.
ANONYMOUS_BOOKS = 1
ANONYMOUS_CHARACTERS = 1

VersionRow = tuple[BookItemVersion, GenerationJob]


class BookService(UseCase[GenerationContext]):
    def __init__(self, session: AsyncSession, context: GenerationContext, *, client: str | None = None,
                 address: str | None = None, storefront: str = DEFAULT_STOREFRONT) -> None:
        """`client`: the caller's client (`UrlSigner.client_hash`), to which an anonymous owner's
        books are bound, and `address` its network address, which bounds the free illustrations
        anonymous owners start from it; both None where no request is served (events, the worker).
        `storefront`: the request's, which the books and illustration jobs it makes carry."""
        super().__init__(session, context)
        self.client = client
        self.address = address
        self.storefront = storefront
        self.books = BookRepository(session)
        self.items = BookItemRepository(session)
        self.versions = VersionRepository(session)

    # -- books ---------------------------------------------------------------------------------

    async def page(self, principal: Principal, page: PageParams) -> tuple[int, list[BookRead]]:
        count, books = await self.books.page_for_owner(principal.owner_id, limit=page.limit, offset=page.offset,
                                                       **self._access(principal, reading=True))
        return count, await self.views(books)

    async def views(self, books: Sequence[Book]) -> list[BookRead]:
        figures = await self.versions.figures_of_books(book.id for book in books)
        return [BookRead.model_validate({**book.model_dump(), "page_count": figures[book.id].pages,
                                         "cover_version_id": figures[book.id].cover_version_id,
                                         "images_made": figures[book.id].images_made,
                                         "last_generation_at": figures[book.id].last_generation_at})
                for book in books]

    async def view(self, book: Book) -> BookRead:
        return (await self.views([book]))[0]

    async def create(self, principal: Principal, data: BookCreate) -> Book:
        owner_id, now = principal.owner_id, utcnow()
        if not principal.is_authenticated:
            # Per-owner limits are checked under the owner's row: two parallel creates make one book.
            await WalletRepository(self.session).lock(owner_id, now)
            # One per anonymous owner; what a fresh token could get for free is bounded per
            # address where it costs, at each free illustration (`_charge_free_job`).
            if await self.books.count_for_owner(owner_id) >= ANONYMOUS_BOOKS:
                raise self._book_limit()
        anonymous = not principal.is_authenticated
        book = Book(owner_id=owner_id, **data.model_dump(), anonymous=anonymous, storefront=self.storefront,
                    client_hash=self.client if anonymous else None, created_at=now, updated_at=now)
        self.books.add(book)
        await self.session.flush()
        return book

    async def _charge_free_job(self) -> None:
        """A free illustration an anonymous owner starts counts against its address's hourly
        budget (`anonymous_free_jobs_per_ip`): one visitor's book, or a household's, fits in it
        many times; a script minting a token per book does not get past it."""
        if self.address is None:
            return
        try:
            await self.context.limiter.hit(self.context.settings.anonymous_free_jobs_per_ip,
                                           "anonymous-free-jobs", self.address)
        except RateLimited as exc:
            raise RateLimited("Sign in to go on: the free illustrations from this network are used up for now",
                              details={**exc.details, "limit": "anonymous_free_jobs"}, headers=exc.headers) from None

    @staticmethod
    def _book_limit() -> AnonymousLimit:
        return AnonymousLimit("Sign in to make another book: an anonymous visitor has one",
                              details={"limit": "books", "max": ANONYMOUS_BOOKS})

    def _access(self, principal: Principal, *, reading: bool = False) -> dict[str, Any]:
        """Which books the caller reaches: an anonymous caller only from its client (S0), and to
        read, also the books its claimed identity made (the guest keeps seeing what it bought)."""
        if principal.is_authenticated:
            return {}
        return {"client": self.client, "reader": principal.anon_id if reading else None}

    async def book(self, principal: Principal, book_id: uuid.UUID, *, for_update: bool = False,
                   reading: bool = False) -> Book:
        book = await self.books.get_for_owner(book_id, principal.owner_id, for_update=for_update,
                                              **self._access(principal, reading=reading))
        if book is None:
            raise BookNotFound()
        return book

    async def get(self, principal: Principal, book_id: uuid.UUID) -> Book:
        return await self.book(principal, book_id, reading=True)

    async def update(self, principal: Principal, book_id: uuid.UUID, changes: dict[str, Any]) -> Book:
        book = await self.book(principal, book_id)
        for field, value in changes.items():
            if value is not None:  # PATCH: null leaves a field as it is
                setattr(book, field, value)
        book.updated_at = utcnow()
        await self.session.flush()
        return book

    async def delete(self, principal: Principal, book_id: uuid.UUID) -> None:
        book = await self.book(principal, book_id)
        items = [item.id for item in await self.items.all_of_book(book.id)]
        keys = await self.versions.keys_of_items(items)
        await self.versions.delete_jobs_of_items(items)
        await self.books.delete(book.id)
        await self.session.flush()
        # After the rows: a failure here leaves stray files, never a row pointing at nothing.
        await self.context.storage.delete(keys)

    # -- characters and pages ------------------------------------------------------------------

    async def items_of(self, principal: Principal, book_id: uuid.UUID, content_type: ContentType,
                       page: PageParams) -> tuple[int, list[ItemRead]]:
        book = await self.book(principal, book_id, reading=True)
        count, items = await self.items.page_of_book(book.id, content_type, limit=page.limit, offset=page.offset)
        return count, await self._views(items)

    async def add_character(self, principal: Principal, book_id: uuid.UUID, data: CharacterCreate) -> ItemRead:
        if not principal.is_authenticated:
            await self._check_anonymous_character(await self.book(principal, book_id))
        # The book's row serialises its numbering and the anonymous limit.
        book = await self.book(principal, book_id, for_update=True)
        count = await self.items.count_of_book(book.id, ContentType.CHARACTER)
        if not principal.is_authenticated and count >= ANONYMOUS_CHARACTERS:
            # Free before the lock, taken under it: a parallel request made it meanwhile.
            raise CharacterTaken(details={"limit": "characters", "max": ANONYMOUS_CHARACTERS})
        self._check_room(count, self.context.settings.book_max_characters, "characters")
        item = BookItem(book_id=book.id, content_type=ContentType.CHARACTER,
                        number=await self.items.next_number(book.id, ContentType.CHARACTER), **data.model_dump())
        return await self._add_illustrated(book, item)

    async def set_reference_photo(self, principal: Principal, book_id: uuid.UUID, item_id: uuid.UUID,
                                  read: Reader) -> ItemRead:
        """A character's reference photo (S0): checked like any upload, it replaces the previous one.
        Any size will do: the minimum side is a restoration's rule (S2), neither S0's nor its original's."""
        settings = self.context.settings
        data = await read_limited(read, settings.max_upload_bytes)
        info = await asyncio.to_thread(imaging.inspect_upload, data, min_side=1, max_pixels=settings.max_image_pixels)
        item, book = await self._item(principal, book_id, ContentType.CHARACTER, item_id)
        previous = item.reference_key
        item.reference_key = f"books/{book.id}/characters/{item.id}/reference-{uuid.uuid4().hex}.{info.extension}"
        item.updated_at = utcnow()
        await self.context.storage.put(item.reference_key, data)
        await self.session.flush()
        if previous:
            await self.context.storage.delete([previous])
        return (await self._views([item]))[0]

    async def _check_anonymous_character(self, book: Book) -> None:
        if await self.items.count_of_book(book.id, ContentType.CHARACTER) >= ANONYMOUS_CHARACTERS:
            raise AnonymousLimit("Sign in to add another character: an anonymous book has one",
                                 details={"limit": "characters", "max": ANONYMOUS_CHARACTERS})

    async def add_page(self, principal: Principal, book_id: uuid.UUID, data: PageCreate) -> ItemRead:
        book = await self.book(principal, book_id, for_update=True)
        self._check_room(await self.items.count_of_book(book.id, ContentType.PAGE),
                         self.context.settings.book_max_pages, "pages")
        number = data.number or await self.items.next_number(book.id, ContentType.PAGE)
        if await self.items.number_taken(book.id, ContentType.PAGE, number):
            raise NumberTaken(details={"number": number})
        item = BookItem(book_id=book.id, content_type=ContentType.PAGE, number=number, text=data.text,
                        illustration_prompt=data.illustration_prompt)
        return await self._add_illustrated(book, item)

    @staticmethod
    def _check_room(count: int, limit: int, what: str) -> None:
        if count >= limit:
            raise TooManyItems(f"A book has at most {limit} {what}", details={"limit": what, "max": limit})

    async def _add_illustrated(self, book: Book, item: BookItem) -> ItemRead:
        """Insert the item with its first version (free) queued."""
        now = utcnow()
        item.versions_made, item.created_at, item.updated_at = 1, now, now
        self.items.add(item)
        await self.session.flush()
        await self._queue(book, item, 1, spent_retry=False, asked=None)
        return (await self._views([item]))[0]

    async def item(self, principal: Principal, book_id: uuid.UUID, content_type: ContentType,
                   item_id: uuid.UUID) -> ItemRead:
        item, _ = await self._item(principal, book_id, content_type, item_id, reading=True)
        return (await self._views([item]))[0]

    async def update_item(self, principal: Principal, book_id: uuid.UUID, content_type: ContentType,
                          item_id: uuid.UUID, changes: dict[str, Any]) -> ItemRead:
        item, book = await self._item(principal, book_id, content_type, item_id)
        number = changes.get("number")
        if number is not None and await self.items.number_taken(book.id, content_type, number, except_id=item.id):
            raise NumberTaken(details={"number": number})
        for field, value in changes.items():
            if value is not None:  # PATCH: null leaves a field as it is
                setattr(item, field, value)
        item.updated_at = utcnow()
        await self.session.flush()
        return (await self._views([item]))[0]

    async def delete_item(self, principal: Principal, book_id: uuid.UUID, content_type: ContentType,
                          item_id: uuid.UUID) -> None:
        item, _ = await self._item(principal, book_id, content_type, item_id)
        keys = await self.versions.keys_of_items([item.id])
        await self.versions.delete_jobs_of_items([item.id])
        await self.items.delete(item.id)
        await self.session.flush()
        await self.context.storage.delete(keys)

    async def _item(self, principal: Principal, book_id: uuid.UUID, content_type: ContentType,
                    item_id: uuid.UUID, *, reading: bool = False) -> tuple[BookItem, Book]:
        found = await self.items.get_for_owner(item_id, principal.owner_id, content_type, book_id=book_id,
                                               **self._access(principal, reading=reading))
        if found is None:
            raise ItemNotFound(f"{content_type.title()} not found")
        return found

    # -- the cover -----------------------------------------------------------------------------

    async def cover(self, principal: Principal, book_id: uuid.UUID) -> ItemRead:
        book = await self.book(principal, book_id, reading=True)
        return (await self._views([await self._cover(book)]))[0]

    async def _cover(self, book: Book) -> BookItem:
        cover = await self.items.cover(book.id)
        if cover is None:
            raise ItemNotFound("The book has no cover yet: ask for its first version")
        return cover

    async def _item_or_cover(self, principal: Principal, book_id: uuid.UUID, content_type: ContentType,
                             item_id: uuid.UUID | None, *, reading: bool = False) -> tuple[BookItem, Book]:
        if content_type is not ContentType.COVER:
            assert item_id is not None
            return await self._item(principal, book_id, content_type, item_id, reading=reading)
        book = await self.book(principal, book_id, reading=reading)
        return await self._cover(book), book

    # -- versions ------------------------------------------------------------------------------

    async def versions_of(self, principal: Principal, book_id: uuid.UUID, content_type: ContentType,
                          item_id: uuid.UUID | None, page: PageParams) -> tuple[int, list[VersionRead]]:
        item, _ = await self._item_or_cover(principal, book_id, content_type, item_id, reading=True)
        count, rows = await self.versions.page_of_item(item.id, limit=page.limit, offset=page.offset)
        return count, [self._version_view(item, row) for row in rows]

    async def version(self, principal: Principal, book_id: uuid.UUID, content_type: ContentType,
                      item_id: uuid.UUID | None, version_id: uuid.UUID) -> VersionRead:
        """One version; a deleted one a paid print used too (its `deleted_at` says so)."""
        item, _ = await self._item_or_cover(principal, book_id, content_type, item_id, reading=True)
        return self._version_view(item, await self._version(item, version_id, deleted=True))

    async def _version(self, item: BookItem, version_id: uuid.UUID, *, deleted: bool = False) -> VersionRow:
        row = await self.versions.get(version_id, item.id, deleted=deleted)
        if row is None:
            raise VersionNotFound()
        return row

    async def select_version(self, principal: Principal, book_id: uuid.UUID, content_type: ContentType,
                             item_id: uuid.UUID | None, version_id: uuid.UUID) -> VersionRead:
        item, _ = await self._item_or_cover(principal, book_id, content_type, item_id)
        version, job = await self._version(item, version_id)
        if job.status != JobStatus.COMPLETED:
            raise VersionNotReady(details={"status": job.status})
        await self.items.select_version(item.id, version.id, utcnow())
        item.selected_version_id = version.id
        return self._version_view(item, (version, job))

    async def delete_version(self, principal: Principal, book_id: uuid.UUID, content_type: ContentType,
                             item_id: uuid.UUID | None, version_id: uuid.UUID) -> None:
        """The owner deletes a finished (or failed) version: gone from the item and its lists. The
        item's picture moves to the finished version before it (else the newest left; none when
        it was the last). A version that existed when the book's print order was paid may be what
        was printed (the order records the book, not its versions): it is kept, marked deleted and
        readable by its id; any other goes with its job and files. The retries spent stay spent."""
        item, book = await self._item_or_cover(principal, book_id, content_type, item_id)
        version, job = await self._version(item, version_id)
        if job.status in (JobStatus.QUEUED, JobStatus.RUNNING):
            raise VersionInProgress(details={"status": job.status})
        deleted_at = utcnow()
        if item.selected_version_id == version.id:
            item.selected_version_id = await self.versions.successor(item.id, version)
            await self.items.select_version(item.id, item.selected_version_id, deleted_at)
        paid_at = book.print_paid_at
        if job.status == JobStatus.COMPLETED and paid_at is not None and version.created_at <= paid_at:
            await self.versions.mark_deleted(version.id, deleted_at)
            return
        keys = [key for key in (version.image_key, version.thumbnail_key) if key]
        await self.versions.delete_job(version.id)
        await self.session.flush()
        # After the rows: a failure here leaves stray files, never a row pointing at nothing.
        await self.context.storage.delete(keys)

    async def regenerate(self, principal: Principal, book_id: uuid.UUID, content_type: ContentType,
                         item_id: uuid.UUID | None, asked: VersionCreate | None) -> VersionRead:
        """A new version of the item: the cover's first is free (and open to an anonymous owner);
        every other spends one retry of the item's allowance."""
        if content_type is ContentType.COVER:
            book = await self.book(principal, book_id)
            await self.items.add_cover_once(BookItem(book_id=book.id, content_type=ContentType.COVER,
                                                     number=domain.COVER_NUMBER, created_at=utcnow(),
                                                     updated_at=utcnow()))
            item = await self._cover(book)
        else:
            assert item_id is not None
            item, book = await self._item(principal, book_id, content_type, item_id)
        now = utcnow()
        number, spent = await self.items.take_first_version(item.id, now), False
        if number is None:
            if not principal.is_authenticated:
                raise AnonymousLimit("Sign in to regenerate: an anonymous visitor gets the first version only",
                                     details={"limit": "regeneration"})
            number, spent = await self.items.spend_retry(item.id, self.retries_base(book), now), True
            if number is None:
                fresh, _ = await self._item(principal, book.id, content_type, item.id)
                raise RetryLimit(details=self.allowance(book, fresh).model_dump(mode="json"))
        version, job = await self._queue(book, item, number, spent_retry=spent, asked=asked)
        return self._version_view(item, (version, job))

    async def _queue(self, book: Book, item: BookItem, number: int, *, spent_retry: bool,
                     asked: VersionCreate | None) -> VersionRow:
        if book.anonymous and not spent_retry:
            await self._charge_free_job()
        now = utcnow()
        asked = asked or VersionCreate()
        # Lettering is the cover's: asked of another item it means nothing and is not kept.
        lettering = (asked.title_text, asked.subtitle_text, asked.author_name) \
            if item.content_type == ContentType.COVER else (None, None, None)
        prompt = domain.illustration_prompt(book.title, book.style, ContentType(item.content_type),
                                            self._subject(book, item), asked.prompt, lettering=lettering)
        job = GenerationJob(id=uuid.uuid4(), owner_id=book.owner_id, kind=JobKind.STORYBOOK,
                            model=domain.STORYBOOK_MODEL.id, prompt=prompt, seed=secrets.randbelow(2**31),
                            storefront=self.storefront, created_at=now, heartbeat_at=now,
                            reference_keys=await self._references(book, item))
        JobRepository(self.session).add(job)
        await self.session.flush()
        version = BookItemVersion(id=job.id, item_id=item.id, version_number=number, spent_retry=spent_retry,
                                  title_text=lettering[0], subtitle_text=lettering[1], author_name=lettering[2],
                                  prompt_snapshot=asked.prompt_snapshot, created_at=now)
        self.versions.add(version)
        await outbox.add(self.session, JobRequested(job_id=job.id, kind=job.kind))
        return version, job

    async def _references(self, book: Book, item: BookItem) -> list[str]:
        """A cover's or a page's reference pictures: the approved (selected) picture of each of the
        book's characters, so a provider that takes references draws the same characters."""
        if item.content_type == ContentType.CHARACTER:
            return []
        characters = [i.selected_version_id for i in await self.items.all_of_book(book.id)
                      if i.content_type == ContentType.CHARACTER and i.selected_version_id is not None]
        chosen = await self.versions.among(characters)
        keys = [chosen[v][0].image_key for v in characters if v in chosen and chosen[v][0].image_key]
        # An imported picture lives at its source's URL, not in storage: a provider cannot be handed it.
        return [key for key in keys if key and not is_external(key)][:domain.MAX_REFERENCE_IMAGES]

    @staticmethod
    def _subject(book: Book, item: BookItem) -> str:
        if item.content_type == ContentType.CHARACTER:
            traits = f"Traits: {', '.join(item.traits)}" if item.traits else ""
            return ". ".join(part for part in (item.name, item.description, traits) if part)
        if item.content_type == ContentType.PAGE:
            return item.illustration_prompt or item.text
        return book.description

    # -- for other services ----------------------------------------------------------------------

    async def owned_book(self, book_id: uuid.UUID, owner_id: uuid.UUID) -> BookOwnership:
        book = await self.books.get_for_owner(book_id, owner_id)
        if book is None:
            raise BookNotFound()
        return BookOwnership(id=book.id, owner_id=book.owner_id, title=book.title, status=book.status,
                             page_count=await self.items.count_of_book(book.id, ContentType.PAGE))

    async def owned_item(self, content_type: ContentType, content_id: uuid.UUID,
                         owner_id: uuid.UUID) -> BookItemOwnership:
        found = await self.items.get_for_owner(content_id, owner_id, content_type)
        if found is None:
            raise ItemNotFound(f"{content_type.title()} not found")
        return BookItemOwnership(content_type=content_type, content_id=content_id, book_id=found[1].id)

    # -- retry allowances ----------------------------------------------------------------------

    def retries_base(self, book: Book) -> int:
        """What each item of the book may regenerate before retry packs."""
        return book.print_retries if book.print_retries is not None else self.context.settings.free_retries_per_item

    def allowance(self, book: Book, item: BookItem) -> RetryAllowanceRead:
        base = self.retries_base(book)
        return RetryAllowanceRead(content_type=item.content_type, content_id=item.id, used=item.retries_used,
                                  max=domain.retries_max(base, item.retries_extra),
                                  remaining=domain.retries_remaining(base, item.retries_extra, item.retries_used))

    # -- the worker's side ---------------------------------------------------------------------

    async def version_made(self, version_id: uuid.UUID, *, key: str, thumbnail_key: str, width: int,
                           height: int) -> None:
        """Record a finished illustration; an item's first finished version becomes its selected one."""
        version = await self.versions.by_id(version_id)
        if version is None:
            return
        await self.versions.set_image(version_id, key=key, thumbnail_key=thumbnail_key, width=width, height=height)
        await self.items.select_version(version.item_id, version.id, utcnow(), only_if_none=True)

    async def version_failed(self, version_id: uuid.UUID) -> None:
        """Give back the retry a failed version spent (the job fails once, so this runs once)."""
        version = await self.versions.by_id(version_id)
        if version is not None and version.spent_retry:
            await self.items.return_retry(version.item_id, utcnow())

    # -- views ---------------------------------------------------------------------------------

    async def _views(self, items: Sequence[BookItem]) -> list[ItemRead]:
        """Items with their selected and latest versions: two queries for any number of items."""
        latest = await self.versions.latest_of(item.id for item in items)
        selected = await self.versions.among(item.selected_version_id for item in items
                                             if item.selected_version_id is not None)
        views: list[ItemRead] = []
        for item in items:
            chosen = selected.get(item.selected_version_id) if item.selected_version_id else None
            newest = latest.get(item.id)
            common = {"id": item.id, "book_id": item.book_id, "content_type": item.content_type,
                      "selected_version": self._version_view(item, chosen) if chosen else None,
                      "latest_version": self._version_view(item, newest) if newest else None,
                      "version_count": item.versions_made, "created_at": item.created_at,
                      "updated_at": item.updated_at}
            if item.content_type == ContentType.CHARACTER:
                views.append(CharacterRead(**common, name=item.name, description=item.description,
                                           traits=item.traits, number=item.number,
                                           reference_photo_url=self.context.optional_url(item.reference_key)))
            elif item.content_type == ContentType.PAGE:
                views.append(PageRead(**common, number=item.number, text=item.text,
                                      illustration_prompt=item.illustration_prompt))
            else:
                views.append(CoverRead(**common))
        return views

    def _version_view(self, item: BookItem, row: VersionRow) -> VersionRead:
        version, job = row
        return VersionRead(id=version.id, content_type=item.content_type, content_id=item.id,
                           version_number=version.version_number, status=job.status, progress=job.progress,
                           job_id=job.id, error=job.error, image_url=self.context.optional_url(version.image_key),
                           thumbnail_url=self.context.optional_url(version.thumbnail_key), width=version.width,
                           height=version.height, is_selected=item.selected_version_id == version.id,
                           prompt=job.prompt, title_text=version.title_text, subtitle_text=version.subtitle_text,
                           author_name=version.author_name, prompt_snapshot=version.prompt_snapshot,
                           created_at=version.created_at, deleted_at=version.deleted_at)
