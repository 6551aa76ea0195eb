"""Catalog's context: the long-lived collaborators of its use cases, built once at start by
`bootstrap.context` (a module of its own so that the use cases can name it while bootstrap starts
the sweep, which runs them)."""

from __future__ import annotations

from dataclasses import dataclass, field

from atelier_catalog.repository import CountEstimates
from atelier_catalog.settings import CatalogSettings
from atelier_common.storage import Storage
from atelier_common.storefronts import StorefrontDirectory, fallback_storefront


@dataclass(frozen=True)
class CatalogContext:
    settings: CatalogSettings
    # Product images (uploads and the demo's pictures), served at /media/<key>.
    storage: Storage
    # This process's copy of the storefronts (`runtime.storefronts`): the slugs staff may scope to.
    storefronts: StorefrontDirectory
    # Estimated counts of broad product pages, shared by every request of this process.
    estimates: CountEstimates = field(default_factory=CountEstimates)

    @classmethod
    def of(cls, settings: CatalogSettings, storage: Storage,
           storefronts: StorefrontDirectory | None = None) -> CatalogContext:
        """Without a running service's `storefronts` (a seed from the command line), a copy that
        knows the default storefront only."""
        return cls(settings=settings, storage=storage,
                   storefronts=storefronts if storefronts is not None else StorefrontDirectory(fallback_storefront(settings)),
                   estimates=CountEstimates(ttl=settings.count_estimate_seconds))
