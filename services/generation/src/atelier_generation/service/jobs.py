"""Generation jobs from the client's side: submit (charge + queue in one transaction), read,
and follow progress (the stream behind the Server-Sent Events route)."""

from __future__ import annotations

import asyncio
import secrets
import time
import uuid
from collections.abc import AsyncIterator

from sqlmodel.ext.asyncio.session import AsyncSession

from atelier_common import outbox
from atelier_common.auth import Principal
from atelier_common.contracts.generation import JobRequested
from atelier_common.service import UseCase
from atelier_generation import domain
from atelier_generation.context import GenerationContext
from atelier_generation.domain import JobKind, JobStatus
from atelier_generation.errors import JobNotFound, UnknownModel
from atelier_generation.models import GenerationJob
from atelier_generation.repository import ImageRepository, JobRepository
from atelier_generation.schemas import ImageRef, JobCreate, JobProgress, JobRead
from atelier_generation.service._shared import utcnow
from atelier_generation.service.credits import CreditService


class JobService(UseCase[GenerationContext]):
    def __init__(self, session: AsyncSession, context: GenerationContext) -> None:
        super().__init__(session, context)
        self.credits = CreditService(session, context)

    async def submit(self, principal: Principal, data: JobCreate, storefront: str) -> GenerationJob:
        """Charge and queue a job of the request's `storefront` (its events and credit rows carry it)."""
        catalogue = self.context.catalogue
        model = catalogue.image_model(data.model, storefront)
        if model is None:
            offered = ", ".join(m.id for m in catalogue.listed(storefront) if m.kind is JobKind.IMAGE)
            raise UnknownModel(details={"fields": {"model": [f"one of {offered}"]}})
        owner_id = principal.owner_id
        now = utcnow()
        tier = await self.credits.tier(principal.user_id, now)
        await self.context.limiter.hit(domain.rate_limit_for(tier, self.context.settings.generation_rate_limits),
                                     "generation", str(owner_id))
        job = GenerationJob(id=uuid.uuid4(), owner_id=owner_id, kind=JobKind.IMAGE, model=model.id,
                            prompt=data.prompt, filters=data.filters.model_dump(exclude_none=True),
                            batch_size=data.batch_size,
                            seed=data.seed if data.seed is not None else secrets.randbelow(2**31),
                            storefront=storefront, created_at=now, heartbeat_at=now)
        charge = await self.credits.charge_job(
            owner_id, images=data.batch_size, credits=domain.job_cost(model, data.batch_size),
            job_id=job.id, description=f"{model.name} × {data.batch_size}", storefront=storefront)
        job.credits_charged, job.quota_charged, job.quota_period_end = (
            charge.credits, charge.quota, charge.quota_period_end)
        JobRepository(self.session).add(job)
        await outbox.add(self.session, JobRequested(job_id=job.id, kind=job.kind))
        return job

    def models(self, storefront: str) -> list[domain.GenerationModel]:
        """The catalogue as the storefront sells it: a model of an unconfigured provider is not there."""
        return self.context.catalogue.listed(storefront)

    async def _load(self, principal: Principal, job_id: uuid.UUID,
                    kinds: tuple[JobKind, ...] = (JobKind.IMAGE,)) -> GenerationJob:
        job = await JobRepository(self.session).get_for_owner(job_id, principal.owner_id, kinds=kinds)
        if job is None:
            raise JobNotFound()
        return job

    async def get(self, principal: Principal, job_id: uuid.UUID) -> JobRead:
        job = await self._load(principal, job_id)
        images = await ImageRepository(self.session).for_job(job.id) if job.status == JobStatus.COMPLETED else []
        return JobRead(job_id=job.id, status=job.status, progress=job.progress, model=job.model, prompt=job.prompt,
                       filters=job.filters, batch_size=job.batch_size, seed=job.seed,
                       credits_charged=job.credits_charged, attempts=job.attempts, error=job.error,
                       storefront=job.storefront,
                       images=[ImageRef(id=i.id, url=self.context.url(i.storage_key),
                                        thumbnail_url=self.context.url(i.thumbnail_key)) for i in images],
                       created_at=job.created_at, started_at=job.started_at, finished_at=job.finished_at)

    async def watch(self, principal: Principal,
                    job_id: uuid.UUID) -> AsyncIterator[JobProgress | None]:
        """Check ownership now (a 404 before any byte is streamed), then follow the job.

        The stream yields a `JobProgress` whenever status or progress changes and None as a
        heartbeat; it ends once the job completed or failed (or after `sse_max_seconds`). Each
        poll is one primary-key read on its own short self.session: no connection is held between.
        """
        # A storybook version is followed on the same stream (its owner may be anonymous).
        await self._load(principal, job_id, (JobKind.IMAGE, JobKind.STORYBOOK))
        return self._follow(job_id)

    async def _follow(self, job_id: uuid.UUID) -> AsyncIterator[JobProgress | None]:
        settings = self.context.settings
        started = last_beat = time.monotonic()
        last: tuple[str, int] | None = None
        while time.monotonic() - started < settings.sse_max_seconds:
            # Each poll its own short read: the stream holds no connection (nor the request's) between polls.
            async with self.context.db.read_only() as session:
                job = await JobRepository(session).get(job_id)
            if job is None:
                return
            if (job.status, job.progress) != last:
                last, last_beat = (job.status, job.progress), time.monotonic()
                yield JobProgress(job_id=job.id, status=job.status, progress=job.progress, error=job.error)
                if job.status in domain.TERMINAL_JOB_STATUSES:
                    return
            elif time.monotonic() - last_beat >= settings.sse_heartbeat_seconds:
                last_beat = time.monotonic()
                yield None
            await asyncio.sleep(settings.sse_poll_seconds)
