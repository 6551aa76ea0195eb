"""The catalog service app."""

from pathlib import Path

import httpx
from fastapi import FastAPI

from atelier_catalog import bootstrap, housekeeping
from atelier_catalog.api import ROUTERS, TAGS, cache
from atelier_catalog.events import SUBSCRIPTIONS
from atelier_catalog.settings import CatalogSettings
from atelier_common.events import EventBus
from atelier_common.service import ServiceSpec, build_app

SPEC = ServiceSpec(
    name="catalog",
    routers=ROUTERS,
    tags=TAGS,
    subscriptions=SUBSCRIPTIONS,
    migrations=Path(__file__).parent / "migrations",
    context=bootstrap.context,
    housekeeping=housekeeping.sweeps,
    cache_tables=cache.TABLES,
    cache_keys=cache.row_keys,
)


def create_app(settings: CatalogSettings | None = None, *, bus: EventBus | None = None,
               http_mounts: dict[str, httpx.AsyncBaseTransport] | None = None) -> FastAPI:
    return build_app(SPEC, settings or CatalogSettings(), bus=bus, http_mounts=http_mounts)
