"""The identity service app."""

from pathlib import Path

import httpx
from fastapi import FastAPI

from atelier_common.cache import storefront_key
from atelier_common.events import EventBus
from atelier_common.service import ServiceSpec, build_app
from atelier_identity import bootstrap, demo, housekeeping
from atelier_identity.api.main import ROUTERS, TAGS
from atelier_identity.api.outbound import WEBHOOKS
from atelier_identity.events import SUBSCRIPTIONS, WORKER_SUBSCRIPTIONS
from atelier_identity.service.storefronts import own_storefronts
from atelier_identity.service.webhooks import wanted_routes
from atelier_identity.settings import IdentitySettings
from atelier_identity.storefronts import default_storefront

SPEC = ServiceSpec(
    name="identity",
    routers=ROUTERS,
    tags=TAGS,
    # The outbound webhooks' payloads, for the OpenAPI `webhooks` section.
    webhooks=WEBHOOKS,
    subscriptions=SUBSCRIPTIONS,
    # Outbound webhooks: the fan-out hears its events on the worker's queue, and the
    # worker role sends the deliveries (`service/webhooks.py`).
    worker_subscriptions=WORKER_SUBSCRIPTIONS,
    worker_routes=wanted_routes,
    migrations=Path(__file__).parent / "migrations",
    context=bootstrap.context,
    housekeeping=housekeeping.sweeps,
    on_startup=(demo.seed_demo_storefronts,),
    storefront_fallback=default_storefront,
    # identity owns the storefronts: its own copy reads its table.
    storefront_loader=own_storefronts,
    # A storefront staff changed (currency, tax, what it sells) changes every public answer of it:
    # purged at a CDN by its key, which they all carry (`atelier_common.cdn`).
    cache_tables={"storefront": ("storefronts",)},
    cache_keys=lambda _table, row: (storefront_key(row.slug),),
)


def create_app(settings: IdentitySettings | None = None, *, bus: EventBus | None = None,
               http_mounts: dict[str, httpx.AsyncBaseTransport] | None = None) -> FastAPI:
    app: FastAPI = build_app(SPEC, settings or IdentitySettings(), bus=bus, http_mounts=http_mounts)
    return app
