"""What every service app shares: the lifespan that builds its runtime, middleware, health.

A service's `app.py` declares a `ServiceSpec` and calls `build_app`; nothing runs at import
time, so six services can live in one process and each test gets a fresh app.

The service idiom (CONTRIBUTING.md): each service declares a typed *context* (a dataclass of its
long-lived collaborators: settings, clients of other services, providers, signers), built once
at start by `ServiceSpec.context` and closed at stop. A use case is a class built per request or
per event from `(session, context)` (`UseCase`); routes get it through `use_case(cls)`, event
handlers from `EventContext`. Only libs/common commits (`Database.transaction`).
"""

from __future__ import annotations

import asyncio
import gc
import ipaddress
import logging
import signal
from collections.abc import AsyncIterator, Awaitable, Callable, Collection, Iterator, Mapping, Sequence
from contextlib import AbstractAsyncContextManager, AsyncExitStack, asynccontextmanager, contextmanager, suppress
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any, Generic, TypeVar

import httpx
from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.routing import APIRoute
from sqlmodel.ext.asyncio.session import AsyncSession
from starlette.types import ASGIApp, Receive, Scope, Send

from atelier_common import inbox, metrics, outbox
from atelier_common.auth import JwksCache, TokenVerifier
from atelier_common.cache import CacheStore, RowKeys, WriteTracker, open_store, tracker_info
from atelier_common.cdn import CdnPurger
from atelier_common.db import Database, ReadSessionDep, SessionDep, pool_for_roles
from atelier_common.denylist import Denylist, subscribe_revocations
from atelier_common.errors import install_error_handlers
from atelier_common.events.bus import DrainableBus, EventBus, Routes
from atelier_common.health import ProcessObservability, health_router
from atelier_common.housekeeping import Housekeeper, Sweep
from atelier_common.inbox import Subscriptions, subscribe_all
from atelier_common.inputs import InputGuard
from atelier_common.internal import InternalApi
from atelier_common.openapi import install_docs, install_openapi
from atelier_common.outbox import OutboxRelay
from atelier_common.responses import App
from atelier_common.settings import AtelierSettings
from atelier_common.state import app_state
from atelier_common.storefronts import (
    Loader,
    Storefront,
    StorefrontDirectory,
    fallback_storefront,
    storefront_loader,
    subscribe_storefronts,
)
from atelier_common.telemetry import (
    FASTAPI_NATIVE_TELEMETRY_OFF,
    forward_request_id,
    instrument_app,
    log_committed,
    service_var,
    setup_logging,
    setup_tracing,
)
from atelier_common.tls import client_tls

log = logging.getLogger("atelier.service")

ROLES_ALL = frozenset({"api", "relay", "consumer", "worker", "housekeeping"})
Hook = Callable[["Runtime"], Awaitable[None]]
C = TypeVar("C")
U = TypeVar("U", bound="UseCase[Any]")
# Builds a service's context at start and closes it at stop (an async context manager).
ContextFactory = Callable[["Runtime"], AbstractAsyncContextManager[Any]]
# A service's own housekeeping rules, from its context (the outbox and inbox sweeps come with every service).
SweepsFactory = Callable[[Any], Sequence[Sweep]]


