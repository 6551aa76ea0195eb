"""Support's view of generation jobs: every customer's jobs by status, and a failed one retried.

A retry goes through the queue and the worker like any job (`generation.job_requested`), never a
call from the request. It is paid again (the failure refunded the job): the quota or credits, as a
new job would be, or 409 `INSUFFICIENT_CREDITS` and nothing changes. A job whose provider request
id is stored resumes by polling that request: no second paid submit (`provider_jobs.py`).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import date

from atelier_common import audit, outbox
from atelier_common.auth import Principal
from atelier_common.contracts.generation import JobRequested
from atelier_common.reports import DayWindow, day_window
from atelier_common.service import UseCase
from atelier_generation.context import GenerationContext
from atelier_generation.domain import JobKind, JobStatus
from atelier_generation.errors import InsufficientCredits, JobNotFound, JobNotRetryable, RetryUnpaid
from atelier_generation.models import Book, GenerationJob
from atelier_generation.repository import BookRepository, JobRepository
from atelier_generation.schemas import TransactionRead
from atelier_generation.service._shared import utcnow
from atelier_generation.service.credits import CreditService


class StaffJobs(UseCase[GenerationContext]):
    async def page(self, *, statuses: Sequence[str], customer: uuid.UUID | None, limit: int,
                   offset: int) -> tuple[int, Sequence[GenerationJob]]:
        return await JobRepository(self.session).staff_page(statuses=statuses, owner_id=customer, limit=limit,
                                                            offset=offset)

    async def failed_per_day(self, days: int) -> tuple[DayWindow, list[tuple[date, int]]]:
        """Jobs failed (and not retried since) per day of their failure, the last `days` days (UTC,
        today included): the dashboard's chart."""
        window = day_window(days, utcnow())
        return window, await JobRepository(self.session).count_per_day(JobStatus.FAILED, window.start)

    async def retry(self, job_id: uuid.UUID, staff: Principal, *, reason: str | None = None) -> GenerationJob:
        jobs = JobRepository(self.session)
        job = await jobs.get(job_id)
        if job is None:
            raise JobNotFound()
        if job.status != JobStatus.FAILED or job.kind == JobKind.STORYBOOK:
            raise JobNotRetryable(details={"status": job.status, "kind": job.kind})
        error = job.error
        # Guarded: of two retries at once, one requeues and the other finds it queued (409).
        requeued = await jobs.requeue_finished(job.id, JobStatus.FAILED, utcnow())
        if requeued is None:
            raise JobNotRetryable(details={"status": (await jobs.get(job_id) or job).status, "kind": job.kind})
        try:
            charge = await CreditService(self.session, self.context).charge_again(requeued)
        except InsufficientCredits as exc:
            raise RetryUnpaid(details=exc.details) from exc
        requeued.credits_charged, requeued.quota_charged, requeued.quota_period_end = (
            charge.credits, charge.quota, charge.quota_period_end)
        await outbox.add(self.session, JobRequested(job_id=requeued.id, kind=requeued.kind))
        await audit.record(self.session, staff, "job.retry", "job", requeued.id, reason=reason,
                           before={"status": JobStatus.FAILED, "error": error},
                           after={"status": JobStatus.QUEUED, "credits_charged": charge.credits,
                                  "quota_charged": charge.quota})
        return requeued


class StaffCustomerGeneration(UseCase[GenerationContext]):
    """A customer's generation side as support reads it: credits with their ledger, books."""

    async def credits(self, user_id: uuid.UUID) -> tuple[int, list[TransactionRead]]:
        credits = CreditService(self.session, self.context)
        return await credits.balance(user_id), await credits.transactions(user_id)

    async def books(self, user_id: uuid.UUID, *, limit: int, offset: int) -> tuple[int, Sequence[Book]]:
        return await BookRepository(self.session).page_for_owner(user_id, limit=limit, offset=offset)
