"""Generation jobs: queued, claimed by a worker, finished."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import ColumnElement, case, delete, func, update
from sqlalchemy import select as sa_select
from sqlmodel import col, select
from sqlmodel.sql.expression import SelectOfScalar

from atelier_common.columns import utc_day
from atelier_generation.domain import ACTIVE_JOB_STATUSES, JobKind, JobStatus
from atelier_generation.models import (
    GenerationJob,
)
from atelier_generation.repository._base import RepositoryBase


class JobRepository(RepositoryBase):
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

    async def fail(self, job_id: uuid.UUID, reason: str, now: datetime, *, attempt: int | None = None,
                   status: JobStatus = JobStatus.FAILED) -> GenerationJob | None:
        """Any unfinished job → failed (or blocked), once; the job as it was charged, or None."""
        conditions: list[ColumnElement[bool]] = [col(GenerationJob.id) == job_id,
                                                 col(GenerationJob.status).in_(ACTIVE_JOB_STATUSES)]
        if attempt is not None:
            conditions.append(col(GenerationJob.attempts) == attempt)
        stmt = (update(GenerationJob).where(*conditions)
                .values(status=status, error=reason[:500], finished_at=now, heartbeat_at=now)
                .returning(col(GenerationJob.id)))
        if (await self.session.execute(stmt)).scalar_one_or_none() is None:
            return None
        return await self.get(job_id)

    async def requeue_finished(self, job_id: uuid.UUID, from_status: str, now: datetime) -> GenerationJob | None:
        """A failed job queued again (staff retry), once: None when it was not `from_status`.
        Its attempts start over; a stored provider request id stays (the run resumes by polling it,
        never paying a second submit); a submit mark without an id is cleared (the run that set it
        failed, so the job was refunded: the retry pays again, and may submit)."""
        stmt = (update(GenerationJob)
                .where(col(GenerationJob.id) == job_id, col(GenerationJob.status) == from_status)
                .values(status=JobStatus.QUEUED, attempts=0, progress=0, error=None, started_at=None,
                        finished_at=None, heartbeat_at=now,
                        provider_submitted_at=case((col(GenerationJob.provider_request_id).is_(None), None),
                                                   else_=col(GenerationJob.provider_submitted_at)))
                .returning(col(GenerationJob.id)))
        if (await self.session.execute(stmt)).scalar_one_or_none() is None:
            return None
        return await self.get(job_id)

    async def staff_page(self, *, statuses: Sequence[str], owner_id: uuid.UUID | None, limit: int,
                         offset: int) -> tuple[int, Sequence[GenerationJob]]:
        """Every owner's jobs, newest first, by status and owner."""
        stmt = select(GenerationJob)
        if statuses:
            stmt = stmt.where(col(GenerationJob.status).in_(statuses))
        if owner_id is not None:
            stmt = stmt.where(col(GenerationJob.owner_id) == owner_id)
        count = (await self.session.exec(select(func.count()).select_from(stmt.subquery()))).one()
        rows = await self.session.exec(stmt.order_by(col(GenerationJob.created_at).desc(), col(GenerationJob.id).desc())
                                       .limit(limit).offset(offset))
        return count, rows.all()

    async def count_per_day(self, status: str, since: datetime) -> list[tuple[date, int]]:
        """Jobs now in `status` per UTC day of their end (their creation if they have none), from
        `since` on, oldest day first."""
        day = utc_day(func.coalesce(col(GenerationJob.finished_at), col(GenerationJob.created_at)))
        stmt = (sa_select(day, func.count()).where(col(GenerationJob.status) == status)
                .where(func.coalesce(col(GenerationJob.finished_at), col(GenerationJob.created_at)) >= since)
                .group_by(day).order_by(day))
        return [(date.fromisoformat(row[0]), int(row[1])) for row in (await self.session.execute(stmt)).all()]

    # -- a hosted provider's job: each write guarded by the attempt that claimed the job ------------

    def _claimed(self, job_id: uuid.UUID, attempt: int) -> list[ColumnElement[bool]]:
        return [col(GenerationJob.id) == job_id, col(GenerationJob.status) == JobStatus.RUNNING,
                col(GenerationJob.attempts) == attempt]

    async def _guarded(self, conditions: list[ColumnElement[bool]], **values: Any) -> bool:
        stmt = update(GenerationJob).where(*conditions).values(**values).returning(col(GenerationJob.id))
        return (await self.session.execute(stmt)).scalar_one_or_none() is not None

    async def mark_submitting(self, job_id: uuid.UUID, attempt: int, now: datetime, *, provider: str,
                              provider_model: str, served_model: str) -> bool:
        """Record that a submit is about to go out; False when another run got there first (or
        an earlier submit's fate is unknown): this run must not send one."""
        return await self._guarded(
            [*self._claimed(job_id, attempt), col(GenerationJob.provider_submitted_at).is_(None),
             col(GenerationJob.provider_request_id).is_(None)],
            provider=provider, provider_model=provider_model, served_model=served_model,
            provider_submitted_at=now, heartbeat_at=now)

    async def clear_submitting(self, job_id: uuid.UUID, attempt: int, now: datetime) -> bool:
        """The provider refused the submit: nothing was taken, a later submit is safe."""
        return await self._guarded(self._claimed(job_id, attempt), provider_submitted_at=None, heartbeat_at=now)

    async def set_request_id(self, job_id: uuid.UUID, attempt: int, request_id: str, now: datetime) -> bool:
        return await self._guarded(self._claimed(job_id, attempt), provider_request_id=request_id,
                                   progress=10, heartbeat_at=now)

    async def set_provider_outcome(self, job_id: uuid.UUID, attempt: int, *, latency_ms: int,
                                   cost: Decimal | None, now: datetime) -> bool:
        return await self._guarded(self._claimed(job_id, attempt), provider_latency_ms=latency_ms,
                                   provider_cost=cost, progress=60, heartbeat_at=now)

    async def by_provider_request(self, provider: str, request_id: str) -> GenerationJob | None:
        stmt = select(GenerationJob).where(col(GenerationJob.provider) == provider,
                                           col(GenerationJob.provider_request_id) == request_id)
        return (await self.session.exec(stmt)).first()

    async def touch(self, job_id: uuid.UUID, now: datetime) -> None:
        await self.session.execute(update(GenerationJob).where(
            col(GenerationJob.id) == job_id, col(GenerationJob.status).in_(ACTIVE_JOB_STATUSES))
            .values(heartbeat_at=now))

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