@dataclass
class ServiceSpec:
    name: str
    routers: Sequence[APIRouter] = ()
    subscriptions: Subscriptions = field(default_factory=dict)
    # Long-running work (generation jobs) consumed by the `worker` role as `<name>-worker`, without
    # the inbox: each job's own guarded claim makes a redelivery harmless, and no transaction is held
    # across the work (see `inbox.handle_unrecorded`).
    worker_subscriptions: Subscriptions = field(default_factory=dict)
    # The worker queue bound on demand (`events.bus.Routes`): the types of worker_subscriptions its
    # own state wants at start (the service opens more as they become wanted); None binds them all.
    worker_routes: Callable[[Runtime], Awaitable[Collection[str]]] | None = None
    migrations: Path | None = None
    # The service's typed context, built once before anything else starts (see the module doc).
    context: ContextFactory | None = None
    # Service-specific startup work (seed demo data, background loops) and shutdown.
    on_startup: Sequence[Hook] = ()
    on_shutdown: Sequence[Hook] = ()
    title: str | None = None
    # The OpenAPI tags of the routers, name → what a client finds under it (the docs' sections).
    tags: Mapping[str, str] = field(default_factory=dict)
    # The requests the service sends to others' URLs (outbound webhooks), documented in the OpenAPI
    # `webhooks` section: a router of documentation-only operations (FastAPI's `app.webhooks`).
    webhooks: APIRouter | None = None
    # What the `housekeeping` role deletes besides published outbox rows and old inbox rows.
    housekeeping: SweepsFactory | None = None
    # Tables whose writes change cached answers: table name → the cache namespaces it feeds
    # (routes built with `cache.cached_route(namespace)`); bumped after each commit that wrote one.
    cache_tables: Mapping[str, Sequence[str]] = field(default_factory=dict)
    # The surrogate keys a written row of those tables purges at a CDN (`cdn.py`); without it, or
    # for a statement, the namespaces' keys (every cached answer carries its namespaces).
    cache_keys: RowKeys | None = None
    # The default storefront as this service's settings describe it (else `fallback_storefront`),
    # and where this process loads the storefronts from (else identity's `/internal/storefronts`):
    # identity, which owns them, reads its own table.
    storefront_fallback: Callable[[Any], Storefront] | None = None
    storefront_loader: Callable[[Runtime], Loader] | None = None


