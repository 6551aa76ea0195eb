"""The gateway's hot path: check the caller, then stream the request to the owning service.

Per request: trailing slash dropped, `/internal` never routed, then the edge rules (`pipeline.Edge`,
written once for every lane): the storefront resolved, the bearer token verified (cached) and
checked against the denylist, an anonymous token accepted or — where the request needs an owner
and has none (`routing.OWNER_PATHS`) — minted, the rate limits counted (the install's, then the
storefront's own budget: docs/limits.md), the cache audience and key; headers forwarded with the
caller's address and a request id.

Three lanes answer a request, each from the same `EdgeRequest` and differing only in how they
answer (docs/caching.md): the full path (`Proxy._proxy`: streamed from the service, or a cache
entry), a hit in the ASGI stack (`HitLane`, `Proxy.find_hit`: this process's copy, sent through
ASGI) and a hit written by the protocol (`EarlyHits`, `Proxy.find_hit_now`: the copy's bytes,
rendered by `atelier_common.fast.protocol`).

The edge rules of a public answer (one the service declared `Cache-Control: public`) live here:
`Vary` on what chose its storefront, and `private` when nothing a shared cache can key on did
(the `Referer` alone). An answer that mints a token sets a cookie: always `private`.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from opentelemetry import propagate
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from atelier_common.cache import (
    CacheStore,
    Entry,
    EntryReader,
    InvalidationFeed,
    MemoryStore,
    matches,
    not_modified_headers,
)
from atelier_common.errors import AtelierError, error_response
from atelier_common.fast.protocol import render_answer, render_headers
from atelier_common.ratelimit import RateLimiter
from atelier_common.telemetry import AccessLogMiddleware, storefront_var, tracing_on
from atelier_gateway.auth import EdgeAuth
from atelier_gateway.edge import check_path, read_bounded_body
from atelier_gateway.forwarded import ClientResolver, resolved_client
from atelier_gateway.pipeline import Edge, EdgeRequest, RequestHeaders
from atelier_gateway.routing import is_public_read, resolve
from atelier_gateway.settings import GatewaySettings
from atelier_gateway.storefronts import COMPAT_ROOT, VARY, VARY_LANGUAGE, StorefrontResolver
from atelier_gateway.upstream import HOP_BY_HOP, Upstream

if TYPE_CHECKING:
    from atelier_gateway.seams import CompatMount

log = logging.getLogger("atelier.gateway")

_DROPPED = HOP_BY_HOP | {b"x-forwarded-for", b"x-forwarded-proto", b"x-forwarded-host", b"x-service-token",
                         b"x-anonymous-token", b"x-session-id", b"traceparent", b"tracestate",
                         b"x-atelier-storefront", b"x-request-timeout"}
_LOGOUT = "/api/v1/auth/logout"
# On a seed request's scope (`GatewayMiddleware`), shared by its native calls: the storefront
# budgets it was counted against already, so one seed request costs each budget one request
# however many native calls it makes (S3 counted its own requests).
BUDGETED = "atelier.gateway.budgeted"


@dataclass
class Proxy:
    settings: GatewaySettings
    auth: EdgeAuth
    upstream: Upstream
    limiter: RateLimiter
    credential_limiter: RateLimiter
    storefronts: StorefrontResolver
    # The services' shared response cache (`atelier_common.cache`): public GET answers they stored
    # are served from it here, without the hop; None when caching is off.
    cache: CacheStore | None = None
    # The store's bumps as they happen: with it, a hit is answered from this process's copies.
    feed: InvalidationFeed | None = None
    # The storefronts' own budgets (`_budget`): small, so exact across processes (Redis on each
    # hit, no local sync); in memory unless given.
    budget_limiter: RateLimiter = field(default_factory=lambda: RateLimiter(moving_window=False))

    def __post_init__(self) -> None:
        self.tracing = tracing_on()
        secure = "; Secure" if self.settings.cookie_secure else ""
        max_age = self.settings.anon_token_days * 86400
        same_site = "None" if self.settings.cross_site_cookies else "Lax"
        self._cookie_suffix = f"; Path=/; Max-Age={max_age}; HttpOnly; SameSite={same_site}{secure}".encode()
        self._timeout = f"{self.settings.proxy_timeout_seconds:g}".encode()
        self._reader = None if self.cache is None else EntryReader(
            self.cache, ttl=self.settings.cache_ttl_seconds,
            # Decoded copies of remote entries, bounded per worker (pages of 20 products are ~20 KB).
            local_entries=0 if isinstance(self.cache, MemoryStore) else min(self.settings.cache_max_entries, 2_000),
            staleness=self.settings.cache_staleness_seconds, feed=self.feed,
            trust=self.settings.cache_local_trust_seconds)
        # Path prefixes (`/api/v1/products`) a service ever answered as public: only their GETs are
        # looked up, so a cart or an order costs no round trip to the store.
        self._cacheable: set[str] = set()
        # Every edge rule, for every lane (`pipeline`).
        self.edge = Edge(self.settings, self.auth, self.storefronts, self.limiter, self.credential_limiter,
                         self.budget_limiter)

    async def __call__(self, service: str, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await self._proxy(service, scope, receive, send)
        except AtelierError as exc:
            await error_response(exc.status, exc.code, exc.message, exc.details, exc.headers)(scope, receive, send)

    async def _proxy(self, service: str, scope: Scope, receive: Receive, send: Send) -> None:
        h = RequestHeaders.read(scope["headers"])
        # Forwarded as they came but for the hop-by-hop ones and what the gateway itself sets.
        headers = [(k, v) for k, v in scope["headers"] if k not in _DROPPED and k != b"x-request-id"]

        edge = await self.edge.derive(scope, h)
        if edge.authorization is not None:
            headers = [(k, v) for k, v in headers if k != b"authorization"]
            headers.append((b"authorization", edge.authorization))
        headers.append((b"x-atelier-storefront", edge.slug))
        if edge.anon is not None:
            headers.append((b"x-anonymous-token", edge.anon))
        minted = edge.anon if edge.minted else None
        await self.edge.count(edge, scope.get(BUDGETED))

        request_id = h.request_id or uuid.uuid4().hex.encode()
        headers.append((b"x-forwarded-for", edge.ip.encode()))
        headers.append((b"x-forwarded-proto", scope.get("scheme", "http").encode()))
        headers.append((b"x-request-id", request_id))
        # How long this gateway waits for the answer: a service stops an idempotent call by then
        # (`atelier_common.idempotency`), so nothing goes on working for a client already answered.
        headers.append((b"x-request-timeout", self._timeout))
        if self.tracing:
            carrier: dict[str, str] = {}
            propagate.inject(carrier)
            headers.extend((k.encode(), v.encode()) for k, v in carrier.items())

        def on_start(status: int, response_headers: list[tuple[bytes, bytes]]) -> None:
            response_headers.append((b"x-request-id", request_id))
            control = next((v for k, v in response_headers if k == b"cache-control"), None)
            public = control is not None and control.startswith(b"public")
            if prefix is not None and public:
                self._cacheable.add(prefix)
            if minted is not None:
                # A response that sets a caller's cookie is that caller's: never in a shared cache.
                response_headers[:] = [(k, v) for k, v in response_headers if k != b"cache-control"]
                response_headers.append((b"cache-control", b"private, no-cache"))
                response_headers.append((b"x-anonymous-token", minted))
                response_headers.append((b"set-cookie", b"anon_token=" + minted + self._cookie_suffix))
            elif control is None:
                # What a service did not declare cacheable is nobody's to keep (per-user answers).
                response_headers.append((b"cache-control", b"no-store"))
            elif public:
                _public_answer(response_headers, edge.shareable)
            if edge.claims is not None and status < 300 and scope["path"] == _LOGOUT:
                # This instance refuses the token at once; the others hear identity.token_revoked.
                self.auth.denylist.revoke_jti(edge.claims["jti"], edge.claims["exp"])

        prefix = _prefix(scope["path"]) if self._reader is not None and scope["method"] == "GET" else None
        if prefix is not None and prefix in self._cacheable and self._reader is not None and edge.key is not None:
            entry = await self._reader.get(edge.key)
            if entry is not None:
                await _send_entry(entry, h.if_none_match, send, on_start)
                return

        try:
            await self.upstream.forward(service, scope, receive, send, headers, on_start)
        except ConnectionError as exc:
            log.warning("upstream %s unreachable: %s", service, exc)
            await error_response(503, "SERVICE_UNAVAILABLE", f"The {service} service is unavailable")(
                scope, receive, send)
        except TimeoutError:
            await error_response(504, "GATEWAY_TIMEOUT", f"The {service} service did not answer in time")(
                scope, receive, send)


    def _hit_candidate(self, scope: Scope) -> RequestHeaders | None:
        """A GET this process may answer from its own copy: cacheable, no Origin (CORS), no body;
        its headers. None: the full path, which decides everything itself."""
        path: str = scope["path"]
        if self._reader is None or self.tracing or _prefix(path) not in self._cacheable or not is_public_read("GET", path):
            return None
        h = RequestHeaders.read(scope["headers"])
        if h.full_path_only:
            return None
        try:
            check_path(path)
        except AtelierError:
            return None
        return h

    async def find_hit(self, scope: Scope) -> Hit | None:
        """What `HitLane` answers: a `_hit_candidate` the edge takes without the full path
        (`Edge.derive_known`) whose answer is kept here, counted against the caller's limits.
        None: the full path."""
        h = self._hit_candidate(scope)
        if h is None:
            return None
        edge = await self.edge.derive_known(scope, h)
        if edge is None or edge.key is None:
            return None
        assert self._reader is not None
        entry = self._reader.local(edge.key)  # this process's copy (no round trip), if it has one
        if entry is None:
            return None
        try:
            await self.edge.count(edge)
        except AtelierError:
            return None  # refused: the full path counts it again and answers 429 (CORS, log)
        return Hit(entry, h, edge)

    def find_hit_now(self, scope: Scope) -> Hit | None:
        """`find_hit` when it needs no I/O at all (`EarlyHits`): the edge's request derived
        without a wait (`Edge.derive_now`) and counted in this process (`Edge.count_now`). None:
        `HitLane` or the full path decides."""
        h = self._hit_candidate(scope)
        if h is None:
            return None
        edge = self.edge.derive_now(scope, h)
        if edge is None or edge.key is None:
            return None
        assert self._reader is not None
        entry = self._reader.local(edge.key)
        if entry is None or not self.edge.count_now(edge):
            return None
        return Hit(entry, h, edge)

    async def send_hit(self, hit: Hit, send: Send) -> None:
        storefront_var.set(hit.storefront)
        status, headers, body = hit.answer()
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body, "more_body": False})


# Not frozen: a frozen dataclass's `__init__` costs ~0.2 µs more per hit; nothing changes it once made.
@dataclass(slots=True)
class Hit:
    entry: Entry
    headers: RequestHeaders
    edge: EdgeRequest

    @property
    def storefront(self) -> str:
        return self.edge.storefront

    @property
    def shareable(self) -> bool:
        return self.edge.shareable

    def answer(self) -> tuple[int, list[tuple[bytes, bytes]], bytes]:
        """The status, headers and body of the answer, as both lanes give it."""
        status, headers, body = _entry_answer(self.entry, self.headers.if_none_match)
        _public_answer(headers, self.shareable)
        # What the CORS middleware adds to every answer to a request without an Origin.
        vary = [v for k, v in headers if k == b"vary"]
        headers[:] = [(k, v) for k, v in headers if k != b"vary"]
        headers.append((b"vary", b", ".join([*vary, b"Origin"])))
        return status, headers, body


def _public_answer(response_headers: list[tuple[bytes, bytes]], shareable: bool) -> None:
    """The edge rules of an answer a service declared public (the module doc). An answer in the
    caller's negotiated language (a storefront with several) varies on `Accept-Language` too."""
    kept, languages = [], False
    for k, v in response_headers:
        if k != b"vary":
            kept.append((k, v))
        elif b"accept-language" in v.lower():
            languages = True
    kept.append((b"vary", VARY_LANGUAGE if languages else VARY))
    response_headers[:] = kept
    if not shareable:
        response_headers[:] = [(k, v) for k, v in response_headers if k != b"cache-control"]
        response_headers.append((b"cache-control", b"private, no-cache"))


