"""Queries of the generation service, and nothing else: no rules, no commits.

Ownership lives in one method per owned table (`readable_statement`): a row the caller does
not own is simply not found. Every state change others could race on is one guarded
`UPDATE … WHERE <precondition> RETURNING` (psycopg's rowcount is not reliable, RETURNING is).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, bindparam, case, delete, false, func, or_, true, update
from sqlalchemy import select as sa_select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession
from sqlmodel.sql.expression import SelectOfScalar

from atelier_common.owners import OwnerState, buyer_of, lock_owner
from atelier_generation.domain import ACTIVE_JOB_STATUSES, ACTIVE_SUBSCRIPTION_STATUSES, JobKind, JobStatus
from atelier_generation.models import (
    Book,
    BookItem,
    BookItemVersion,
    CreditPack,
    CreditTransaction,
    CreditWallet,
    GeneratedImage,
    GenerationJob,
    GenerationOwner,
    ImageFavorite,
    ImageTag,
    Restoration,
    RetryPack,
    ShareUnlock,
    Subscription,
)


class _Repository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    @property
    def is_postgres(self) -> bool:
        bind = self.session.bind
        return bind is not None and bind.dialect.name == "postgresql"

    def insert(self, table: Any) -> Any:
        return (pg_insert if self.is_postgres else sqlite_insert)(table)

    async def _count(self, stmt: Any) -> int:
        return (await self.session.execute(sa_select(func.count()).select_from(stmt.subquery()))).scalar_one()


# -- credits ---------------------------------------------------------------------------------

class WalletRepository(_Repository):
    async def ensure(self, owner_id: uuid.UUID, now: datetime) -> None:
        stmt = self.insert(CreditWallet).values(owner_id=owner_id, balance=0, updated_at=now)
        await self.session.execute(stmt.on_conflict_do_nothing(index_elements=["owner_id"]))

    async def balance(self, owner_id: uuid.UUID) -> int:
        stmt = sa_select(col(CreditWallet.balance)).where(col(CreditWallet.owner_id) == owner_id)
        return (await self.session.execute(stmt)).scalar_one_or_none() or 0

    async def lock(self, owner_id: uuid.UUID, now: datetime) -> None:
        """Hold the owner's wallet row until commit: per-owner limits are checked under it."""
        await self.ensure(owner_id, now)
        stmt = sa_select(col(CreditWallet.owner_id)).where(col(CreditWallet.owner_id) == owner_id)
        if self.is_postgres:
            stmt = stmt.with_for_update()
        await self.session.execute(stmt)

    async def debit(self, owner_id: uuid.UUID, amount: int, now: datetime) -> int | None:
        """The new balance, or None when the balance does not cover `amount` (nothing changed)."""
        stmt = (update(CreditWallet)
                .where(col(CreditWallet.owner_id) == owner_id, col(CreditWallet.balance) >= amount)
                .values(balance=CreditWallet.balance - amount, updated_at=now)
                .returning(col(CreditWallet.balance)))
        return (await self.session.execute(stmt)).scalar_one_or_none()

    async def credit(self, owner_id: uuid.UUID, amount: int, now: datetime) -> int:
        await self.ensure(owner_id, now)
        stmt = (update(CreditWallet).where(col(CreditWallet.owner_id) == owner_id)
                .values(balance=CreditWallet.balance + amount, updated_at=now).returning(col(CreditWallet.balance)))
        return (await self.session.execute(stmt)).scalar_one()

    async def take(self, owner_id: uuid.UUID) -> int:
        """Delete the wallet; return what it held."""
        stmt = delete(CreditWallet).where(col(CreditWallet.owner_id) == owner_id).returning(col(CreditWallet.balance))
        return (await self.session.execute(stmt)).scalar_one_or_none() or 0


