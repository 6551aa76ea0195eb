"""Restorations and the unlocks of their shares."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import delete, update
from sqlalchemy import select as sa_select
from sqlmodel import col, select

from atelier_generation.models import (
    GeneratedImage,
    GenerationJob,
    Restoration,
    ShareUnlock,
)
from atelier_generation.repository._base import RepositoryBase


class RestorationRepository(RepositoryBase):
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

    async def any_for_owner(self, owner_id: uuid.UUID) -> bool:
        """Whether the owner ever started a restoration still on record (expired ones count)."""
        stmt = select(Restoration.id).where(col(Restoration.owner_id) == owner_id).limit(1)
        return (await self.session.exec(stmt)).first() is not None

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


class ShareRepository(RepositoryBase):
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
