"""Generation's context, built once at start; the worker role's sweeper runs beside it."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from atelier_common.loops import BackgroundLoop
from atelier_common.ratelimit import rate_limiter
from atelier_common.service import Runtime
from atelier_common.storage import open_storage
from atelier_generation import imaging, sweeper
from atelier_generation.clients import ServiceClients
from atelier_generation.context import GenerationContext
from atelier_generation.domain import Catalogue, GenerationModel, JobKind
from atelier_generation.generators import Generators
from atelier_generation.providers import build_providers
from atelier_generation.settings import GenerationSettings
from atelier_generation.signing import UrlSigner

log = logging.getLogger("atelier.generation")


def catalogue(settings: GenerationSettings) -> Catalogue:
    """The built-in models with the settings' added or replaced; a model whose provider is not
    configured is left out (and with it any fallback to it)."""
    models = [GenerationModel(id=m.id, name=m.name, credits=m.credits, kind=JobKind(m.kind), premium=m.premium,
                              provider=m.provider, provider_model=m.provider_model, params=dict(m.params),
                              fallback=m.fallback, storefronts=tuple(m.storefronts)) for m in settings.models]
    built = Catalogue.build(models, settings.providers)
    for model in models:
        if built.get(model.id) is None:
            log.warning("model %s is not offered: its provider %r is not configured", model.id, model.provider)
        elif model.fallback and built.fallback_for(model) is None:
            log.warning("model %s: its fallback %s is not used (not offered, another kind, or dearer)",
                        model.id, model.fallback)
    return built


@asynccontextmanager
async def context(runtime: Runtime) -> AsyncIterator[GenerationContext]:
    settings = GenerationSettings.of(runtime)
    imaging.set_pixel_limit(settings.max_image_pixels)
    async with open_storage(settings, settings.resolved_storage_dir) as storage:
        built = GenerationContext(
            settings=settings, db=runtime.db, http=runtime.http, storage=storage,
            signer=UrlSigner(settings.url_signing_secret, base_url=settings.public_base_url,
                             asset_ttl=settings.signed_url_ttl_seconds, share_ttl=settings.share_token_ttl_seconds),
            generators=Generators(settings, runtime.http),
            limiter=rate_limiter(settings, moving_window=False), clients=ServiceClients(runtime.internal),
            cache=runtime.cache, catalogue=catalogue(settings),
            providers=build_providers(settings.providers, runtime.http))
        sweep = BackgroundLoop("generation job sweep")
        if "worker" in runtime.roles:
            sweep.every(settings.job_sweep_seconds, lambda: sweeper.sweep(built))
        try:
            yield built
        finally:
            await sweep.stop()
