"""Wiring: builds generation's long-lived objects at startup and attaches them to the runtime."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass

from atelier_common.ratelimit import RateLimiter
from atelier_common.service import Runtime
from atelier_generation import imaging
from atelier_generation.generators import Generators
from atelier_generation.service import (
    AccountService,
    CreditService,
    ImageService,
    JobRunner,
    JobService,
    RestorationService,
    Tools,
)
from atelier_generation.settings import GenerationSettings
from atelier_generation.signing import UrlSigner
from atelier_generation.storage import LocalFileStorage

log = logging.getLogger("atelier.generation")


@dataclass
class Generation:
    """What generation's routes and consumers reach through `runtime.generation`."""

    tools: Tools
    credits: CreditService
    jobs: JobService
    runner: JobRunner
    images: ImageService
    restorations: RestorationService
    accounts: AccountService
    sweeper: asyncio.Task[None] | None = None


def build(runtime: Runtime) -> Generation:
    settings: GenerationSettings = runtime.settings  # type: ignore[assignment]
    tools = Tools(settings=settings, storage=LocalFileStorage(settings.resolved_storage_dir),
                  signer=UrlSigner(settings.url_signing_secret, base_url=settings.public_base_url,
                                   asset_ttl=settings.signed_url_ttl_seconds,
                                   share_ttl=settings.share_token_ttl_seconds),
                  generators=Generators(settings, runtime.http),
                  limiter=RateLimiter(settings.redis_url, moving_window=False))
    credits = CreditService(tools)
    return Generation(tools=tools, credits=credits, jobs=JobService(tools, runtime.db, credits),
                      runner=JobRunner(tools, runtime.db, credits), images=ImageService(tools, credits),
                      restorations=RestorationService(tools, credits), accounts=AccountService(tools, credits))


async def sweep(runtime: Runtime, generation: Generation) -> None:
    """Re-announce stale jobs and remove expired restorations (the worker role's housekeeping)."""
    await generation.runner.requeue_stale()
    async with runtime.db.transaction() as session:
        await generation.restorations.purge_expired(session)


async def _sweep_forever(runtime: Runtime, generation: Generation, every: float) -> None:
    while True:
        try:
            await sweep(runtime, generation)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("generation sweep failed; will try again")
        if every <= 0:
            return
        await asyncio.sleep(every)


async def start(runtime: Runtime) -> None:
    settings: GenerationSettings = runtime.settings  # type: ignore[assignment]
    imaging.set_pixel_limit(settings.max_image_pixels)
    generation = build(runtime)
    runtime.generation = generation  # type: ignore[attr-defined]
    if "worker" in runtime.roles:
        generation.sweeper = asyncio.create_task(_sweep_forever(runtime, generation, settings.job_sweep_seconds))


async def stop(runtime: Runtime) -> None:
    generation: Generation | None = getattr(runtime, "generation", None)
    if generation is not None and generation.sweeper is not None:
        generation.sweeper.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await generation.sweeper
