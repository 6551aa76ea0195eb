"""Generation's housekeeping rules (`atelier_common.housekeeping` runs them, besides the outbox and inbox).

- Restorations past their expiry (`expires_at`, `restoration_expiry_days` after upload: S2
  promises 60 days), with their job and their stored files (original, preview, full size). The
  files are deleted once the rows' deletion is committed: a crash in between leaves a file no
  row names, never a restoration whose file is missing.
- `generation_owner` rows that learned nothing, untouched for the inbox window (`atelier_common.owners`).
- Anonymous visitors' books (`book.anonymous`, cleared when the visitor's identity is claimed)
  of which neither the book, an item nor a version changed for `anonymous_retention_days` (30),
  with their items, versions, the versions' jobs and the illustrations' files — unless money was
  spent on the book (a paid print order, a retry pack applied to one of its items).
- A claimed book's anonymous reader and client hash (`book.anon_reader_id`, `client_hash`,
  `claimed_at`), cleared `anonymous_retention_days` after the claim: by then the anonymous token
  that may still read it (4 weeks) has expired. The book stays (the user's).
- Kept: `retry_pack` — a paid retry-pack line (what the buyer paid for and where it was applied);
  it is a record of money spent, one row per purchase, not per request.
- Kept: wallets and credit transactions, jobs and images, users' books (a customer's work).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlmodel.ext.asyncio.session import AsyncSession

from atelier_common import idempotency, owners
from atelier_common.housekeeping import Sweep, Swept
from atelier_common.storage import Storage
from atelier_generation.context import GenerationContext
from atelier_generation.models import GenerationOwner
from atelier_generation.repository import BookRepository, RestorationRepository


def _expired_restorations(storage: Storage) -> Sweep:
    async def batch(session: AsyncSession, now: datetime, limit: int) -> Swept:
        count, keys = await RestorationRepository(session).delete_expired(now, limit)

        async def delete_files() -> None:
            await storage.delete(keys)

        return Swept(count, [delete_files] if keys else [])

    return Sweep("expired_restorations", batch)


def _untouched_anonymous_books(storage: Storage, retention: timedelta) -> Sweep:
    async def batch(session: AsyncSession, now: datetime, limit: int) -> Swept:
        count, keys = await BookRepository(session).delete_untouched_anonymous(now - retention, limit)

        async def delete_files() -> None:
            await storage.delete(keys)

        return Swept(count, [delete_files] if keys else [])

    return Sweep("anonymous_books", batch)


def _claimed_book_readers(retention: timedelta) -> Sweep:
    async def batch(session: AsyncSession, now: datetime, limit: int) -> Swept:
        return Swept(await BookRepository(session).forget_readers(now - retention, limit), [])

    return Sweep("claimed_book_readers", batch)


def sweeps(context: GenerationContext) -> list[Sweep]:
    settings = context.settings
    return [_expired_restorations(context.storage), owners.sweep(GenerationOwner, settings.inbox_window),
            _untouched_anonymous_books(context.storage, timedelta(days=settings.anonymous_retention_days)),
            _claimed_book_readers(timedelta(days=settings.anonymous_retention_days)), idempotency.sweep()]