class TransactionRepository(_Repository):
    def add(self, transaction: CreditTransaction) -> None:
        self.session.add(transaction)

    async def add_purchase_once(self, transaction: CreditTransaction) -> bool:
        """Insert unless this (order, product) was granted before; whether it was inserted."""
        values = transaction.model_dump()
        stmt = (self.insert(CreditTransaction).values(**values)
                .on_conflict_do_nothing(index_elements=["order_id", "product_id"])
                .returning(col(CreditTransaction.id)))
        return (await self.session.execute(stmt)).scalar_one_or_none() is not None

    async def set_balance_after(self, transaction_id: uuid.UUID, balance: int) -> None:
        await self.session.execute(update(CreditTransaction).where(col(CreditTransaction.id) == transaction_id)
                                   .values(balance_after=balance))

    async def latest(self, owner_id: uuid.UUID, limit: int) -> Sequence[CreditTransaction]:
        stmt = (select(CreditTransaction).where(col(CreditTransaction.owner_id) == owner_id)
                .order_by(col(CreditTransaction.created_at).desc(), col(CreditTransaction.id).desc()).limit(limit))
        return (await self.session.exec(stmt)).all()

    async def reassign(self, old: uuid.UUID, new: uuid.UUID) -> None:
        await self.session.execute(update(CreditTransaction).where(col(CreditTransaction.owner_id) == old)
                                   .values(owner_id=new))

    async def delete_for(self, owner_id: uuid.UUID) -> None:
        await self.session.execute(delete(CreditTransaction).where(col(CreditTransaction.owner_id) == owner_id))


class CreditPackRepository(_Repository):
    async def upsert(self, pack: CreditPack) -> None:
        values = pack.model_dump()
        stmt = self.insert(CreditPack).values(**values)
        stmt = stmt.on_conflict_do_update(index_elements=["product_id"],
                                          set_={k: v for k, v in values.items() if k != "product_id"})
        await self.session.execute(stmt)

    async def remove(self, product_id: uuid.UUID) -> None:
        await self.session.execute(_REMOVE_PACK, {"product": product_id})

    async def list_active(self) -> Sequence[CreditPack]:
        stmt = (select(CreditPack).where(col(CreditPack.is_active) == true())
                .order_by(col(CreditPack.credits), col(CreditPack.sku)))
        return (await self.session.exec(stmt)).all()


class SubscriptionRepository(_Repository):
    async def get(self, user_id: uuid.UUID, *, for_update: bool = False) -> Subscription | None:
        stmt = select(Subscription).where(col(Subscription.user_id) == user_id)
        if for_update and self.is_postgres:
            stmt = stmt.with_for_update()
        return (await self.session.exec(stmt)).first()

    def add(self, subscription: Subscription) -> None:
        self.session.add(subscription)

    async def use_quota(self, user_id: uuid.UUID, images: int, now: datetime) -> tuple[datetime | None] | None:
        """Take `images` from an active subscription's quota; `(period_end,)` or None if it cannot."""
        stmt = (update(Subscription)
                .where(col(Subscription.user_id) == user_id,
                       col(Subscription.status).in_(ACTIVE_SUBSCRIPTION_STATUSES),
                       or_(col(Subscription.current_period_end).is_(None), col(Subscription.current_period_end) > now),
                       col(Subscription.quota_used) + images <= col(Subscription.monthly_quota))
                .values(quota_used=Subscription.quota_used + images, updated_at=now)
                .returning(col(Subscription.quota_period_end)))
        row = (await self.session.execute(stmt)).first()
        return None if row is None else (row[0],)

    async def return_quota(self, user_id: uuid.UUID, images: int, period_end: datetime | None,
                           now: datetime) -> None:
        """Give back quota taken in the period that ends at `period_end` (a later period keeps its count)."""
        same_period = (col(Subscription.quota_period_end).is_(None) if period_end is None
                       else col(Subscription.quota_period_end) == period_end)
        stmt = (update(Subscription).where(col(Subscription.user_id) == user_id, same_period)
                .values(quota_used=case((col(Subscription.quota_used) >= images, Subscription.quota_used - images),
                                        else_=0), updated_at=now))
        await self.session.execute(stmt)

    async def delete_for(self, user_id: uuid.UUID) -> None:
        await self.session.execute(delete(Subscription).where(col(Subscription.user_id) == user_id))