def _prefix(path: str) -> str:
    """`/api/v1/products/abc/reviews` → `/api/v1/products`."""
    parts = path.split("/", 4)
    return "/".join(parts[:4])


def _entry_answer(entry: Entry, if_none_match: bytes | None) -> tuple[int, list[tuple[bytes, bytes]], bytes]:
    if matches(if_none_match, entry.etag):
        status, body = 304, b""
        response_headers = not_modified_headers(entry.headers)
    else:
        status, body = 200, entry.body
        response_headers = [*entry.headers, (b"content-length", str(len(body)).encode())]
    response_headers.append((b"x-cache", b"hit"))  # answered by the gateway from the shared cache
    return status, response_headers, body


async def _send_entry(entry: Entry, if_none_match: bytes | None, send: Send,
                      on_start: Callable[[int, list[tuple[bytes, bytes]]], None]) -> None:
    status, response_headers, body = _entry_answer(entry, if_none_match)
    on_start(status, response_headers)
    await send({"type": "http.response.start", "status": status, "headers": response_headers})
    await send({"type": "http.response.body", "body": body, "more_body": False})


class Lanes(Protocol):
    """What the request lanes read of the gateway's state (`state.GatewayState`)."""

    @property
    def settings(self) -> GatewaySettings: ...
    @property
    def proxy(self) -> Proxy: ...
    @property
    def compat(self) -> CompatMount | None: ...
    @property
    def storefront_resolver(self) -> StorefrontResolver: ...


