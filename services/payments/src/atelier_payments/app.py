"""The payments service app."""

from pathlib import Path

import httpx
from fastapi import FastAPI

from atelier_common.events import EventBus
from atelier_common.service import ServiceSpec, build_app
from atelier_payments import bootstrap, housekeeping
from atelier_payments.api import ROUTERS, TAGS
from atelier_payments.events import SUBSCRIPTIONS
from atelier_payments.settings import PaymentsSettings

SPEC = ServiceSpec(
    name="payments",
    routers=ROUTERS,
    tags=TAGS,
    subscriptions=SUBSCRIPTIONS,
    migrations=Path(__file__).parent / "migrations",
    context=bootstrap.context,
    housekeeping=housekeeping.sweeps,
)


def create_app(settings: PaymentsSettings | None = None, *, bus: EventBus | None = None,
               http_mounts: dict[str, httpx.AsyncBaseTransport] | None = None) -> FastAPI:
    return build_app(SPEC, settings or PaymentsSettings(), bus=bus, http_mounts=http_mounts)