# -- jobs ------------------------------------------------------------------------------------

class JobRepository(_Repository):
    def readable_statement(self, owner_id: uuid.UUID) -> SelectOfScalar[GenerationJob]:
        return select(GenerationJob).where(col(GenerationJob.owner_id) == owner_id)

    def add(self, job: GenerationJob) -> None:
        self.session.add(job)

    async def get_for_owner(self, job_id: uuid.UUID, owner_id: uuid.UUID, *,
                            kinds: Sequence[JobKind] = ()) -> GenerationJob | None:
        stmt = self.readable_statement(owner_id).where(col(GenerationJob.id) == job_id)
        if kinds:
            stmt = stmt.where(col(GenerationJob.kind).in_(kinds))
        return (await self.session.exec(stmt)).first()

    async def get(self, job_id: uuid.UUID) -> GenerationJob | None:
        stmt = select(GenerationJob).where(col(GenerationJob.id) == job_id).execution_options(populate_existing=True)
        return (await self.session.exec(stmt)).first()

    async def claim(self, job_id: uuid.UUID, max_attempts: int, now: datetime) -> GenerationJob | None:
        """queued (or running, left by a crashed worker) → running with one more attempt."""
        stmt = (update(GenerationJob)
                .where(col(GenerationJob.id) == job_id, col(GenerationJob.status).in_(ACTIVE_JOB_STATUSES),
                       col(GenerationJob.attempts) < max_attempts)
                .values(status=JobStatus.RUNNING, attempts=GenerationJob.attempts + 1, started_at=now,
                        heartbeat_at=now, progress=5, error=None)
                .returning(col(GenerationJob.id)))
        if (await self.session.execute(stmt)).scalar_one_or_none() is None:
            return None
        return await self.get(job_id)

    async def set_progress(self, job_id: uuid.UUID, attempt: int, progress: int, now: datetime) -> None:
        await self.session.execute(
            update(GenerationJob)
            .where(col(GenerationJob.id) == job_id, col(GenerationJob.status) == JobStatus.RUNNING,
                   col(GenerationJob.attempts) == attempt)
            .values(progress=progress, heartbeat_at=now))

    async def complete(self, job_id: uuid.UUID, attempt: int, now: datetime) -> bool:
        """Only the latest claim may record a result: an older, overtaken run changes nothing."""
        stmt = (update(GenerationJob)
                .where(col(GenerationJob.id) == job_id, col(GenerationJob.status) == JobStatus.RUNNING,
                       col(GenerationJob.attempts) == attempt)
                .values(status=JobStatus.COMPLETED, progress=100, finished_at=now, heartbeat_at=now)
                .returning(col(GenerationJob.id)))
        return (await self.session.execute(stmt)).scalar_one_or_none() is not None

    async def fail(self, job_id: uuid.UUID, reason: str, now: datetime, *,
                   attempt: int | None = None) -> GenerationJob | None:
        """Any unfinished job → failed, once; the job as it was charged, or None."""
        conditions: list[ColumnElement[bool]] = [col(GenerationJob.id) == job_id,
                                                 col(GenerationJob.status).in_(ACTIVE_JOB_STATUSES)]
        if attempt is not None:
            conditions.append(col(GenerationJob.attempts) == attempt)
        stmt = (update(GenerationJob).where(*conditions)
                .values(status=JobStatus.FAILED, error=reason[:500], finished_at=now, heartbeat_at=now)
                .returning(col(GenerationJob.id)))
        if (await self.session.execute(stmt)).scalar_one_or_none() is None:
            return None
        return await self.get(job_id)

    async def touch_stale(self, cutoff: datetime, now: datetime) -> Sequence[tuple[uuid.UUID, str]]:
        """Unfinished jobs untouched since `cutoff`, marked as seen now (so one sweep takes each)."""
        stmt = (update(GenerationJob)
                .where(col(GenerationJob.status).in_(ACTIVE_JOB_STATUSES), col(GenerationJob.heartbeat_at) < cutoff)
                .values(heartbeat_at=now).returning(col(GenerationJob.id), col(GenerationJob.kind)))
        return [(row[0], row[1]) for row in (await self.session.execute(stmt)).all()]

    async def images_generated(self, owner_id: uuid.UUID) -> int:
        stmt = (sa_select(func.coalesce(func.sum(GenerationJob.batch_size), 0))
                .where(col(GenerationJob.owner_id) == owner_id, col(GenerationJob.kind) == JobKind.IMAGE,
                       col(GenerationJob.status) == JobStatus.COMPLETED))
        return int((await self.session.execute(stmt)).scalar_one())

    async def delete(self, job_id: uuid.UUID) -> None:
        await self.session.execute(delete(GenerationJob).where(col(GenerationJob.id) == job_id))

    async def reassign(self, old: uuid.UUID, new: uuid.UUID) -> None:
        await self.session.execute(update(GenerationJob).where(col(GenerationJob.owner_id) == old)
                                   .values(owner_id=new))

    async def delete_for(self, owner_id: uuid.UUID) -> None:
        await self.session.execute(delete(GenerationJob).where(col(GenerationJob.owner_id) == owner_id))


