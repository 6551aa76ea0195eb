"""A job on a hosted provider, with the money rules (docs/providers.md):

- a submit goes out at most once per job unless the provider refused it: before it is sent, the
  job is marked (its own transaction, guarded by the claiming attempt); a refusal (429, 5xx, no
  connection) clears the mark, and the accepted request's id is stored at once (its own
  transaction) — a run that finds the mark without an id does not know whether the provider took
  the job, so it fails and refunds rather than pay twice (synchronous providers — OpenAI Images,
  Gemini — have no id: for them any interrupted submit ends so);
- a run that finds a request id resumes by polling it, never submitting again;
- a refused submit is tried again with back-off within a budget, honouring Retry-After, then on
  the model's fallback (same or lower price, refused submits only), then the job fails;
- a safety refusal ends the job `blocked` (the worker refunds it); the provider's cost and the
  latency are recorded with the result.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any, TypeVar

from sqlmodel.ext.asyncio.session import AsyncSession

from atelier_generation import domain
from atelier_generation.context import GenerationContext
from atelier_generation.domain import GenerationModel
from atelier_generation.models import GenerationJob
from atelier_generation.providers import (
    Provider,
    ProviderFailed,
    ProviderRequest,
    ProviderResult,
    ProviderUnavailable,
)
from atelier_generation.repository import JobRepository
from atelier_generation.service._shared import utcnow

log = logging.getLogger("atelier.generation.providers")
T = TypeVar("T")
Step = Callable[[Callable[[AsyncSession], Awaitable[Any]]], Awaitable[Any]]
# A job's heartbeat is refreshed at least this often while its provider works (the stale sweep's clock).
HEARTBEAT_SECONDS = 30.0


class Overtaken(Exception):
    """Another run claimed the job meanwhile: this one sends nothing more and records nothing."""


class ProviderJobRun:
    def __init__(self, context: GenerationContext, step: Step, job: GenerationJob) -> None:
        self.context, self.step, self.job = context, step, job
        self.settings = context.settings

    def _provider(self, name: str | None) -> Provider:
        provider = self.context.providers.get(name or "")
        if provider is None:
            raise ProviderFailed(f"The provider {name!r} is not configured any more")
        return provider

    async def images(self, references: tuple[bytes, ...] = ()) -> list[bytes]:
        job = self.job
        if job.provider_request_id:
            provider = self._provider(job.provider)
            started = job.provider_submitted_at or utcnow()
            result = await self._follow(provider, job.provider_model or "", job.provider_request_id, started)
            return await self._recorded(result, started)
        if job.provider_submitted_at is not None:
            raise ProviderFailed("An interrupted run had asked the provider and its answer was lost; "
                                 "the job is not sent again, so it cannot be paid twice")
        model = self.context.catalogue.get(job.model)
        if model is None or model.provider is None:
            raise ProviderFailed(f"The model {job.model!r} is not offered any more")
        try:
            return await self._run(model, references)
        except ProviderUnavailable as exc:
            fallback = self.context.catalogue.fallback_for(model)
            if fallback is None or fallback.provider is None:
                raise
            log.warning("job %s: %s refused (%s); falling back to %s", job.id, model.id, exc.message, fallback.id)
            return await self._run(fallback, references)

    def _request(self, model: GenerationModel, provider: Provider, references: tuple[bytes, ...]) -> ProviderRequest:
        job, base = self.job, self.settings.provider_webhook_base_url
        return ProviderRequest(
            model=model.provider_model, prompt=domain.provider_prompt(job.prompt, job.filters), params=model.params,
            batch_size=job.batch_size, seed=job.seed, size=self.settings.image_size,
            references=references if provider.accepts_references else (),
            webhook_url=f"{base.rstrip('/')}/api/v1/generation/providers/{provider.name}/webhook" if base else None)

    async def _run(self, model: GenerationModel, references: tuple[bytes, ...]) -> list[bytes]:
        job, settings = self.job, self.settings
        provider = self._provider(model.provider)
        request = self._request(model, provider, references)
        budget_ends = time.monotonic() + settings.provider_retry_budget_seconds
        retry = 0
        while True:
            started = utcnow()
            if not await self._mark_submitting(started, provider, model):
                raise Overtaken()
            try:
                submission = await provider.submit(request)
                break
            except ProviderUnavailable as exc:
                if not await self.step(lambda s: JobRepository(s).clear_submitting(job.id, job.attempts, utcnow())):
                    raise Overtaken() from exc
                wait = exc.retry_after if exc.retry_after is not None else settings.provider_backoff_seconds * 2**retry
                if retry >= settings.provider_submit_retries or time.monotonic() + wait > budget_ends:
                    raise
                log.info("job %s: %s (%s); submitting again in %.1fs", job.id, provider.name, exc.message, wait)
                retry += 1
                await asyncio.sleep(wait)
        if submission.result is not None:  # synchronous: the answer is the picture
            return await self._recorded(submission.result, started)
        request_id = submission.request_id
        if not request_id:
            raise ProviderFailed(f"{provider.name} accepted the job without a request id")
        # Stored before anything else: from here a crash resumes by polling this id.
        if not await self.step(lambda s: JobRepository(s).set_request_id(job.id, job.attempts, request_id, utcnow())):
            raise Overtaken()
        result = await self._follow(provider, model.provider_model, request_id, started)
        return await self._recorded(result, started)

    async def _mark_submitting(self, at: datetime, provider: Provider, model: GenerationModel) -> bool:
        job = self.job
        return bool(await self.step(lambda s: JobRepository(s).mark_submitting(
            job.id, job.attempts, at, provider=provider.name, provider_model=model.provider_model,
            served_model=model.id)))

    async def _show_progress(self, percent: int) -> None:
        await self.step(lambda s: JobRepository(s).set_progress(self.job.id, self.job.attempts, percent, utcnow()))

    async def _follow(self, provider: Provider, model: str, request_id: str, started: datetime) -> ProviderResult:
        """Poll until the provider has the images, then fetch them; a passing failure of a poll or
        of the fetch is polled through. Past the job's deadline: cancelled, failed."""
        settings, job = self.settings, self.job
        deadline = time.monotonic() + max(0.0, settings.provider_job_timeout_seconds
                                          - (utcnow() - started).total_seconds())
        delay, shown, touched = settings.provider_poll_seconds, job.progress, time.monotonic()
        while True:
            wait = delay
            try:
                progress = await provider.poll(model, request_id)
                if progress.done:
                    return await provider.fetch(model, request_id)
                if progress.percent > shown or time.monotonic() - touched > HEARTBEAT_SECONDS:
                    shown, touched = max(shown, progress.percent), time.monotonic()
                    await self._show_progress(shown)
            except ProviderUnavailable as exc:
                wait = max(delay, exc.retry_after or 0.0)
                log.info("job %s: polling %s: %s", job.id, provider.name, exc.message)
            if time.monotonic() + wait > deadline:
                await provider.cancel(model, request_id)
                raise ProviderFailed(f"{provider.name} did not finish the job within "
                                     f"{settings.provider_job_timeout_seconds:.0f}s")
            await asyncio.sleep(wait)
            delay = min(delay * 1.5, settings.provider_poll_max_seconds)

    async def _recorded(self, result: ProviderResult, started: datetime) -> list[bytes]:
        job = self.job
        if len(result.images) < job.batch_size:
            raise ProviderFailed(f"The provider returned {len(result.images)} of {job.batch_size} images")
        latency = int((utcnow() - started).total_seconds() * 1000)
        if not await self.step(lambda s: JobRepository(s).set_provider_outcome(
                job.id, job.attempts, latency_ms=latency, cost=result.cost, now=utcnow())):
            raise Overtaken()
        return result.images[:job.batch_size]
