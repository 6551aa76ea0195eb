"""The generation service app."""

from pathlib import Path

import httpx
from fastapi import FastAPI

from atelier_common.events import EventBus
from atelier_common.service import ServiceSpec, build_app
from atelier_generation import bootstrap, housekeeping
from atelier_generation.api import ROUTERS, TAGS
from atelier_generation.events import SUBSCRIPTIONS, WORKER_SUBSCRIPTIONS
from atelier_generation.service.images import GALLERY_CACHE
from atelier_generation.settings import GenerationSettings

SPEC = ServiceSpec(
    name="generation",
    routers=ROUTERS,
    tags=TAGS,
    subscriptions=SUBSCRIPTIONS,
    worker_subscriptions=WORKER_SUBSCRIPTIONS,
    migrations=Path(__file__).parent / "migrations",
    context=bootstrap.context,
    housekeeping=housekeeping.sweeps,
    # The gallery's shared pages (`service/images.py`) change with the images and their tags.
    cache_tables={"generated_image": (GALLERY_CACHE,), "image_tag": (GALLERY_CACHE,)},
)


def create_app(settings: GenerationSettings | None = None, *, bus: EventBus | None = None,
               http_mounts: dict[str, httpx.AsyncBaseTransport] | None = None) -> FastAPI:
    return build_app(SPEC, settings or GenerationSettings(), bus=bus, http_mounts=http_mounts)