# -- images ----------------------------------------------------------------------------------

class ImageRepository(_Repository):
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


# -- restorations ----------------------------------------------------------------------------

class RestorationRepository(_Repository):
    def readable_statement(self, owner_id: uuid.UUID, now: datetime) -> Any:
        """The owner's restorations that have not expired, each with its job."""
        return (select(Restoration, GenerationJob).join(GenerationJob, col(GenerationJob.id) == col(Restoration.id))
                .where(col(Restoration.owner_id) == owner_id, col(Restoration.expires_at) > now))

    def add(self, restoration: Restoration) -> None:
        self.session.add(restoration)

    async def get_for_owner(self, restoration_id: uuid.UUID, owner_id: uuid.UUID,
                            now: datetime) -> tuple[Restoration, GenerationJob] | None:
        stmt = self.readable_statement(owner_id, now).where(col(Restoration.id) == restoration_id)
        row = (await self.session.exec(stmt.execution_options(populate_existing=True))).first()
        return None if row is None else (row[0], row[1])

    async def get(self, restoration_id: uuid.UUID) -> Restoration | None:
        return await self.session.get(Restoration, restoration_id)

    async def list_for_owner(self, owner_id: uuid.UUID, now: datetime,
                             limit: int) -> list[tuple[Restoration, GenerationJob]]:
        stmt = self.readable_statement(owner_id, now).order_by(col(Restoration.created_at).desc()).limit(limit)
        return [(row[0], row[1]) for row in (await self.session.exec(stmt)).all()]

    async def count_active(self, owner_id: uuid.UUID, now: datetime) -> int:
        return await self._count(self.readable_statement(owner_id, now))

    async def set_outputs(self, restoration_id: uuid.UUID, preview_key: str, full_key: str) -> None:
        await self.session.execute(update(Restoration).where(col(Restoration.id) == restoration_id)
                                   .values(preview_key=preview_key, full_key=full_key))

    async def mark_unlocked(self, restoration_id: uuid.UUID, method: str, now: datetime) -> bool:
        stmt = (update(Restoration)
                .where(col(Restoration.id) == restoration_id, col(Restoration.unlocked_at).is_(None))
                .values(unlock_method=method, unlocked_at=now).returning(col(Restoration.id)))
        return (await self.session.execute(stmt)).scalar_one_or_none() is not None

    async def delete_expired(self, now: datetime, limit: int) -> tuple[int, list[str]]:
        """Delete up to `limit` restorations past their expiry, with their jobs (and whatever hangs
        off those); restorations another transaction holds are skipped (PostgreSQL). How many, and
        the storage keys of the files they named, to delete once this is committed."""
        stmt = (sa_select(col(Restoration.id), col(Restoration.original_key), col(Restoration.preview_key),
                          col(Restoration.full_key))
                .where(col(Restoration.expires_at) <= now).limit(limit))
        if self.is_postgres:
            stmt = stmt.with_for_update(skip_locked=True)
        rows = (await self.session.execute(stmt)).all()
        if not rows:
            return 0, []
        ids = [row[0] for row in rows]
        images = sa_select(col(GeneratedImage.storage_key), col(GeneratedImage.thumbnail_key)).where(
            col(GeneratedImage.job_id).in_(ids))
        keys = [key for row in rows for key in row[1:] if key]
        keys += [key for row in (await self.session.execute(images)).all() for key in row if key]
        await self.session.execute(delete(GenerationJob).where(col(GenerationJob.id).in_(ids)))  # restorations cascade
        return len(ids), keys

    async def for_owner(self, owner_id: uuid.UUID) -> Sequence[Restoration]:
        return (await self.session.exec(select(Restoration).where(col(Restoration.owner_id) == owner_id))).all()

    async def reassign(self, old: uuid.UUID, new: uuid.UUID) -> None:
        await self.session.execute(update(Restoration).where(col(Restoration.owner_id) == old).values(owner_id=new))


