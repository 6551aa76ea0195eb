"""Catalog's context: built once at start (settings, the count estimates), with the demo seed and
the reservation sweep started beside it and stopped at stop."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from atelier_catalog import sweeper
from atelier_catalog.context import CatalogContext
from atelier_catalog.demo import seed_demo_data
from atelier_catalog.settings import CatalogSettings
from atelier_common.loops import BackgroundLoop
from atelier_common.service import Runtime
from atelier_common.storage import open_storage

__all__ = ["CatalogContext", "context"]


@asynccontextmanager
async def context(runtime: Runtime) -> AsyncIterator[CatalogContext]:
    settings = CatalogSettings.of(runtime)
    async with open_storage(settings, settings.media_dir) as storage:
        catalog = CatalogContext.of(settings, storage, runtime.storefronts)
        if settings.seed_demo_data:
            await seed_demo_data(runtime.db, catalog)
        sweep = BackgroundLoop("catalog reservation sweep")
        # The consumers own reservations; an api-only process leaves the sweep to them.
        if "consumer" in runtime.roles and settings.reservation_sweep_seconds > 0:
            sweep.every(settings.reservation_sweep_seconds, lambda: sweeper.sweep(runtime.db, catalog))
        try:
            yield catalog
        finally:
            await sweep.stop()
