"""The worker: runs a job named by `generation.job_requested`, safely more than once.

A job's life is three short transactions around the slow part:
1. **claim**: queued (or running, left by a crashed worker) → running, `attempts + 1`;
2. the generator works off the event loop, the files are stored under keys derived from the
   job (a re-run writes the same keys);
3. **record**: completed + images (or failed + refund) — guarded by the attempt that claimed
   it, so an overtaken run records nothing.

A message redelivered after a crash finds the job running and claims it again, until
`job_max_attempts`; past that the job fails and its credits go back. A message for a finished
job does nothing. The sweep re-announces jobs nobody touched for `job_stale_seconds` (a message
lost with an embedded process, or dead-lettered), at most once per period.

The message is handled outside the inbox (the claim is the idempotency), and each step is a
transaction of its own: progress is visible while the job runs, a crash keeps the claim (the
attempt counts), and no connection is held while the picture is made. A step that meets a
transient failure (a dropped connection, an exhausted pool) is retried with back-off; one that
still fails leaves the job to be redelivered or swept — only the generator's own failure fails a
job for good.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import TypeVar

from sqlmodel.ext.asyncio.session import AsyncSession

from atelier_common import outbox
from atelier_common.contracts.generation import JobCompleted, JobFailed, JobRequested
from atelier_common.storage import StoredFileNotFound
from atelier_common.transient import is_transient, retry_transient
from atelier_generation import domain, imaging, metrics
from atelier_generation.context import GenerationContext
from atelier_generation.domain import JobKind, JobStatus
from atelier_generation.errors import GeneratorFailed
from atelier_generation.generators import ImageRequest
from atelier_generation.models import GeneratedImage, GenerationJob, Restoration
from atelier_generation.providers import ProviderError, ProviderFailed, SafetyRefusal
from atelier_generation.repository import ImageRepository, JobRepository, RestorationRepository
from atelier_generation.service._shared import utcnow
from atelier_generation.service.books import BookService
from atelier_generation.service.credits import CreditService
from atelier_generation.service.provider_jobs import Overtaken, ProviderJobRun

log = logging.getLogger("atelier.generation.worker")
T = TypeVar("T")


@dataclass(frozen=True)
class StoredImage:
    id: uuid.UUID
    key: str
    thumbnail_key: str
    width: int
    height: int
    size_bytes: int


@dataclass(frozen=True)
class Outputs:
    keys: list[str]
    images: list[StoredImage]
    preview_key: str | None = None
    full_key: str | None = None


def image_keys(image_id: uuid.UUID, prefix: str = "images") -> tuple[str, str]:
    return f"{prefix}/{image_id}.png", f"{prefix}/{image_id}_thumb.png"


class JobRunner:
    """The worker's entry point for one job (not a use case): it owns its transactions, one per step,
    so a long generation never holds a transaction open (on SQLite the steps share the inbox's)."""

    def __init__(self, context: GenerationContext) -> None:
        self.context = context
        self.db = context.db
        # Jobs the current step finished (completed or failed): counted once its transaction commits.
        self._finished: list[tuple[GenerationJob, JobStatus]] = []

    async def _step(self, work: Callable[[AsyncSession], Awaitable[T]]) -> T:
        """One short transaction, retried with back-off on a transient failure."""
        async def attempt() -> T:
            self._finished.clear()
            async with self.db.transaction() as session:
                result = await work(session)
            ended = utcnow()
            for job, status in self._finished:
                seconds = (ended - job.started_at).total_seconds() if job.started_at else None
                metrics.job_finished(job.storefront, job.kind, status, provider=self._provider_of(job), seconds=seconds)
                # The business line of a finished job, once committed (docs/operations.md).
                log.info("job %s %s: %s on storefront %s%s", job.id, status, job.kind, job.storefront,
                         f" ({job.error})" if job.error and status != JobStatus.COMPLETED else "",
                         extra={"fields": {"job_id": str(job.id), "job_kind": str(job.kind), "job_status": str(status),
                                           "storefront": job.storefront, "model": job.model}})
            self._finished.clear()
            return result

        return await retry_transient(attempt)

    def _provider_of(self, job: GenerationJob) -> str:
        model = self.context.catalogue.get(job.served_model or job.model)
        return (model.provider if model else None) or "local"

    async def run(self, job_id: uuid.UUID) -> None:
        claimed = await self._step(lambda session: self._claim(session, job_id))
        if claimed is None:
            return
        job, restoration = claimed
        try:
            outputs = await self._produce(job, restoration)
        except Overtaken:
            return  # a later claim owns the job now
        except SafetyRefusal as exc:
            refused = f"Refused by the provider's safety system: {exc.message}"
            await self._step(lambda session: self.fail(session, job.id, refused, attempt=job.attempts,
                                                        status=JobStatus.BLOCKED))
            return
        except Exception as exc:
            if is_transient(exc):
                raise  # not the job's fault: the message is redelivered (or the sweep re-announces it)
            known = isinstance(exc, GeneratorFailed | ProviderError)
            reason = exc.message if isinstance(exc, GeneratorFailed | ProviderError) else "The job failed"
            log.warning("job %s failed on attempt %s: %r", job.id, job.attempts, exc, exc_info=not known)
            await self._step(lambda session: self.fail(session, job.id, reason, attempt=job.attempts))
            return
        await self._step(lambda session: self._record(session, job, outputs))

    async def _claim(self, session: AsyncSession,
                     job_id: uuid.UUID) -> tuple[GenerationJob, Restoration | None] | None:
        jobs = JobRepository(session)
        job = await jobs.claim(job_id, self.context.settings.job_max_attempts, utcnow())
        if job is None:
            current = await jobs.get(job_id)
            if current is not None and current.status == JobStatus.RUNNING:
                # Every attempt was claimed and none finished: the job keeps crashing its worker.
                await self.fail(session, job_id, "The job was interrupted too many times")
            return None
        restoration = await RestorationRepository(session).get(job.id) if job.kind == JobKind.RESTORATION else None
        return job, restoration

    async def _produce(self, job: GenerationJob, restoration: Restoration | None) -> Outputs:
        if job.kind == JobKind.STORYBOOK:
            return await self._generate(job, key_prefix="books")
        if job.kind == JobKind.RESTORATION:
            if restoration is None:
                raise GeneratorFailed("The restoration is gone")
            return await self._restore(job, restoration)
        return await self._generate(job)

    async def _generate(self, job: GenerationJob, *, key_prefix: str = "images") -> Outputs:
        settings, storage = self.context.settings, self.context.storage
        model = self.context.catalogue.get(job.model)
        if job.provider is not None or (model is not None and model.provider is not None):
            references = tuple([data for key in job.reference_keys if (data := await self._reference(key))])
            received = await ProviderJobRun(self.context, self._step, job).images(references)
            # One format in storage whatever the provider sent (and a full decode proves it an image).
            try:
                pictures = [await asyncio.to_thread(imaging.as_png, data) for data in received]
            except (OSError, ValueError) as exc:
                raise ProviderFailed("The provider returned an image that cannot be read") from exc
        else:
            request = ImageRequest(model=job.model, prompt=job.prompt, filters=job.filters, seed=job.seed,
                                   batch_size=job.batch_size, size=settings.image_size)
            pictures = await self.context.generators.for_model(job.model).generate(request)
            await self._step(lambda session: JobRepository(session).set_progress(job.id, job.attempts, 60, utcnow()))
        stored, keys = [], []
        for index, data in enumerate(pictures):
            # Derived from the job: a second run of the same job writes the same files.
            image_id = uuid.uuid5(job.id, str(index))
            key, thumbnail_key = image_keys(image_id, key_prefix)
            thumbnail = await asyncio.to_thread(imaging.thumbnail, data, settings.thumbnail_size)
            width, height = await asyncio.to_thread(imaging.dimensions, data)
            await storage.put(key, data)
            await storage.put(thumbnail_key, thumbnail)
            keys += [key, thumbnail_key]
            stored.append(StoredImage(id=image_id, key=key, thumbnail_key=thumbnail_key, width=width, height=height,
                                      size_bytes=len(data)))
        return Outputs(keys=keys, images=stored)

    async def _reference(self, key: str) -> bytes | None:
        try:
            return await self.context.storage.get(key)
        except StoredFileNotFound:
            return None  # a reference deleted meanwhile: the picture is made without it

    async def _restore(self, job: GenerationJob, restoration: Restoration) -> Outputs:
        storage, settings = self.context.storage, self.context.settings
        try:
            original = await storage.get(restoration.original_key)
        except StoredFileNotFound as exc:
            raise GeneratorFailed("The uploaded photo is missing") from exc
        full = await self.context.generators.for_model(job.model).restore(original)
        preview = await asyncio.to_thread(imaging.watermarked_preview, full, settings.preview_max_side)
        extension = "png" if imaging.sniff_format(full[:16]) == "PNG" else "jpg"
        full_key, preview_key = f"restorations/{job.id}/full.{extension}", f"restorations/{job.id}/preview.jpg"
        await storage.put(full_key, full)
        await storage.put(preview_key, preview)
        return Outputs(keys=[full_key, preview_key], images=[], preview_key=preview_key, full_key=full_key)

    async def _record(self, session: AsyncSession, job: GenerationJob, outputs: Outputs) -> None:
        jobs = JobRepository(session)
        if not await jobs.complete(job.id, job.attempts, utcnow()):
            current = await jobs.get(job.id)
            if current is None or current.status in domain.UNSUCCESSFUL_JOB_STATUSES:
                # Deleted or failed meanwhile: nothing will ever point at these files.
                await self.context.storage.delete(outputs.keys)
            return
        if job.kind == JobKind.RESTORATION:
            assert outputs.preview_key and outputs.full_key
            await RestorationRepository(session).set_outputs(job.id, outputs.preview_key, outputs.full_key)
        elif job.kind == JobKind.STORYBOOK:
            image = outputs.images[0]
            await BookService(session, self.context).version_made(job.id, key=image.key, thumbnail_key=image.thumbnail_key,
                                                                  width=image.width, height=image.height)
        else:
            model = self.context.catalogue.get(job.served_model or job.model)
            tags = domain.tags_from_filters(job.filters)
            images = [GeneratedImage(id=s.id, owner_id=job.owner_id, job_id=job.id, model=job.model,
                                     prompt=job.prompt, filters=job.filters, storage_key=s.key,
                                     thumbnail_key=s.thumbnail_key, width=s.width, height=s.height,
                                     size_bytes=s.size_bytes, is_premium=bool(model and model.premium))
                      for s in outputs.images]
            await ImageRepository(session).add_all(images, {image.id: tags for image in images})
        await outbox.add(session, JobCompleted(job_id=job.id, owner_id=job.owner_id, kind=job.kind,
                                               asset_ids=[s.id for s in outputs.images], storefront=job.storefront))
        self._finished.append((job, JobStatus.COMPLETED))

    async def fail(self, session: AsyncSession, job_id: uuid.UUID, reason: str, *, attempt: int | None = None,
                   status: JobStatus = JobStatus.FAILED) -> bool:
        """Fail (or block) an unfinished job once, give back what it took and announce it.

        A blocked job is announced as `job.failed` too: its consumers (the owner's notice) need
        only "nothing made, refunded", and the reason says why."""
        job = await JobRepository(session).fail(job_id, reason, utcnow(), attempt=attempt, status=status)
        if job is None:
            return False
        refunded = await CreditService(session, self.context).refund_job(job)
        if job.kind == JobKind.STORYBOOK:
            await BookService(session, self.context).version_failed(job.id)
        await outbox.add(session, JobFailed(job_id=job.id, owner_id=job.owner_id, kind=job.kind, reason=reason,
                                            refunded_credits=refunded, storefront=job.storefront))
        self._finished.append((job, status))
        return True

    async def requeue_stale(self) -> int:
        """Announce again every job nobody touched for `job_stale_seconds`."""
        now = utcnow()
        cutoff = now - timedelta(seconds=self.context.settings.job_stale_seconds)
        async with self.db.transaction() as session:
            stale = await JobRepository(session).touch_stale(cutoff, now)
            for job_id, kind in stale:
                await outbox.add(session, JobRequested(job_id=job_id, kind=kind))
        if stale:
            log.warning("re-queued %s stale job(s)", len(stale))
        return len(stale)
