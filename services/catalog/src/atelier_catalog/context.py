"""Catalog's context: the long-lived collaborators of its use cases, built once at start by
`bootstrap.context` (a module of its own so that the use cases can name it while bootstrap starts
the sweep, which runs them)."""

from __future__ import annotations

from dataclasses import dataclass, field

from atelier_catalog.repository import CountEstimates
from atelier_catalog.settings import CatalogSettings
from atelier_common.storage import Storage


@dataclass(frozen=True)
class CatalogContext:
    settings: CatalogSettings
    # Product images (uploads and the demo's pictures), served at /media/<key>.
    storage: Storage
    # Estimated counts of broad product pages, shared by every request of this process.
    estimates: CountEstimates = field(default_factory=CountEstimates)

    @classmethod
    def of(cls, settings: CatalogSettings, storage: Storage) -> CatalogContext:
        return cls(settings=settings, storage=storage, estimates=CountEstimates(ttl=settings.count_estimate_seconds))