class Runtime:
    """Everything a running service holds: settings, database, bus, relay, HTTP client, verifier,
    and the service's own typed `context`."""

    def __init__(self, spec: ServiceSpec, settings: AtelierSettings, *, bus: EventBus | None = None,
                 http_mounts: dict[str, httpx.AsyncBaseTransport] | None = None,
                 roles: frozenset[str] = ROLES_ALL) -> None:
        self.spec = spec
        self.settings = settings
        self.roles = roles
        self._owns_bus = bus is None
        self.bus: EventBus = bus if bus is not None else make_bus(settings)
        pool_size, max_overflow = pool_for_roles(roles, settings.db_pool_size, settings.db_max_overflow)
        self.db = Database(settings.resolved_database_url, service=spec.name, pool_size=pool_size,
                           max_overflow=max_overflow, postgres_options=settings.postgres_options,
                           connect_timeout=settings.postgres_connect_timeout_seconds)
        # Idle connections are dropped after 4 s, before a service's keep-alive (uvicorn's 5 s) ends,
        # so that a call is not sent on a connection the service is closing.
        self.http = httpx.AsyncClient(mounts=http_mounts or {}, timeout=settings.http_timeout_seconds, verify=client_tls(),
                                      limits=httpx.Limits(max_connections=100, max_keepalive_connections=20,
                                                          keepalive_expiry=4.0))
        self.internal = InternalApi(self.http, settings, mounted=http_mounts or {})
        # Tokens identity revoked (logout, sessions ended) are refused here too, not only at the
        # gateway, and so are the tokens of a key it retired early.
        self.denylist = Denylist()
        self.verifier = TokenVerifier(JwksCache(settings.jwks_url, static_json=settings.jwks_json, client=self.http,
                                                ttl=settings.jwks_cache_seconds),
                                      issuer=settings.jwt_issuer, audience=settings.jwt_audience,
                                      denylist=self.denylist)
        self.relay = OutboxRelay(self.db, self.bus, poll_seconds=settings.relay_poll_seconds)
        # The worker queue's on-demand bindings (`ServiceSpec.worker_routes`), for the use cases
        # whose writes make an event type wanted.
        self.worker_routes = Routes(self.bus, worker_consumer(spec.name))
        # This process's copy of the storefronts (identity owns them): every role reads it.
        fallback = (spec.storefront_fallback or fallback_storefront)(settings)
        loader = spec.storefront_loader(self) if spec.storefront_loader else storefront_loader(self.internal)
        self.storefronts = StorefrontDirectory(fallback, loader, refresh_seconds=settings.storefront_refresh_seconds)
        self.housekeeper: Housekeeper | None = None
        # The shared response cache (None: off); every role invalidates what its commits change.
        self.cache: CacheStore | None = open_store(settings)
        # The CDN in front of the platform (None: not configured), purged by the same commits.
        self.cdn = CdnPurger.from_settings(settings, self.http)
        if (self.cache is not None or self.cdn is not None) and spec.cache_tables:
            tracker = WriteTracker(spec.cache_tables, self.cache, self.cdn, spec.cache_keys)
            self.db.session_info.update(tracker_info(tracker))
            self.db.on_session_commit(tracker.committed)
        self.context: Any = None
        self.observability: ProcessObservability | None = None
        self._stack = AsyncExitStack()

    async def start(self) -> None:
        s = self.settings
        # Every process role traces and is observable the same way (api, relay, consumer, worker).
        setup_tracing(s, self.spec.name)
        self.http.event_hooks["request"].append(forward_request_id)
        self.observability = ProcessObservability(self)
        await self.observability.start()
        if getattr(s, "auto_migrate", False) and self.spec.migrations is not None:
            # Imported here: Alembic (and Mako) cost each process ~0.4 s of start for a step
            # only the embedded mode and tests take (`atelier up` and Kubernetes migrate first).
            from atelier_common.migrations import upgrade

            await asyncio.to_thread(upgrade, self.spec.migrations, s.resolved_database_url)
        if self.spec.context is not None:
            self.context = await self._stack.enter_async_context(self.spec.context(self))
        else:  # transitional: services not yet moved to a typed context reach the runtime
            self.context = self
        # Every role publishes what its commits wrote, first thing after the commit (the relay role's
        # batches take what is left, see `outbox`).
        self.relay.publish_own_commits()
        self.db.on_session_commit(metrics.count_committed)
        self.db.on_session_commit(log_committed)
        if isinstance(self.bus, DrainableBus):
            self.bus.add_drain_source(self.relay.flush_all if "relay" in self.roles else self.relay.settle)
        if "api" in self.roles:
            subscribe_revocations(self.bus, f"{self.spec.name}-denylist", self.denylist, self.verifier.jwks)
        if self.roles & {"api", "consumer", "worker"}:  # the roles that act for a storefront
            subscribe_storefronts(self.bus, f"{self.spec.name}-storefronts", self.storefronts)
            # Known before the first request: identity reads its own table at once, the others ask
            # identity in the background (it may start after them).
            if self.spec.storefront_loader is not None:
                await self.storefronts.load()
            else:
                self.storefronts.load_soon()
        if "consumer" in self.roles:
            subscribe_all(self.bus, self.db, self.spec.name, self.spec.subscriptions, self.context)
        if "worker" in self.roles:
            bound = await self.spec.worker_routes(self) if self.spec.worker_routes is not None else None
            subscribe_all(self.bus, self.db, worker_consumer(self.spec.name), self.spec.worker_subscriptions,
                          self.context, recorded=False, bound=bound)
        for hook in self.spec.on_startup:
            await hook(self)
        if self._owns_bus:
            await self.bus.start()
        if "relay" in self.roles:
            await self.relay.start(listen="api" not in self.roles)
        if "housekeeping" in self.roles:
            self.housekeeper = self.build_housekeeper()
            await self.housekeeper.start()

    def build_housekeeper(self) -> Housekeeper:
        """The housekeeping loop of this service: the outbox and inbox sweeps and the service's own."""
        s = self.settings
        sweeps = [outbox.sweep(timedelta(days=s.outbox_retention_days)),
                  inbox.sweep(timedelta(days=s.inbox_retention_days))]
        if self.spec.housekeeping is not None:
            sweeps.extend(self.spec.housekeeping(self.context))
        return Housekeeper(self.db, sweeps, service=self.spec.name, batch_size=s.housekeeping_batch_size,
                           interval_seconds=s.housekeeping_interval_seconds,
                           start_delay_seconds=s.housekeeping_start_delay_seconds)

    async def stop(self) -> None:
        if self.observability is not None:
            await self.observability.close()
        await self.relay.stop()
        if self.housekeeper is not None:
            await self.housekeeper.stop()
        for hook in reversed(self.spec.on_shutdown):
            await hook(self)
        if self._owns_bus:
            await self.bus.stop()
        await self._stack.aclose()
        await self.storefronts.close()
        if self.cache is not None:
            await self.cache.close()
        if self.cdn is not None:
            await self.cdn.close()
        await self.internal.aclose()
        await self.http.aclose()
        await self.db.dispose()


