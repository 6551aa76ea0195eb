"""Generation's housekeeping: restorations past their expiry and anonymous visitors' untouched
books go with their jobs and their files; the others, and the files they name, stay. SQLite, and
PostgreSQL when set."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from sqlmodel import col, select, update

from atelier_common.columns import utcnow
from atelier_common.contracts.identity import AnonymousClaimed
from atelier_common.housekeeping import Housekeeper
from atelier_generation.housekeeping import sweeps
from atelier_generation.models import Book, BookItem, BookItemVersion, GenerationJob, GenerationOwner, Restoration

from .test_books import anonymous, call, new_book, new_character, user

pytestmark = pytest.mark.databases("sqlite", "postgres", why="housekeeping's batched deletes and row locks")


def _keeper(api, batch_size: int = 2) -> Housekeeper:
    runtime = api.h.runtime
    return Housekeeper(runtime.db, sweeps(runtime.context), service="generation", batch_size=batch_size)


async def _keys(api, restoration_id: str) -> list[str]:
    async with api.h.runtime.db.read_only() as session:
        row = (await session.exec(select(Restoration).where(col(Restoration.id) == uuid.UUID(restoration_id)))).one()
        return [key for key in (row.original_key, row.preview_key, row.full_key) if key]


class TestExpiredRestorations:
    async def test_expired_restorations_go_with_their_job_and_files(self, api) -> None:
        ada, bob = api.user(), api.user()
        expired = [await api.restored(ada) for _ in range(3)] + [await api.restored(bob)]
        kept = await api.restored(ada)
        expired_ids = [uuid.UUID(r["id"]) for r in expired]
        files = {r["id"]: await _keys(api, r["id"]) for r in [*expired, kept]}
        assert all(len(keys) >= 2 for keys in files.values())  # the original and its preview at least
        storage = api.h.runtime.context.storage
        async with api.h.runtime.db.transaction() as session:
            await session.execute(update(Restoration).where(col(Restoration.id).in_(expired_ids))
                                  .values(expires_at=utcnow() - timedelta(seconds=1)))

        report = await _keeper(api).run_once()

        assert report.removed["expired_restorations"] == 4 and not report.failed
        for restoration in expired:
            owner = ada if restoration in expired[:3] else bob
            response = await api.client.get(f"/api/v1/restorations/{restoration['id']}", headers=owner.headers)
            assert response.status_code == 404
            assert not [key for key in files[restoration["id"]] if await storage.exists(key)]
        assert (await api.restoration(ada, kept["id"]))["status"] == "completed"
        assert all([await storage.exists(key) for key in files[kept["id"]]])
        assert (await api.fetch(kept["preview_url"])).status_code == 200
        async with api.h.runtime.db.read_only() as session:
            jobs = set((await session.exec(select(GenerationJob.id))).all())
        assert not jobs & set(expired_ids) and uuid.UUID(kept["id"]) in jobs

    async def test_plain_owner_rows_go_claims_and_erasures_stay(self, api) -> None:
        old = utcnow() - timedelta(days=8)
        plain, claimed, erased, recent = (uuid.uuid4() for _ in range(4))
        async with api.h.runtime.db.transaction() as session:
            session.add_all([
                GenerationOwner(owner_id=plain, created_at=old, updated_at=old),
                GenerationOwner(owner_id=claimed, claimed_by=uuid.uuid4(), created_at=old, updated_at=old),
                GenerationOwner(owner_id=erased, erased_at=old, created_at=old, updated_at=old),
                GenerationOwner(owner_id=recent),
            ])
        assert (await _keeper(api).run_once()).removed["generation_owner_plain"] == 1
        async with api.h.runtime.db.read_only() as session:
            assert set((await session.exec(select(GenerationOwner.owner_id))).all()) == {claimed, erased, recent}


async def _book_keys(api, book_id: str) -> list[str]:
    async with api.h.runtime.db.read_only() as session:
        stmt = (select(BookItemVersion).join(BookItem, col(BookItem.id) == col(BookItemVersion.item_id))
                .where(col(BookItem.book_id) == uuid.UUID(book_id)))
        return [k for v in (await session.exec(stmt)).all() for k in (v.image_key, v.thumbnail_key) if k]


async def _age_books(api, book_ids: list[str], days: float) -> None:
    then = utcnow() - timedelta(days=days)
    ids = [uuid.UUID(b) for b in book_ids]
    items = select(BookItem.id).where(col(BookItem.book_id).in_(ids))
    async with api.h.runtime.db.transaction() as session:
        await session.execute(update(BookItemVersion).where(col(BookItemVersion.item_id).in_(items))
                              .values(created_at=then))
        await session.execute(update(BookItem).where(col(BookItem.book_id).in_(ids)).values(updated_at=then))
        await session.execute(update(Book).where(col(Book.id).in_(ids)).values(updated_at=then, created_at=then))


class TestAnonymousBooks:
    async def test_untouched_anonymous_books_go_with_their_files_users_and_paid_ones_stay(self, api) -> None:
        gone, recent, claimed, paid_for = (anonymous(api) for _ in range(4))
        owner, account = user(api), user(api)
        books = {}
        for caller in (gone, recent, claimed, paid_for, owner):
            books[caller] = (await new_book(api, caller))["id"]
            await new_character(api, caller, books[caller])
        await api.h.drain()
        await api.h.deliver(AnonymousClaimed(anon_id=claimed.id, user_id=account.id), producer="identity")
        async with api.h.runtime.db.transaction() as session:
            await session.execute(update(Book).where(col(Book.id) == uuid.UUID(books[paid_for]))
                                  .values(print_paid_at=utcnow()))
        gone_files = await _book_keys(api, books[gone])
        kept_files = await _book_keys(api, books[owner])
        assert gone_files and kept_files
        await _age_books(api, [books[c] for c in (gone, claimed, paid_for, owner)], days=31)
        await _age_books(api, [books[recent]], days=29)

        report = await _keeper(api).run_once()

        # The book, its character and the character's first version (a job).
        assert report.removed["anonymous_books"] == 3 and not report.failed
        storage = api.h.runtime.context.storage
        assert not [key for key in gone_files if await storage.exists(key)]
        assert all([await storage.exists(key) for key in kept_files])
        assert (await call(api, gone, "GET", "/books"))["count"] == 0
        for caller in (recent, paid_for, owner):
            assert [b["id"] for b in (await call(api, caller, "GET", "/books"))["results"]] == [books[caller]]
        assert [b["id"] for b in (await call(api, account, "GET", "/books"))["results"]] == [books[claimed]]
