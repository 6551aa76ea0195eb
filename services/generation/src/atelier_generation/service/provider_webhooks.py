"""A hosted provider's webhook: verified, matched to its job, and used as a wake-up call.

The worker polls every provider job itself, so a webhook never changes a job: a forged, replayed
or lost one cannot complete, fail or charge anything. What it does: a job whose worker has gone
quiet (no heartbeat for `QUIET_SECONDS`: a crash whose message was lost) is announced again, so a
worker resumes it by polling its request id at once instead of at the next stale sweep.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta

from atelier_common import outbox
from atelier_common.contracts.generation import JobRequested
from atelier_common.service import UseCase
from atelier_generation import domain
from atelier_generation.context import GenerationContext
from atelier_generation.errors import (
    InvalidWebhookSignature,
    UnknownProvider,
    UnknownProviderRequest,
    WebhookNotVerifiable,
)
from atelier_generation.providers import InvalidWebhook, ProviderUnavailable
from atelier_generation.repository import JobRepository
from atelier_generation.service._shared import utcnow
from atelier_generation.service.provider_jobs import HEARTBEAT_SECONDS

QUIET_SECONDS = 2 * HEARTBEAT_SECONDS


class ProviderWebhookService(UseCase[GenerationContext]):
    async def receive(self, provider_name: str, headers: Mapping[str, str], body: bytes) -> str:
        provider = self.context.providers.get(provider_name)
        if provider is None:
            raise UnknownProvider()
        try:
            event = await provider.verify_webhook(headers, body)
        except InvalidWebhook as exc:
            raise InvalidWebhookSignature(exc.message) from exc
        except ProviderUnavailable as exc:
            raise WebhookNotVerifiable(exc.message) from exc
        jobs = JobRepository(self.session)
        job = await jobs.by_provider_request(provider_name, event.request_id)
        if job is None:
            raise UnknownProviderRequest(details={"request_id": event.request_id[:200]})
        now = utcnow()
        if job.status not in domain.ACTIVE_JOB_STATUSES:
            return "ignored"
        if job.heartbeat_at < now - timedelta(seconds=QUIET_SECONDS):
            await jobs.touch(job.id, now)
            await outbox.add(self.session, JobRequested(job_id=job.id, kind=job.kind))
            return "resumed"
        return "received"