class HitLane:
    """In front of the access log, CORS and the routing (inside `ClientOrigin`): a GET the proxy
    can answer from its own copies (`Proxy.find_hit`) is answered here, through an access log of
    its own (the same lines and metrics); everything else goes on down the stack."""

    def __init__(self, app: ASGIApp, *, app_state: Any, access_log: bool) -> None:
        self.app = app
        self.app_state = app_state  # the gateway app's: its `gateway` once its lifespan has run
        self.logged = AccessLogMiddleware(self._answer, service="gateway", route_label=resolve, enabled=access_log)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] == "GET" and (
                lanes := _native(getattr(self.app_state, "gateway", None), scope)):
            hit = await lanes.proxy.find_hit(scope)
            if hit is not None:
                scope[_HIT] = hit
                await self.logged(scope, receive, send)
                return
        await self.app(scope, receive, send)

    async def _answer(self, scope: Scope, _receive: Receive, send: Send) -> None:
        await self.app_state.gateway.proxy.send_hit(scope[_HIT], send)


_HIT = "atelier.gateway.hit"


def _native(lanes: Lanes | None, scope: Scope) -> Lanes | None:
    """The gateway's lanes (`app.state.gateway`), when the request is for a native route (no
    profile of the seed APIs serves it); None before the lifespan has run."""
    path: str = scope["path"]
    if lanes is None or (lanes.compat is not None and (
            path.startswith("/compat/") or lanes.compat.claims("GET", path)
            or _root_profile(scope, lanes.storefront_resolver, lanes.compat) is not None)):
        return None
    return lanes


