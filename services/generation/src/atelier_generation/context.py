"""Generation's context: the long-lived collaborators its use cases and worker share.

Its own module (not bootstrap.py) because the use cases need the type while bootstrap starts the
sweeper, which runs use cases.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import httpx

from atelier_common.cache import CacheStore
from atelier_common.db import Database
from atelier_common.ratelimit import RateLimiter
from atelier_common.storage import Storage
from atelier_generation.clients import ServiceClients
from atelier_generation.domain import Catalogue
from atelier_generation.generators import Generators
from atelier_generation.providers import Provider
from atelier_generation.settings import GenerationSettings
from atelier_generation.signing import UrlSigner


def is_external(key: str) -> bool:
    """An image key that is an absolute URL (moved in from another product), not a stored file."""
    return key.startswith(("https://", "http://"))


@dataclass(frozen=True)
class GenerationContext:
    """What generation's use cases and its worker share for the life of the process.

    `db` is here for the entry points that are not one request's transaction: the worker's steps
    and the progress stream's short reads.
    """

    settings: GenerationSettings
    db: Database
    http: httpx.AsyncClient
    storage: Storage
    signer: UrlSigner
    generators: Generators
    limiter: RateLimiter
    clients: ServiceClients
    # The shared cache (`atelier_common.cache`): the gallery's pages, the same for every viewer.
    cache: CacheStore | None = None
    # The models sold (built-in + `ATELIER_GENERATION_MODELS`) and the configured providers.
    catalogue: Catalogue = field(default_factory=lambda: Catalogue.build((), ()))
    providers: dict[str, Provider] = field(default_factory=dict)

    def url(self, key: str) -> str:
        """A signed, expiring URL for a stored file: no stored file is reachable without one. An
        imported image (`atelier import`) stays where its source product kept it: its absolute URL."""
        if is_external(key):
            return key
        return self.signer.asset_url(key, time.time())

    def optional_url(self, key: str | None) -> str | None:
        return self.url(key) if key else None
