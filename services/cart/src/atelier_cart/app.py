"""The cart service app."""

from pathlib import Path

import httpx
from fastapi import FastAPI

from atelier_cart import bootstrap, housekeeping
from atelier_cart.api import ROUTERS, TAGS
from atelier_cart.events import SUBSCRIPTIONS
from atelier_cart.settings import CartSettings
from atelier_common.events import EventBus
from atelier_common.service import ServiceSpec, build_app

SPEC = ServiceSpec(
    name="cart",
    routers=ROUTERS,
    tags=TAGS,
    subscriptions=SUBSCRIPTIONS,
    migrations=Path(__file__).parent / "migrations",
    context=bootstrap.context,
    housekeeping=housekeeping.sweeps,
)


def create_app(settings: CartSettings | None = None, *, bus: EventBus | None = None,
               http_mounts: dict[str, httpx.AsyncBaseTransport] | None = None) -> FastAPI:
    return build_app(SPEC, settings or CartSettings(), bus=bus, http_mounts=http_mounts)