class ShareRepository(_Repository):
    async def get(self, user_id: uuid.UUID) -> ShareUnlock | None:
        stmt = select(ShareUnlock).where(col(ShareUnlock.user_id) == user_id).execution_options(populate_existing=True)
        return (await self.session.exec(stmt)).first()

    async def start(self, user_id: uuid.UUID, restoration_id: uuid.UUID, now: datetime) -> bool:
        """(Re)start the user's share for this restoration, unless the one share was used."""
        reset = {"restoration_id": restoration_id, "initiated_at": now, "redirected_at": None, "platform": None}
        stmt = (self.insert(ShareUnlock).values(user_id=user_id, **reset)
                .on_conflict_do_update(index_elements=["user_id"], set_=reset,
                                       where=col(ShareUnlock.used_at).is_(None))
                .returning(col(ShareUnlock.user_id)))
        return (await self.session.execute(stmt)).scalar_one_or_none() is not None

    async def record_redirect(self, user_id: uuid.UUID, restoration_id: uuid.UUID, platform: str,
                              now: datetime) -> bool:
        stmt = (update(ShareUnlock)
                .where(col(ShareUnlock.user_id) == user_id, col(ShareUnlock.restoration_id) == restoration_id,
                       col(ShareUnlock.used_at).is_(None))
                .values(redirected_at=now, platform=platform).returning(col(ShareUnlock.user_id)))
        return (await self.session.execute(stmt)).scalar_one_or_none() is not None

    async def use(self, user_id: uuid.UUID, restoration_id: uuid.UUID, redirected_since: datetime,
                  now: datetime) -> bool:
        stmt = (update(ShareUnlock)
                .where(col(ShareUnlock.user_id) == user_id, col(ShareUnlock.restoration_id) == restoration_id,
                       col(ShareUnlock.used_at).is_(None), col(ShareUnlock.redirected_at) >= redirected_since)
                .values(used_at=now).returning(col(ShareUnlock.user_id)))
        return (await self.session.execute(stmt)).scalar_one_or_none() is not None

    async def delete_for(self, user_id: uuid.UUID) -> None:
        await self.session.execute(delete(ShareUnlock).where(col(ShareUnlock.user_id) == user_id))


# -- storybooks (S0) -------------------------------------------------------------------------

def _book_access(owner_id: uuid.UUID, reader: uuid.UUID | None, client: str | None) -> ColumnElement[bool]:
    """The books `owner_id` owns; with `reader`, also those its claim moved to a user (to read);
    with `client`, only those made from that client or bound to none (an anonymous caller)."""
    who = col(Book.owner_id) == owner_id
    if reader is not None:
        who = or_(who, col(Book.anon_reader_id) == reader)
    if client is not None:
        who = and_(who, or_(col(Book.client_hash).is_(None), col(Book.client_hash) == client))
    return who