def worker_consumer(service: str) -> str:
    """The consumer (and queue) name of a service's `worker` role: `<service>-worker`."""
    return f"{service}-worker"


def make_bus(settings: AtelierSettings) -> EventBus:
    if settings.bus == "rabbitmq":
        from atelier_common.events.rabbitmq import RabbitMQBus

        return RabbitMQBus(settings.amqp_url, prefetch=settings.consumer_prefetch,
                           max_retries=settings.consumer_max_retries,
                           retry_delay_ms=settings.consumer_retry_delay_ms, exchange=settings.amqp_exchange,
                           queue_prefix=settings.amqp_queue_prefix, queue_type=settings.amqp_queue_type)
    from atelier_common.events.memory import InMemoryBus

    return InMemoryBus(max_retries=settings.consumer_max_retries)


@contextmanager
def startup_objects_frozen() -> Iterator[None]:
    """Leave what start-up built (the app, its routes and models, the libraries) out of every
    garbage collection while the app runs: a full collection walked all of it, a pause of ~100 ms
    in the middle of requests (a p99 of 120 ms where the p50 was 5). Thawed when the app stops:
    frozen objects are never collected, so a process that starts apps again and again (a test
    worker, the embedded mode's services) kept every stopped app's cycles (a CI worker grew to 7 GB).
    No full collection first: what start-up left unreachable (~3,400 objects for identity) is frozen
    with the rest until the stop, and reclaiming it cost a pass over the whole heap on every start
    (~150 ms in a service, ~230 ms in a test worker: a fifth of a service test's time)."""
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


class StripTrailingSlash:
    """`/api/v1/products/` is answered like `/api/v1/products`, never redirected."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            path: str = scope["path"]
            if len(path) > 1 and path.endswith("/"):
                # Changed in place, like the router's own match: the access log outside reads the
                # route it matched from this scope (a copy would hide it: every route "other").
                scope["path"] = path.rstrip("/") or "/"
                scope["raw_path"] = scope["path"].encode()
        await self.app(scope, receive, send)


class FromGateway:
    """The caller's scheme and address as the gateway forwards them (X-Forwarded-Proto and
    X-Forwarded-For, always set there from what it checked against `trusted_proxies`): the
    services' absolute links (pagination), the cache key that holds them and the access log follow
    them. Only the gateway reaches a service's API (loopback, the compose network, the cluster);
    a value that is not http/https or one IP address is ignored."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            changes: dict[str, Any] = {}
            for name, value in scope["headers"]:
                if name == b"x-forwarded-proto" and value in (b"http", b"https"):
                    changes["scheme"] = value.decode()
                elif name == b"x-forwarded-for":
                    with suppress(ValueError):
                        changes["client"] = (str(ipaddress.ip_address(value.decode("latin-1"))), 0)
            if changes:
                scope.update(changes)  # in place, as `StripTrailingSlash`: the access log reads this scope
        await self.app(scope, receive, send)


