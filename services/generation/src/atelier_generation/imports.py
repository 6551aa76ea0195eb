"""Credit balances and storybooks moved in from another product (`atelier import`).

An entry point like identity's `import_accounts`: one transaction per batch, every check before a
row is written, each row keyed by its source's primary key in `import_ref` so a second run skips
it. A balance arrives as one opening ledger line (kind `opening`) the customer reads in their
ledger; a book arrives with its characters, cover and pages and each one's versions as finished
illustrations at their source's image URLs. Nothing here is a purchase or a job to run: no event
is queued (no credits are granted by an order, no worker picks an imported version up).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field
from sqlmodel.ext.asyncio.session import AsyncSession

from atelier_common.db import Database
from atelier_common.imports import RowOutcome, import_transaction, imported_ids_of, known_refs
from atelier_generation import domain
from atelier_generation.domain import ContentType, JobKind, JobStatus, TransactionKind, UnlockMethod
from atelier_generation.models import (
    Book,
    BookItem,
    BookItemVersion,
    CreditTransaction,
    GenerationImportRef,
    GenerationJob,
    Restoration,
)
from atelier_generation.repository import WalletRepository
from atelier_generation.service._shared import utcnow

_KEY_LENGTH = 300  # the image key columns' length
CREDITS_MODEL = "credits"
BOOK_MODEL = "book"
RESTORATION_MODEL = "restoration"
# The line the customer reads in their ledger for what they held before the move.
OPENING = "Balance carried over from {source}"


class ImportedCredits(BaseModel):
    """A user's balance at the source: `source_pk` is the source user's key."""

    source_pk: str
    # The account the source user became (identity's import); None: that user was not imported.
    owner_id: uuid.UUID | None = None
    owner_source_pk: str = ""
    balance: int = Field(ge=0)
    as_of: datetime | None = None


class ImportedRestoration(BaseModel):
    """A restoration finished (or not) at the source, its pictures at their source URLs."""

    source_pk: str
    owner_id: uuid.UUID | None = None
    owner_source_pk: str = ""
    original_url: str = Field(max_length=300)
    preview_url: str | None = Field(default=None, max_length=300)
    full_url: str | None = Field(default=None, max_length=300)
    completed: bool = True
    # "credits" (paid) or "social_share", and when: the full picture is shown once unlocked.
    unlock_method: UnlockMethod | None = None
    unlocked_at: datetime | None = None
    created_at: datetime | None = None
    # The source's own expiry (reviv: 60 days after the upload): the sweep removes it then, as here.
    expires_at: datetime


class ImportedVersion(BaseModel):
    source_pk: str
    version_number: int = Field(ge=1)
    image_url: str | None = None
    thumbnail_url: str | None = None
    prompt: str = ""
    prompt_snapshot: Any = None
    title_text: str | None = None
    subtitle_text: str | None = None
    author_name: str | None = None
    # Finished at the source (completed/success) or not (failed, or never finished there).
    completed: bool = True
    created_at: datetime | None = None


class ImportedItem(BaseModel):
    source_pk: str
    content_type: ContentType
    number: int = Field(ge=0)
    name: str = ""
    description: str = ""
    text: str = ""
    illustration_prompt: str = ""
    reference_url: str | None = None
    selected_version_pk: str | None = None
    versions: list[ImportedVersion] = []


class ImportedBook(BaseModel):
    source_pk: str
    owner_id: uuid.UUID | None = None
    owner_source_pk: str = ""
    title: str = Field(min_length=1, max_length=200)
    style: str = ""
    style_version: str | None = None
    status: str = "draft"
    print_size: str | None = None
    paper_type: str | None = None
    binding_type: str | None = None
    created_at: datetime | None = None
    items: list[ImportedItem] = []


async def import_generation(db: Database, credits: Sequence[ImportedCredits], books: Sequence[ImportedBook],
                            restorations: Sequence[ImportedRestoration] = (), *, source: str, storefront: str,
                            dry_run: bool = False) -> list[RowOutcome]:
    """Open each wallet and create each book and restoration not imported before; `dry_run`
    checks everything the same way, against the real database, and writes nothing."""
    outcomes: list[RowOutcome] = []
    async with import_transaction(db, dry_run=dry_run) as session:
        outcomes = await _credits(session, credits, source, storefront)
        outcomes += await _books(session, books, source, storefront)
        outcomes += await _restorations(session, restorations, source, storefront)
    return outcomes


async def imported_ids(db: Database, source: str, model: str, keys: Sequence[str]) -> dict[str, uuid.UUID]:
    """What each source key became (books: the book id), for the order lines other services import."""
    return await imported_ids_of(db, GenerationImportRef, source, model, keys)


async def _credits(session: AsyncSession, rows: Sequence[ImportedCredits], source: str,
                   storefront: str) -> list[RowOutcome]:
    known = set(await known_refs(session, GenerationImportRef, source, CREDITS_MODEL, [row.source_pk for row in rows]))
    wallets = WalletRepository(session)
    outcomes: list[RowOutcome] = []
    for row in rows:
        if row.source_pk in known:
            outcomes.append(RowOutcome(CREDITS_MODEL, row.source_pk, "skipped", "already imported"))
            continue
        if row.owner_id is None:
            outcomes.append(RowOutcome(CREDITS_MODEL, row.source_pk, "refused",
                                       f"its user {row.owner_source_pk} was not imported"))
            continue
        known.add(row.source_pk)
        if row.balance == 0:
            # Nothing to carry: no wallet line that says "0 credits" (still remembered: skipped next time).
            outcomes.append(RowOutcome(CREDITS_MODEL, row.source_pk, "imported", "no balance"))
            session.add(GenerationImportRef(source=source, model=CREDITS_MODEL, source_pk=row.source_pk,
                                            target_id=row.owner_id))
            continue
        stamp = utcnow()
        # Added to whatever the account already holds here (an account used on another storefront).
        balance = await wallets.credit(row.owner_id, row.balance, stamp)
        session.add(CreditTransaction(owner_id=row.owner_id, kind=TransactionKind.OPENING, amount=row.balance,
                                      balance_after=balance, description=OPENING.format(source=source)[:200],
                                      storefront=storefront, created_at=row.as_of or stamp))
        session.add(GenerationImportRef(source=source, model=CREDITS_MODEL, source_pk=row.source_pk,
                                        target_id=row.owner_id))
        outcomes.append(RowOutcome(CREDITS_MODEL, row.source_pk, "imported"))
    return outcomes


async def _books(session: AsyncSession, rows: Sequence[ImportedBook], source: str,
                 storefront: str) -> list[RowOutcome]:
    known = set(await known_refs(session, GenerationImportRef, source, BOOK_MODEL, [row.source_pk for row in rows]))
    # Written level by level (books, items, jobs, versions): the tables hold foreign keys and the
    # models map no relationships for the session to order the inserts by.
    levels: list[list[Any]] = [[], [], [], []]
    outcomes: list[RowOutcome] = []
    for row in rows:
        if row.source_pk in known:
            outcomes.append(RowOutcome(BOOK_MODEL, row.source_pk, "skipped", "already imported"))
            continue
        refusal = _book_refusal(row)
        if refusal or row.owner_id is None:
            refusal = refusal or f"its user {row.owner_source_pk} was not imported"
            outcomes.append(RowOutcome(BOOK_MODEL, row.source_pk, "refused", refusal))
            continue
        known.add(row.source_pk)
        _add_book(levels, row, row.owner_id, source, storefront)
        outcomes.append(RowOutcome(BOOK_MODEL, row.source_pk, "imported"))
    for level in levels:
        session.add_all(level)
        await session.flush()
    return outcomes


async def _restorations(session: AsyncSession, rows: Sequence[ImportedRestoration], source: str,
                        storefront: str) -> list[RowOutcome]:
    known = set(await known_refs(session, GenerationImportRef, source, RESTORATION_MODEL, [row.source_pk for row in rows]))
    jobs: list[GenerationJob] = []
    restorations: list[Any] = []
    outcomes: list[RowOutcome] = []
    stamp = utcnow()
    for row in rows:
        if row.source_pk in known:
            outcomes.append(RowOutcome(RESTORATION_MODEL, row.source_pk, "skipped", "already imported"))
            continue
        if row.owner_id is None:
            outcomes.append(RowOutcome(RESTORATION_MODEL, row.source_pk, "refused",
                                       f"its user {row.owner_source_pk} was not imported"))
            continue
        known.add(row.source_pk)
        made = row.created_at or stamp
        # The restoration is a job's (it shares the job's id): a finished one, never queued.
        job = GenerationJob(owner_id=row.owner_id, kind=JobKind.RESTORATION,
                            status=JobStatus.COMPLETED if row.completed else JobStatus.FAILED,
                            model=domain.RESTORATION_MODEL.id, progress=100, storefront=storefront,
                            created_at=made, finished_at=made, heartbeat_at=made)
        jobs.append(job)
        extension = row.original_url.rsplit(".", 1)[-1].lower() if "." in row.original_url[-6:] else "jpg"
        restorations.append(Restoration(
            id=job.id, owner_id=row.owner_id, original_key=row.original_url, original_format=extension[:10],
            width=0, height=0, size_bytes=0, preview_key=row.preview_url, full_key=row.full_url,
            unlock_method=row.unlock_method if row.unlocked_at else None, unlocked_at=row.unlocked_at,
            expires_at=row.expires_at, storefront=storefront, created_at=made))
        restorations.append(GenerationImportRef(source=source, model=RESTORATION_MODEL, source_pk=row.source_pk,
                                                target_id=job.id))
        outcomes.append(RowOutcome(RESTORATION_MODEL, row.source_pk, "imported"))
    for level in (jobs, restorations):
        session.add_all(level)
        await session.flush()
    return outcomes


def _book_refusal(row: ImportedBook) -> str | None:
    """The book's own rules (`uq_book_item_book_type_number`, one cover, one version number each),
    checked before anything is written so a refused book leaves nothing behind."""
    numbers = [(item.content_type, item.number) for item in row.items]
    if len(set(numbers)) != len(numbers):
        return "two items of the same kind share a number"
    if sum(1 for item in row.items if item.content_type == ContentType.COVER) > 1:
        return "more than one cover"
    for item in row.items:
        versions = [version.version_number for version in item.versions]
        if len(set(versions)) != len(versions):
            return f"{item.content_type.lower()} {item.source_pk}: two versions share a number"
        urls = [item.reference_url, *(u for v in item.versions for u in (v.image_url, v.thumbnail_url))]
        if any(url and len(url) > _KEY_LENGTH for url in urls):
            return f"{item.content_type.lower()} {item.source_pk}: an image URL longer than {_KEY_LENGTH} characters"
    return None


def _add_book(levels: list[list[Any]], row: ImportedBook, owner: uuid.UUID, source: str, storefront: str) -> None:
    stamp = row.created_at or utcnow()
    book = Book(owner_id=owner, title=row.title, style=row.style[:100], status=row.status[:20],
                style_version=row.style_version, print_size=row.print_size, paper_type=row.paper_type,
                binding_type=row.binding_type, storefront=storefront, created_at=stamp, updated_at=stamp)
    levels[0].append(book)
    for source_item in row.items:
        number = 0 if source_item.content_type == ContentType.COVER else source_item.number
        item = BookItem(book_id=book.id, content_type=source_item.content_type, number=number,
                        name=source_item.name[:200], description=source_item.description, text=source_item.text,
                        illustration_prompt=source_item.illustration_prompt,
                        reference_key=source_item.reference_url or None,
                        versions_made=max((v.version_number for v in source_item.versions), default=0),
                        created_at=stamp, updated_at=stamp)
        levels[1].append(item)
        for source_version in source_item.versions:
            made = source_version.created_at or stamp
            # A version is a job's picture (it shares the job's id): a finished job, never queued.
            job = GenerationJob(owner_id=owner, kind=JobKind.STORYBOOK,
                                status=JobStatus.COMPLETED if source_version.completed else JobStatus.FAILED,
                                model=domain.STORYBOOK_MODEL.id, prompt=source_version.prompt, progress=100,
                                storefront=storefront, created_at=made, finished_at=made, heartbeat_at=made)
            levels[2].append(job)
            levels[3].append(BookItemVersion(id=job.id, item_id=item.id, version_number=source_version.version_number,
                                        title_text=source_version.title_text,
                                        subtitle_text=source_version.subtitle_text,
                                        author_name=source_version.author_name,
                                        prompt_snapshot=source_version.prompt_snapshot,
                                        image_key=source_version.image_url, thumbnail_key=source_version.thumbnail_url,
                                        created_at=made))
            if source_version.source_pk == source_item.selected_version_pk:
                item.selected_version_id = job.id
    levels[0].append(GenerationImportRef(source=source, model=BOOK_MODEL, source_pk=row.source_pk, target_id=book.id))
