"""Generator backends behind one interface (`base.Generator`), chosen per model by settings."""

from __future__ import annotations

import httpx

from atelier_generation.generators.base import Generator, ImageRequest
from atelier_generation.generators.http import HttpGenerator
from atelier_generation.generators.local import LocalGenerator, render_image, render_images, restore_photo
from atelier_generation.settings import GenerationSettings


class Generators:
    """The backend each model runs on."""

    def __init__(self, settings: GenerationSettings, http: httpx.AsyncClient) -> None:
        self.settings = settings
        self.backends: dict[str, Generator] = {
            "local": LocalGenerator(restoration_max_side=settings.restoration_max_side),
            "http": HttpGenerator(http, base_url=settings.http_generator_base_url,
                                  api_key=settings.http_generator_api_key,
                                  timeout=settings.http_generator_timeout_seconds),
        }

    def for_model(self, model_id: str) -> Generator:
        return self.backends[self.settings.backend_for(model_id)]


__all__ = ["Generator", "Generators", "HttpGenerator", "ImageRequest", "LocalGenerator", "render_image",
           "render_images", "restore_photo"]
