"""/api/v1/generation: the model registry and image generation jobs (S4)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import APIRouter, Path, Request, status
from sse_starlette import EventSourceResponse, ServerSentEvent

from atelier_common.auth import AnonPrincipal, UserPrincipal
from atelier_common.cache import cached_route
from atelier_common.responses import ErrorResponses
from atelier_common.storefronts import CurrentStorefront
from atelier_generation.api.deps import INSUFFICIENT, NOT_FOUND, USER, JobServiceDep, ProviderWebhookServiceDep, RawBody
from atelier_generation.schemas import (
    JobAccepted,
    JobCreate,
    JobProgress,
    JobRead,
    ModelRead,
    ModelsRead,
    WebhookAck,
)

router = APIRouter(prefix="/api/v1/generation", tags=["generation"])
# The model registry is code and settings (`domain.MODELS`, `ATELIER_GENERATION_MODELS`): per
# storefront, it changes only with a restart, so its entries have no namespace and live for the cache TTL.
public = APIRouter(prefix="/api/v1/generation", tags=["generation"], route_class=cached_route())


@public.get("/models", summary="List generation models", response_model=ModelsRead)
async def list_models(storefront: CurrentStorefront, jobs: JobServiceDep) -> ModelsRead:
    """The image models the request's storefront offers, with what one image costs in credits."""
    return ModelsRead(models=[ModelRead(id=m.id, name=m.name, credits=m.credits, kind=m.kind)
                              for m in jobs.models(storefront.slug)])


@router.post("/jobs", summary="Start a generation job",
             response_model=JobAccepted, status_code=status.HTTP_202_ACCEPTED,
             responses={**USER, **INSUFFICIENT, 429: {"description": "Rate limited (per subscription tier)"}})
async def create_job(data: JobCreate, principal: UserPrincipal, storefront: CurrentStorefront,
                     jobs: JobServiceDep) -> JobAccepted:
    """Queue an image generation: `batch_size` images of `prompt` with a model; the credits are taken now and given
    back if the job fails. Follow it with `GET …/jobs/{job_id}` or its event stream."""
    job = await jobs.submit(principal, data, storefront.slug)
    return JobAccepted(job_id=job.id, status=job.status)


@router.get("/jobs/{job_id}", summary="Get a job", response_model=JobRead, responses={**USER, **NOT_FOUND})
async def get_job(job_id: uuid.UUID, principal: UserPrincipal, jobs: JobServiceDep) -> JobRead:
    """A job's status and progress and, once completed, its images (signed URLs)."""
    return await jobs.get(principal, job_id)


# The stream as the OpenAPI document shows it: one event per change, the last one `completed` or `failed`.
EVENTS: ErrorResponses = {200: {"description": "Server-Sent Events until the job ends", "content": {"text/event-stream": {
    "schema": {"type": "string"},
    "example": ('event: running\ndata: {"job_id":"a9d57fde-7423-477d-be81-11f499820286","status":"running",'
                '"progress":40,"error":null}\n\n: keep-alive\n\nevent: completed\ndata: {"job_id":'
                '"a9d57fde-7423-477d-be81-11f499820286","status":"completed","progress":100,"error":null}\n\n')}}}}


async def _sse(events: AsyncIterator[JobProgress | None]) -> AsyncIterator[ServerSentEvent]:
    async for event in events:
        if event is None:  # the service's heartbeat while nothing changes
            yield ServerSentEvent(comment="keep-alive", sep="\n")
        else:
            yield ServerSentEvent(data=event.model_dump_json(), event=event.status, sep="\n")


@router.get("/jobs/{job_id}/events", summary="Stream a job's progress",
            response_class=EventSourceResponse, responses={**EVENTS, **USER, **NOT_FOUND})
async def stream_job_events(job_id: uuid.UUID, principal: AnonPrincipal,
                            jobs: JobServiceDep) -> EventSourceResponse:
    """Server-Sent Events: one `event: <status>` per change of status or progress, until the job completed or
    failed. Storybook versions too (their `job_id`), for anonymous owners as well."""
    events = await jobs.watch(principal, job_id)
    # sse-starlette frames the events (LF-separated, as before) and ends the stream on a disconnect.
    return EventSourceResponse(_sse(events), headers={"Cache-Control": "no-cache"})


@router.post("/providers/{provider}/webhook", summary="Receive a generation provider's callback",
             response_model=WebhookAck,
             responses={**NOT_FOUND, 400: {"description": "INVALID_SIGNATURE"},
                        503: {"description": "The provider's keys cannot be fetched now"}})
async def receive_provider_webhook(provider: Annotated[str, Path(max_length=32)], request: Request, body: RawBody,
                                   webhooks: ProviderWebhookServiceDep) -> WebhookAck:
    """A hosted provider's signed callback (fal.ai, Replicate, kie.ai), verified on the exact bytes; for the
    providers only, not for clients."""
    return WebhookAck(status=await webhooks.receive(provider, request.headers, body))