class BookRepository(_Repository):
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

    async def count_anonymous_of_client(self, client: str) -> int:
        return await self._count(select(Book).where(col(Book.anonymous).is_(True), col(Book.client_hash) == client))

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


class BookItemRepository(_Repository):
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

    async def select_version(self, item_id: uuid.UUID, version_id: uuid.UUID, now: datetime, *,
                             only_if_none: bool = False) -> None:
        conditions = [col(BookItem.id) == item_id]
        if only_if_none:
            conditions.append(col(BookItem.selected_version_id).is_(None))
        await self.session.execute(update(BookItem).where(*conditions)
                                   .values(selected_version_id=version_id, updated_at=now))

    async def delete(self, item_id: uuid.UUID) -> None:
        await self.session.execute(delete(BookItem).where(col(BookItem.id) == item_id))


class VersionRepository(_Repository):
    """Versions with their jobs (a version is a job of kind `storybook`)."""

    def add(self, version: BookItemVersion) -> None:
        self.session.add(version)

    def _with_job(self) -> Any:
        return (select(BookItemVersion, GenerationJob)
                .join(GenerationJob, col(GenerationJob.id) == col(BookItemVersion.id))
                .execution_options(populate_existing=True))

    async def get(self, version_id: uuid.UUID, item_id: uuid.UUID) -> tuple[BookItemVersion, GenerationJob] | None:
        stmt = self._with_job().where(col(BookItemVersion.id) == version_id, col(BookItemVersion.item_id) == item_id)
        row = (await self.session.exec(stmt)).first()
        return None if row is None else (row[0], row[1])

    async def by_id(self, version_id: uuid.UUID) -> BookItemVersion | None:
        return await self.session.get(BookItemVersion, version_id)

    async def page_of_item(self, item_id: uuid.UUID, *, limit: int,
                           offset: int) -> tuple[int, list[tuple[BookItemVersion, GenerationJob]]]:
        stmt = self._with_job().where(col(BookItemVersion.item_id) == item_id)
        count = await self._count(select(BookItemVersion).where(col(BookItemVersion.item_id) == item_id))
        page = stmt.order_by(col(BookItemVersion.version_number)).limit(limit).offset(offset)
        return count, [(row[0], row[1]) for row in (await self.session.exec(page)).all()]

    async def latest_of(self, item_ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, tuple[BookItemVersion, GenerationJob]]:
        """Each item's newest version, for a page of items in one query."""
        ids = list(item_ids)
        if not ids:
            return {}
        newest = (sa_select(col(BookItemVersion.item_id), func.max(BookItemVersion.version_number).label("number"))
                  .where(col(BookItemVersion.item_id).in_(ids)).group_by(col(BookItemVersion.item_id)).subquery())
        stmt = self._with_job().join(newest, and_(newest.c.item_id == col(BookItemVersion.item_id),
                                                  newest.c.number == col(BookItemVersion.version_number)))
        return {row[0].item_id: (row[0], row[1]) for row in (await self.session.exec(stmt)).all()}

    async def among(self, version_ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, tuple[BookItemVersion, GenerationJob]]:
        ids = [i for i in version_ids if i is not None]
        if not ids:
            return {}
        stmt = self._with_job().where(col(BookItemVersion.id).in_(ids))
        return {row[0].id: (row[0], row[1]) for row in (await self.session.exec(stmt)).all()}

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
        return [key for row in (await self.session.execute(stmt)).all() for key in row if key]

    async def keys_of_owner(self, owner_id: uuid.UUID) -> list[str]:
        stmt = (sa_select(col(BookItemVersion.image_key), col(BookItemVersion.thumbnail_key))
                .join(BookItem, col(BookItem.id) == col(BookItemVersion.item_id))
                .join(Book, col(Book.id) == col(BookItem.book_id)).where(col(Book.owner_id) == owner_id))
        return [key for row in (await self.session.execute(stmt)).all() for key in row if key]

    async def delete_jobs_of_items(self, item_ids: Iterable[uuid.UUID]) -> None:
        """The versions' jobs (the versions go with them, ON DELETE CASCADE)."""
        ids = list(item_ids)
        if ids:
            versions = sa_select(col(BookItemVersion.id)).where(col(BookItemVersion.item_id).in_(ids))
            await self.session.execute(delete(GenerationJob).where(col(GenerationJob.id).in_(versions)))


