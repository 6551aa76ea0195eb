"""The catalog service app."""

from pathlib import Path

import httpx
from fastapi import FastAPI

from atelier_catalog import sweeper
from atelier_catalog.api import ROUTERS
from atelier_catalog.demo import seed_demo_data
from atelier_catalog.events import SUBSCRIPTIONS
from atelier_catalog.repository import CountEstimates
from atelier_catalog.settings import CatalogSettings
from atelier_common.events import EventBus
from atelier_common.service import Runtime, ServiceSpec, build_app


async def _seed_demo_data(runtime: Runtime) -> None:
    if runtime.settings.seed_demo_data:  # type: ignore[attr-defined]
        await seed_demo_data(runtime.db)


SPEC = ServiceSpec(
    name="catalog",
    routers=ROUTERS,
    subscriptions=SUBSCRIPTIONS,
    migrations=Path(__file__).parent / "migrations",
    on_startup=(_seed_demo_data, sweeper.start),
    on_shutdown=(sweeper.stop,),
)


def create_app(settings: CatalogSettings | None = None, *, bus: EventBus | None = None,
               http_mounts: dict[str, httpx.AsyncBaseTransport] | None = None) -> FastAPI:
    settings = settings or CatalogSettings()
    app = build_app(SPEC, settings, bus=bus, http_mounts=http_mounts)
    app.state.count_estimates = CountEstimates(ttl=settings.count_estimate_seconds)
    return app