class EarlyHits:
    """The `hits` fast path (`atelier_common.fast.protocol.EarlyAnswer`): what `HitLane` answers
    when it needs no I/O (`Proxy.find_hit_now`), written as bytes by the protocol itself, outside
    the ASGI stack. Everything the stack adds to that answer is added here: `ClientOrigin`'s client,
    the access log's line, metrics and request id, `NoSniff`, uvicorn's `date` and `server`. A
    request it declines goes through the stack."""

    def __init__(self, app_state: Any, clients: ClientResolver, *, access_log: bool) -> None:
        self.app_state = app_state
        self.clients = clients
        self.log = AccessLogMiddleware(_unused, service="gateway", route_label=resolve, enabled=access_log)
        self._renders: dict[tuple[int, int, bool], tuple[Entry, bytes, bytes]] = {}
        # The lifespan's lanes, once it has made them (`app.state` costs a call on every look).
        self._lanes: Lanes | None = None

    def __call__(self, scope: Scope, default_headers: list[tuple[bytes, bytes]], keep_alive: bool) -> bytes | None:
        started = time.perf_counter()
        path: str = scope["path"]
        if "." in path or (len(path) > 1 and path.endswith("/")):
            return None  # refused or rewritten by `GatewayMiddleware`: the stack answers
        if self._lanes is None:
            self._lanes = getattr(self.app_state, "gateway", None)
        lanes = _native(self._lanes, scope)
        if lanes is None:
            return None
        if self.clients.trusted:
            scope = resolved_client(scope, self.clients)
        hit = lanes.proxy.find_hit_now(scope)
        if hit is None:
            return None
        status, rendered, body = self._rendered(hit)
        h = hit.headers
        request_id = self.log.record_answer(scope, status, started, hit.edge.storefront,
                                            (h.request_id, h.authorization, h.anon_header))
        return render_answer(status, default_headers, rendered, ((b"x-request-id", request_id.encode()),),
                             keep_alive, body)

    def _rendered(self, hit: Hit) -> tuple[int, bytes, bytes]:
        """The answer's status, its own header lines as written, and its body: rendered once per
        copy, status and sharing (a copy is immutable; a new one replaces it after a bump)."""
        # Most requests send no `If-None-Match`: the copy's ETag is not even looked for.
        if_none_match = hit.headers.if_none_match
        status = 304 if if_none_match is not None and matches(if_none_match, hit.entry.etag) else 200
        key = (id(hit.entry), status, hit.edge.shareable)
        known = self._renders.get(key)
        if known is not None and known[0] is hit.entry:
            return status, known[1], known[2]
        status, headers, body = hit.answer()
        own = [(name, value) for name, value in headers if name != b"x-request-id"]
        if not any(name == b"x-content-type-options" for name, _ in headers):
            own.append((b"x-content-type-options", b"nosniff"))
        if len(self._renders) >= _MAX_RENDERS:
            self._renders.clear()
        self._renders[key] = (hit.entry, render_headers(own), body)
        return status, self._renders[key][1], body