class RetryPackRepository(_Repository):
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


_PACK = CreditPack.__table__  # type: ignore[attr-defined]
# Every catalog.product_changed of a product that is not a pack (each checkout's stock change):
# built once, and on the table (an ORM-enabled DELETE would also plan to sync the session).
_REMOVE_PACK = delete(_PACK).where(_PACK.c.product_id == bindparam("product"))


def _hand_over_statement() -> Any:
    """What an anonymous id owns moved to its user in one statement (PostgreSQL: data-modifying
    CTEs): its rows re-owned, its favorites re-made for the user, its wallet deleted; the wallet's
    balance returned, for the caller to credit to the user's wallet."""
    old: Any = bindparam("old")
    new: Any = bindparam("new")

    def moved(model: Any, **values: Any) -> Any:
        table = model.__table__
        return update(table).where(table.c.owner_id == old).values(owner_id=new, **values).cte(f"moved_{table.name}")

    favorite, wallet = ImageFavorite.__table__, CreditWallet.__table__  # type: ignore[attr-defined]
    claimed_at: Any = bindparam("now", type_=Book.__table__.c.claimed_at.type)  # type: ignore[attr-defined]
    # Every part sees the statement's snapshot: the INSERT copies the favorites the DELETE removes.
    favorites = (pg_insert(favorite).from_select(
        ["owner_id", "image_id", "created_at"],
        sa_select(bindparam("new", type_=favorite.c.owner_id.type), favorite.c.image_id,
                  bindparam("now", type_=favorite.c.created_at.type))
        .where(favorite.c.owner_id == old))
        .on_conflict_do_nothing(index_elements=["owner_id", "image_id"]).cte("favorites"))
    old_favorites = delete(favorite).where(favorite.c.owner_id == old).cte("old_favorites")
    return (delete(wallet).where(wallet.c.owner_id == old).returning(wallet.c.balance)
            .add_cte(moved(CreditTransaction), moved(GenerationJob), moved(GeneratedImage), favorites, old_favorites,
                     moved(Restoration), moved(Book, anonymous=False, anon_reader_id=old, claimed_at=claimed_at),
                     moved(RetryPack)))


_HAND_OVER = _hand_over_statement()


class OwnerRepository(_Repository):
    """The `generation_owner` rows (`atelier_common.owners`)."""

    async def hand_over(self, old: uuid.UUID, new: uuid.UUID, now: datetime) -> int:
        """Everything `old` owns becomes `new`'s, but the credits: `old`'s wallet is deleted and
        what it held returned (for the caller to credit). One statement on PostgreSQL."""
        if self.is_postgres:
            return (await self.session.execute(_HAND_OVER, {"old": old, "new": new, "now": now})).scalar_one_or_none() or 0
        moved = await WalletRepository(self.session).take(old)
        await TransactionRepository(self.session).reassign(old, new)
        await JobRepository(self.session).reassign(old, new)
        await ImageRepository(self.session).reassign(old, new, now)
        await RestorationRepository(self.session).reassign(old, new)
        await BookRepository(self.session).reassign(old, new, now)
        await RetryPackRepository(self.session).reassign(old, new)
        return moved

    async def lock(self, owner_id: uuid.UUID, now: datetime, *, claimed_by: uuid.UUID | None = None,
                   erased: bool = False) -> OwnerState:
        return await lock_owner(self.session, GenerationOwner, owner_id, claimed_by=claimed_by, erased=erased,
                                now=now)

    async def buyer(self, owner_id: uuid.UUID, now: datetime) -> uuid.UUID | None:
        return await buyer_of(self.session, GenerationOwner, owner_id, now=now)
