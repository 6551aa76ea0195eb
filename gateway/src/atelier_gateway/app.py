"""The gateway app: proxy to the services plus its own routes (health, docs, JWKS, the console)."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import AsyncExitStack, asynccontextmanager
from datetime import timedelta
from typing import Any

import httpx
from fastapi import FastAPI, Request
from fastapi.middleware.cors import CORSMiddleware
from starlette.types import ASGIApp

from atelier_common.auth import JwksCache, TokenVerifier
from atelier_common.cache import InvalidationFeed, RedisStore, open_store
from atelier_common.counting import COUNT_ESTIMATED_HEADER
from atelier_common.denylist import shared_revocations
from atelier_common.errors import install_error_handlers
from atelier_common.events import EventBus
from atelier_common.fast.protocol import answer_early
from atelier_common.internal import InternalApi
from atelier_common.keys import SigningKey
from atelier_common.openapi import install_docs
from atelier_common.ratelimit import rate_limiter
from atelier_common.redisguard import guard_for
from atelier_common.responses import App, JSONBytes
from atelier_common.service import make_bus, startup_objects_frozen
from atelier_common.storefronts import (
    StorefrontDirectory,
    fallback_storefront,
    storefront_loader,
    subscribe_storefronts,
)
from atelier_common.telemetry import FASTAPI_NATIVE_TELEMETRY_OFF, instrument_app, service_var, setup_logging
from atelier_common.tls import client_tls
from atelier_gateway import deadletters, events
from atelier_gateway.auth import EDGE_CACHE_SIZE, EdgeAuth, api_key_exchanger
from atelier_gateway.console import install_console
from atelier_gateway.forwarded import ClientOrigin, ClientResolver
from atelier_gateway.health import platform_health, redis_status
from atelier_gateway.home import install_home
from atelier_gateway.openapi import OpenApiCache
from atelier_gateway.proxy import EarlyHits, GatewayMiddleware, HitLane, Proxy
from atelier_gateway.routing import resolve
from atelier_gateway.seams import CompatMount, NativeProxy
from atelier_gateway.settings import SERVICES, GatewaySettings
from atelier_gateway.state import GatewayState, gateway_state
from atelier_gateway.storefronts import StorefrontResolver
from atelier_gateway.upstream import Upstream, pooled_upstream


class StorefrontCORS(CORSMiddleware):
    """CORS that allows exactly the storefronts' origins besides the `cors_origins` setting; the
    storefronts are known once the lifespan has run (`resolver`), and change while it runs."""

    def __init__(self, app: ASGIApp, /, *, resolver: Callable[[], StorefrontResolver | None], **options: Any) -> None:
        super().__init__(app, **options)
        self._resolver = resolver

    def is_allowed_origin(self, origin: str) -> bool:
        if super().is_allowed_origin(origin):
            return True
        resolver = self._resolver()
        return resolver is not None and resolver.allows_origin(origin)


def create_app(settings: GatewaySettings | None = None, *, bus: EventBus | None = None, own_bus: bool | None = None,
               upstream: Upstream | None = None, http_mounts: dict[str, httpx.AsyncBaseTransport] | None = None,
               children: Sequence[FastAPI] = (), compat: CompatMount | None = None) -> FastAPI:
    """`children`: service apps run in this process (the embedded mode); their lifespans nest in ours.
    `compat`: the seed APIs served before the native routes (`seams.CompatMount`), which the
    composition root builds from the `compat_*` settings; the gateway does not know the profiles."""
    settings = settings or GatewaySettings()
    clients = ClientResolver(settings.trusted_proxies, settings.forwarded_header)
    if compat is None and (settings.compat_profiles or settings.compat_root_profile):
        # Serving none of the profiles the settings name would be a silent 404 on every seed route.
        raise ValueError("compat_profiles / compat_root_profile are set but no compatibility mount was given: "
                         "start the gateway through atelier_platform (`atelier gateway`, `atelier dev`)")
    setup_logging(settings, "gateway")
    owns_bus = own_bus if own_bus is not None else bus is None

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # What the gateway starts names it in logs and spans (the embedded mode's services set their own).
        named = service_var.set("gateway")
        async with AsyncExitStack() as stack:
            stack.callback(service_var.reset, named)
            the_bus = bus if bus is not None else make_bus(settings)
            for child in children:
                await stack.enter_async_context(child.router.lifespan_context(child))
            http = await stack.enter_async_context(
                httpx.AsyncClient(mounts=http_mounts or {}, timeout=settings.http_timeout_seconds, verify=client_tls()))
            # Each service's base URLs, one per process serving its API (several: `Replicas`).
            urls = {s: settings.service_base_urls(s) for s in SERVICES}
            anon_key = SigningKey.load(settings.anon_signing_key_pem, settings.data_dir / "keys" / "gateway-anon.pem")
            # Every identity process is a source of its keys: one of them down, the next answers.
            identity_jwks = JwksCache([f"{base.rstrip('/')}/.well-known/jwks.json" for base in urls["identity"]],
                                      client=http, ttl=settings.jwks_cache_seconds)
            verifier = TokenVerifier(identity_jwks, issuer=settings.jwt_issuer, audience=settings.jwt_audience,
                                     cache_size=EDGE_CACHE_SIZE)
            auth = EdgeAuth(verifier, anon_key, issuer=settings.jwt_issuer, audience=settings.jwt_audience,
                            anon_ttl=timedelta(days=settings.anon_token_days))
            events.subscribe(the_bus, auth.denylist, identity_jwks)
            # The gateway's copy of the storefronts: which one a request belongs to, and CORS.
            internal = InternalApi(http, settings.with_install_secrets(), mounted=http_mounts or {})
            stack.push_async_callback(internal.aclose)
            auth.exchanger = api_key_exchanger(internal)
            auth.revocations = shared_revocations(settings)
            auth.revocation_check_seconds = settings.api_key_revocation_check_seconds
            if auth.revocations is not None:
                stack.callback(auth.revocations.close)
            storefronts = StorefrontDirectory(fallback_storefront(settings), storefront_loader(internal),
                                              refresh_seconds=settings.storefront_refresh_seconds)
            stack.push_async_callback(storefronts.close)
            subscribe_storefronts(the_bus, "gateway-storefronts", storefronts)
            app.state.storefronts = storefronts
            storefront_resolver = StorefrontResolver(storefronts, settings.cors_origins)
            if owns_bus:
                await the_bus.start()
                stack.push_async_callback(the_bus.stop)
            # Known before the first request where identity already answers (the embedded mode
            # starts it first); otherwise the first request that needs them loads them.
            await storefronts.load()
            the_upstream = upstream or pooled_upstream(urls, timeout=settings.proxy_timeout_seconds,
                                                       connections=settings.proxy_connections)
            stack.push_async_callback(the_upstream.close)
            app.state.settings = settings
            # The gateway's own staff routes (dead letters) check callers like a service does.
            app.state.verifier = TokenVerifier(identity_jwks, issuer=settings.jwt_issuer,
                                               audience=settings.jwt_audience, denylist=auth.denylist)
            cache = open_store(settings)
            if cache is not None:
                stack.push_async_callback(cache.close)
            # Redis (the cache's, else the rate limits'): /api/health pings it through its guard.
            redis_url = settings.cache_url or settings.redis_url
            redis_ping = None
            if redis_url:
                import coredis

                guard = guard_for(settings, redis_url)
                ping_client: coredis.Redis[bytes] = coredis.Redis.from_url(redis_url, **guard.client_options())
                stack.callback(ping_client.connection_pool.disconnect)
                redis_ping = (guard, ping_client.ping)
            limiter = rate_limiter(settings, moving_window=False, sync_seconds=settings.rate_limit_sync_seconds)
            stack.push_async_callback(limiter.close)
            # The gateway keeps the answers it serves and hears each bump (`cache.InvalidationFeed`).
            feed = None
            if isinstance(cache, RedisStore) and settings.cache_local_trust_seconds > 0:
                feed = InvalidationFeed(cache)
                feed.start()
                stack.push_async_callback(feed.close)
            # The storefronts' budgets: a few requests a minute, so each hit asks Redis (exact).
            budget_limiter = rate_limiter(settings, moving_window=False)
            stack.push_async_callback(budget_limiter.close)
            proxy = Proxy(settings, auth, the_upstream, limiter, rate_limiter(settings), storefront_resolver, cache,
                          feed, budget_limiter)
            app.state.gateway = GatewayState(
                settings=settings, http=http, bus=the_bus, urls=urls, auth=auth, anon_key=anon_key,
                openapi=OpenApiCache(http, urls, settings.openapi_cache_seconds), compat=compat,
                redis_ping=redis_ping, proxy=proxy, storefront_resolver=storefront_resolver)
            # The `hits` fast path: this process's protocol writes the hits it can answer with no I/O.
            answer_early(EarlyHits(app.state, clients, access_log=settings.access_log))
            stack.callback(answer_early, None)
            stack.enter_context(startup_objects_frozen())
            yield

    app = App(title="Atelier gateway", lifespan=lifespan, openapi_url=None, docs_url=None, redoc_url=None,
                  redirect_slashes=False, telemetry=FASTAPI_NATIVE_TELEMETRY_OFF)
    install_error_handlers(app)

    @app.get("/api/health", include_in_schema=False)
    async def health(request: Request) -> JSONBytes:
        state = gateway_state(request.app)
        redis = None if state.redis_ping is None else await redis_status(*state.redis_ping)
        report = await platform_health(state.http, state.urls, await state.bus.ready(), redis)
        return JSONBytes(report, status_code=200 if report["status"] == "healthy" else 503)

    @app.get("/health", include_in_schema=False)
    async def liveness() -> dict[str, Any]:
        """The gateway process is alive (Kubernetes liveness); `pid` tells its workers apart."""
        return {"status": "ok", "pid": os.getpid()}

    @app.get("/ready", include_in_schema=False)
    async def readiness(request: Request) -> JSONBytes:
        """This gateway can serve (its broker link for the denylist): one degraded service does not
        take every gateway out of rotation, unlike `/api/health`."""
        ok = await gateway_state(request.app).bus.ready()
        return JSONBytes({"status": "healthy" if ok else "degraded", "checks": {"broker": "ok" if ok else "error"}},
                         status_code=200 if ok else 503)

    @app.get("/api/schema", include_in_schema=False)
    async def schema(request: Request) -> JSONBytes:
        return JSONBytes(await gateway_state(request.app).openapi.document())

    install_docs(app, openapi_url="/api/schema", docs_url="/api/docs", redoc_url="/api/redoc", title="Atelier API")

    @app.get("/.well-known/jwks.json", include_in_schema=False)
    async def jwks(request: Request) -> dict[str, Any]:
        state = gateway_state(request.app)
        keys = [state.anon_key.public_jwk()]
        for base in state.urls["identity"]:  # the first of its processes that answers
            try:
                response = await state.http.get(f"{base.rstrip('/')}/.well-known/jwks.json", timeout=5)
                return {"keys": response.json().get("keys", []) + keys}
            except (httpx.HTTPError, ValueError):
                continue
        return {"keys": keys}  # the anonymous key alone still lets services accept anonymous callers

    for prefix in deadletters.PREFIXES:
        app.include_router(deadletters.router, prefix=prefix)
    install_console(app)
    install_home(app, dev_endpoints=settings.dev_endpoints)
    app.add_middleware(GatewayMiddleware)
    app.add_middleware(StorefrontCORS, resolver=lambda: getattr(getattr(app.state, "gateway", None),
                                                                "storefront_resolver", None),
                       allow_origins=settings.cors_origins, allow_credentials=True,
                       allow_methods=["*"], allow_headers=["*"],
                       expose_headers=["X-Anonymous-Token", "X-Session-ID", "X-Request-ID", "Retry-After",
                                       COUNT_ESTIMATED_HEADER])
    instrument_app(app, settings, "gateway", route_label=resolve)
    # Cache hits the gateway holds itself skip the access log's, CORS's and the routing's layers.
    app.add_middleware(HitLane, app_state=app.state, access_log=settings.access_log)
    # Outermost: the access log, CORS, the rate limits and the proxy all see the resolved client.
    app.add_middleware(ClientOrigin, resolver=clients)
    return app


def _the_proxy_keeps_the_seam(proxy: Proxy) -> NativeProxy:
    return proxy  # mypy checks that the gateway's proxy still has the shape `seams` promises
