"""What the use cases share: the long-lived tools, the clock, signed URLs for stored files."""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, datetime

from atelier_common.ratelimit import RateLimiter
from atelier_generation.generators import Generators
from atelier_generation.settings import GenerationSettings
from atelier_generation.signing import UrlSigner
from atelier_generation.storage import Storage


def utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class Tools:
    settings: GenerationSettings
    storage: Storage
    signer: UrlSigner
    generators: Generators
    limiter: RateLimiter

    def url(self, key: str) -> str:
        """A signed, expiring URL for a stored file: no stored file is reachable without one."""
        return self.signer.asset_url(key, time.time())

    def optional_url(self, key: str | None) -> str | None:
        return self.url(key) if key else None
