"""The orders service app."""

from pathlib import Path

import httpx
from fastapi import FastAPI

from atelier_common.events import EventBus
from atelier_common.service import ServiceSpec, build_app
from atelier_orders import bootstrap, housekeeping
from atelier_orders.api import ROUTERS, TAGS
from atelier_orders.events import SUBSCRIPTIONS
from atelier_orders.settings import OrdersSettings

SPEC = ServiceSpec(
    name="orders",
    routers=ROUTERS,
    tags=TAGS,
    subscriptions=SUBSCRIPTIONS,
    migrations=Path(__file__).parent / "migrations",
    context=bootstrap.context,
    housekeeping=housekeeping.sweeps,
)


def create_app(settings: OrdersSettings | None = None, *, bus: EventBus | None = None,
               http_mounts: dict[str, httpx.AsyncBaseTransport] | None = None) -> FastAPI:
    return build_app(SPEC, settings or OrdersSettings(), bus=bus, http_mounts=http_mounts)
