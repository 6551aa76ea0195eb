"""What the gateway's lifespan builds, typed, in one place: `app.state.gateway`.

Besides it, `app.state` keeps only what `atelier_common`'s request dependencies read by convention in
every app (`settings`, `verifier`, `storefronts`).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import httpx

from atelier_common.events import EventBus
from atelier_common.keys import SigningKey
from atelier_common.redisguard import RedisGuard
from atelier_common.state import app_state
from atelier_gateway.auth import EdgeAuth
from atelier_gateway.openapi import OpenApiCache
from atelier_gateway.proxy import Proxy
from atelier_gateway.seams import CompatMount
from atelier_gateway.settings import GatewaySettings
from atelier_gateway.storefronts import StorefrontResolver


@dataclass(frozen=True)
class GatewayState:
    settings: GatewaySettings
    http: httpx.AsyncClient  # the gateway's own calls: health, the merged OpenAPI, the JWKS
    bus: EventBus
    urls: dict[str, list[str]]  # each service's base URLs, one per process serving its API
    auth: EdgeAuth
    anon_key: SigningKey  # signs anonymous tokens
    openapi: OpenApiCache
    compat: CompatMount | None  # the compatibility profiles, when mounted
    # Redis (the cache's, else the rate limits'), which /api/health pings through its guard.
    redis_ping: tuple[RedisGuard, Callable[[], Awaitable[Any]]] | None
    proxy: Proxy
    storefront_resolver: StorefrontResolver


def gateway_state(app: Any) -> GatewayState:
    return app_state(app, "gateway", GatewayState)