# Rendered answers kept by `EarlyHits`; each holds its copy (and body) until cleared, so fewer than
# the 2,000 copies `EntryReader` keeps: a replaced copy is not held for long.
_MAX_RENDERS = 1_000


async def _unused(_scope: Scope, _receive: Receive, _send: Send) -> None:
    raise AssertionError("EarlyHits only records answers through its access log")


def _root_profile(scope: Scope, resolver: StorefrontResolver, compat: CompatMount) -> tuple[str, bool] | None:
    """The profile the request's storefront serves this root path with (`Storefront.compat_at_root`),
    and whether its `Origin` chose it; None: the native route (or the deployment's root profile)."""
    path: str = scope["path"]
    if path.startswith("/compat/"):
        return None
    chosen = resolver.root_profile(scope["headers"])
    if chosen is None or not compat.claims(scope["method"], path.rstrip("/") or "/", chosen[0]):
        return None
    return chosen


def _private(send: Send) -> Send:
    """An answer chosen by the `Referer`: no shared cache can key on that, so none may keep it."""

    async def sending(message: Message) -> None:
        if message["type"] == "http.response.start":
            headers = [(k, v) for k, v in message.get("headers", []) if k != b"cache-control"]
            message = {**message, "headers": [*headers, (b"cache-control", b"private, no-cache")]}
        await send(message)

    return sending


class GatewayMiddleware:
    """Sends every public service path to the proxy; everything else to the gateway's own routes.

    Before any decision (route, token, rate limit): a dot-segment path is refused and the body is
    read within its size and time limits (`edge.py`).
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            path: str = scope["path"]
            try:
                check_path(path)
                lanes: Lanes = scope["app"].state.gateway
                receive = await read_bounded_body(scope, receive, lanes.settings)
            except AtelierError as exc:
                # The body was not read (or not all of it): close the connection rather than let the
                # server drain what the client still sends.
                await error_response(exc.status, exc.code, exc.message, exc.details,
                                     {**(exc.headers or {}), "Connection": "close"})(scope, receive, send)
                return
            if len(path) > 1 and path.endswith("/"):
                path = path.rstrip("/") or "/"
                scope = {**scope, "path": path, "raw_path": path.encode()}
            if lanes.compat is not None:
                if (chosen := _root_profile(scope, lanes.storefront_resolver, lanes.compat)) is not None:
                    profile, by_origin = chosen
                    await lanes.compat({**scope, BUDGETED: set(), COMPAT_ROOT: profile}, receive,
                                       send if by_origin else _private(send), lanes.proxy)
                    return
                if path.startswith("/compat/") or lanes.compat.claims(scope["method"], path):
                    await lanes.compat({**scope, BUDGETED: set()}, receive, send, lanes.proxy)
                    return
            service = resolve(path)
            if service is not None:
                await lanes.proxy(service, scope, receive, send)
                return
        await self.app(scope, receive, send)