def build_app(spec: ServiceSpec, settings: AtelierSettings, *, bus: EventBus | None = None,
              http_mounts: dict[str, httpx.AsyncBaseTransport] | None = None,
              roles: frozenset[str] | None = None) -> FastAPI:
    setup_logging(settings, spec.name)
    settings = settings.with_install_secrets()
    roles = roles if roles is not None else frozenset(settings.roles)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        runtime = Runtime(spec, settings, bus=bus, http_mounts=http_mounts, roles=roles)
        app.state.runtime = runtime
        app.state.settings = settings
        app.state.db = runtime.db
        app.state.verifier = runtime.verifier
        app.state.storefronts = runtime.storefronts
        # What this service starts (relay, consumers, workers, loops) names it in logs and spans,
        # also in the embedded mode's one process: those tasks inherit the context set here.
        named = service_var.set(spec.name)
        try:
            await runtime.start()
        finally:
            service_var.reset(named)
        try:
            with startup_objects_frozen():
                yield
        finally:
            named = service_var.set(spec.name)
            try:
                await runtime.stop()
            finally:
                service_var.reset(named)

    def operation_id(route: APIRoute) -> str:
        return f"{spec.name}-{route.name}"

    app = App(title=spec.title or f"Atelier {spec.name}", lifespan=lifespan, redirect_slashes=False,
                  generate_unique_id_function=operation_id, docs_url=None, redoc_url=None,
                  openapi_tags=[{"name": name, "description": text} for name, text in spec.tags.items()] or None,
                  webhooks=spec.webhooks, telemetry=FASTAPI_NATIVE_TELEMETRY_OFF)
    install_error_handlers(app)
    install_openapi(app, spec.name, dev_endpoints=settings.dev_endpoints)
    install_docs(app, openapi_url="/openapi.json", docs_url="/docs", redoc_url="/redoc", title=app.title)
    app.include_router(health_router())
    for router in spec.routers:
        app.include_router(router)
    app.add_middleware(InputGuard)  # no NUL, no lone surrogate, bounded JSON depth: 400, not a 500 later
    app.add_middleware(StripTrailingSlash)
    app.add_middleware(FromGateway)
    instrument_app(app, settings, spec.name)
    return app


async def run_workers(spec: ServiceSpec, settings: AtelierSettings, roles: frozenset[str]) -> None:
    """A process with no HTTP server: the relay, the consumers, the job worker and/or the
    housekeeping of one service."""
    setup_logging(settings, spec.name)
    settings = settings.with_install_secrets()
    runtime = Runtime(spec, settings, roles=roles)
    await runtime.start()
    # SIGTERM (a deploy, `atelier up` stopping, Kubernetes) stops as Ctrl-C does: the handlers under
    # way finish and so does the relay's batch, instead of the process dying mid-event.
    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        with suppress(NotImplementedError):  # not on Windows' event loop
            loop.add_signal_handler(signum, stopping.set)
    try:
        with startup_objects_frozen():
            await stopping.wait()
    finally:
        await runtime.stop()


class UseCase(Generic[C]):
    """A service's use cases: built per request or per event from the transaction and the context.

    Methods load, check the rules, change state and add outbox events; they may flush, never commit.
    """

    def __init__(self, session: AsyncSession, context: C) -> None:
        self.session = session
        self.context = context


def use_case(cls: type[U], *, read_only: bool = False) -> Any:
    """`Annotated[OrderService, use_case(OrderService)]`: the use case of this request's transaction.

    `read_only=True` for routes that only read: the use case gets a session without a transaction
    (`Database.read_only`), one round trip per query instead of three for a one-query request.
    """
    if read_only:
        async def build_reader(request: Request, session: ReadSessionDep) -> U:
            return cls(session, app_state(request.app, "runtime", Runtime).context)

        build_reader.__name__ = f"read_use_case_{cls.__name__}"
        return Depends(build_reader)

    async def build(request: Request, session: SessionDep) -> U:
        return cls(session, app_state(request.app, "runtime", Runtime).context)

    build.__name__ = f"use_case_{cls.__name__}"
    return Depends(build)


def context_of(request: Request) -> Any:
    """The service context of the app serving `request` (a route's `ContextDep` returns it typed)."""
    return app_state(request.app, "runtime", Runtime).context
