"""Serving the profiles: matching a seed request, calling the native API inside the gateway, rendering.

`Compat` is called by the gateway middleware for `/compat/<profile>/…` and, at the root, for the
paths of its route table: of the one profile a deployment mounts there, or of the profile of the
storefront a request's `Origin` selects where that storefront has `compat_at_root`. The native calls go through
`InternalCaller`: a new ASGI request handed to the gateway's own `Proxy`, with the caller's
credentials (bearer token, anonymous token, cookies), address and request id, so the rules a
native client meets — token checks and the denylist, the anonymous identity, rate limits, body
rules, the owning service — are the same whichever door is used. An anonymous token the proxy
mints on the first call is reused by the next calls of the same request and handed to the client.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

import orjson
from starlette.types import Message, Receive, Scope, Send

from atelier_compat.core import (
    CompatError,
    Context,
    NativeResponse,
    Profile,
    Reply,
    parse_query,
    query_string,
    run_declarative,
)
from atelier_compat.schema import docs_page, profile_schema
from atelier_gateway.seams import (
    COMPAT_PROFILE,
    COMPAT_ROOT,
    AnonTokens,
    NativeProxy,
    allows_origin,
    read_body,
    resolve,
)

log = logging.getLogger("atelier.gateway.compat")

PREFIX = "/compat/"
# `/compat/<profile>/docs` and `/redoc`: Swagger UI and ReDoc on the profile's `/schema`.
_DOCS_PAGES = {"/docs": "swagger", "/redoc": "redoc"}
_FORWARDED = (b"authorization", b"cookie", b"x-session-id", b"x-anonymous-token", b"x-request-id",
              b"user-agent", b"accept-language", b"origin", b"idempotency-key")
_RETURNED = (b"set-cookie",)


class InternalCaller:
    """One seed request's door to the native API: each call runs the gateway's proxy in process."""

    def __init__(self, scope: Scope, proxy: NativeProxy) -> None:
        self.scope = scope
        self.proxy = proxy
        self.base_headers = [(k, v) for k, v in scope["headers"] if k in _FORWARDED]
        self.defaults: dict[str, str] = {}  # the request's `Context.native_headers`
        self.minted: bytes | None = None
        self.returned: list[tuple[bytes, bytes]] = []  # headers the client must get (cookies, a minted token)
        # Each native answer's Cache-Control, as the proxy's edge rules left it (`cache_control`).
        self.controls: list[bytes | None] = []

    async def __call__(self, method: str, path: str, *, json: Any = None, query: Mapping[str, Any] | None = None,
                       headers: Mapping[str, str] | None = None, content: bytes | None = None,
                       content_type: str | None = None, credentials: bool = True,
                       guest: bool = True) -> NativeResponse:
        """`credentials=False`: a call as nobody (a public probe), without the caller's bearer token,
        which the proxy would refuse (401) before the probe reached a service if it were bad.
        `guest=False`: without the caller's guest identity (anonymous token, `X-Session-ID`,
        cookies), so nothing the guest owns moves; the token the proxy mints for the call stays here."""
        service = resolve(path.rstrip("/") or "/")
        if service is None:
            raise CompatError(500, "INTERNAL_ERROR", "Internal server error")
        body = content if content is not None else (orjson.dumps(json) if json is not None else b"")
        extra = {k.lower().encode(): v.encode("latin-1") for k, v in {**self.defaults, **(headers or {})}.items()}
        out = [(k, v) for k, v in self.base_headers if k not in extra]
        if not credentials:
            extra.pop(b"authorization", None)
            out = [(k, v) for k, v in out if k != b"authorization"]
        if not guest:
            out = [(k, v) for k, v in out if k not in (b"x-anonymous-token", b"x-session-id", b"cookie")]
        elif self.minted is not None:
            out = [(k, v) for k, v in out if k not in (b"x-anonymous-token", b"x-session-id")]
            out.append((b"x-anonymous-token", self.minted))
        out.extend(extra.items())
        if body:
            ctype = content_type or ("application/json" if content is None else "application/octet-stream")
            out.append((b"content-type", ctype.encode("latin-1")))
            out.append((b"content-length", str(len(body)).encode()))
        scope = {**self.scope, "method": method, "path": path, "raw_path": path.encode(),
                 "query_string": query_string(query), "headers": out}
        sent = False

        async def receive() -> Message:
            nonlocal sent
            if not sent:
                sent = True
                return {"type": "http.request", "body": body, "more_body": False}
            return {"type": "http.disconnect"}

        status = 500
        response_headers: list[tuple[bytes, bytes]] = []
        chunks: list[bytes] = []

        async def send(message: Message) -> None:
            nonlocal status, response_headers
            if message["type"] == "http.response.start":
                status = message["status"]
                response_headers = list(message.get("headers", []))
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))

        await self.proxy(service, scope, receive, send)
        self.controls.append(next((v for k, v in response_headers if k == b"cache-control"), None))
        if not guest:
            return NativeResponse(status, response_headers, b"".join(chunks))
        for key, value in response_headers:
            if key == b"x-anonymous-token" and self.minted is None:
                self.minted = value
                self.returned.append((key, value))
            elif key in _RETURNED:
                self.returned.append((key, value))
        return NativeResponse(status, response_headers, b"".join(chunks))

    def cache_control(self) -> bytes | None:
        """The seed answer's Cache-Control: the strictest of the native answers it was built from, as
        the proxy's rules gave each (a group's prices, a minted token: `private`; what no service
        declared cacheable: `no-store`). Built from shared answers only, it is `no-cache`: it carries
        none of their surrogate keys, so no CDN purge would reach a copy. None: no native call."""
        if not self.controls:
            return None
        if any(c is None or b"no-store" in c for c in self.controls):
            return b"no-store"
        if any(c.startswith(b"private") for c in self.controls if c is not None):
            return b"private, no-cache"
        return b"no-cache"


class Compat:
    """The enabled profiles, by name; `root` is the one also served at the root, if any."""

    def __init__(self, profiles: Mapping[str, Profile], root: str | None = None, origins: tuple[str, ...] = (),
                 options: Mapping[str, Mapping[str, str]] | None = None) -> None:
        self.profiles = dict(profiles)
        self.origins = origins
        self.options = options or {}
        self.root = self.profiles.get(root) if root else None
        self._schemas: dict[str, bytes] = {}

    def claims(self, method: str, path: str, profile: str | None = None) -> bool:
        """Whether a root-mounted profile serves this path (it then goes before the native routes).
        `profile`: the one a storefront serves at the root for its own origins (`COMPAT_ROOT`),
        which claims its routes only: another method, or a path it lacks, stays native there."""
        if profile is not None:
            chosen = self.profiles.get(profile)
            return chosen is not None and chosen.match(method, path)[0] is not None
        if self.root is None:
            return False
        route, _, allowed = self.root.match(method, path)
        return route is not None or bool(allowed) or path.rstrip("/") == "/schema"

    async def __call__(self, scope: Scope, receive: Receive, send: Send, proxy: NativeProxy) -> None:
        path: str = scope["path"]
        if path.startswith(PREFIX):
            name, _, rest = path[len(PREFIX):].partition("/")
            profile = self.profiles.get(name)
            base = PREFIX + name
            seed_path = "/" + rest
        else:
            chosen = scope.get(COMPAT_ROOT)
            profile = self.profiles.get(chosen) if chosen is not None else self.root
            base, seed_path = "", path
        if profile is None:
            await _respond(send, 404, orjson.dumps({"error": {"code": "NOT_FOUND", "message": "Not found",
                                                              "details": {}}}), [])
            return
        if seed_path.rstrip("/") == "/schema" and scope["method"] == "GET":
            doc = self._schemas.get(profile.name)
            if doc is None:
                doc = self._schemas[profile.name] = orjson.dumps(profile_schema(profile, base))
            await _respond(send, 200, doc, [])
            return
        # Its docs pages, under the profile's prefix only (at the root, `/docs` may be a seed's path).
        if base and scope["method"] == "GET" and (kind := _DOCS_PAGES.get(seed_path.rstrip("/"))) is not None:
            page = docs_page(profile, kind, f"{base}/schema")
            await _respond(send, 200, page.content or b"",
                           [(b"content-type", page.media_type.encode()),
                            *((k.lower().encode(), v.encode("latin-1")) for k, v in page.headers.items())])
            return
        # Its native calls belong to the profile's storefront (`seams.COMPAT_PROFILE`).
        caller = InternalCaller({**scope, COMPAT_PROFILE: profile.name}, proxy)
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        host = headers.get("host", "localhost")
        ctx = Context(method=scope["method"], path=seed_path, params={}, query=parse_query(scope["query_string"]),
                      headers=headers, body=await read_body(receive), native=caller, base=base,
                      base_url=f"{scope.get('scheme', 'http')}://{host}", origins=self.origins,
                      origin_check=lambda origin: allows_origin(scope, origin),
                      options=self.options.get(profile.name, {}))
        caller.defaults = ctx.native_headers
        extra: dict[str, str] = {}
        try:
            try:
                reply = await self._serve(profile, ctx)
            except CompatError:
                raise
            except Exception:  # a translation bug: the profile's error format, never a stack trace
                log.exception("compat %s %s %s failed", profile.name, ctx.method, ctx.path)
                raise CompatError(500, "INTERNAL_ERROR", "Internal server error") from None
            extra.update(reply.headers)
            if reply.content is not None:
                body, media_type = reply.content, reply.media_type
            elif reply.status == 204:
                body, media_type = b"", reply.media_type
            else:
                route = _route_of(ctx)
                data = profile.envelope(route, reply) if reply.enveloped and route.enveloped else reply.data
                body, media_type = orjson.dumps(data), "application/json"
            status = reply.status
        except CompatError as exc:
            if exc.status >= 500 and exc.status != 501:
                log.warning("compat %s %s %s: %s %s", profile.name, ctx.method, ctx.path, exc.status, exc.code)
            status = profile.error_status.get(exc.status, exc.status)
            error_format = (profile.error_for(ctx) if profile.error_for is not None else None) or profile.error
            body, media_type = orjson.dumps(error_format(exc)), "application/json"
            extra.update(exc.headers)
        ctx.state["anon_token"] = (caller.minted.decode("latin-1") if caller.minted is not None
                                   else _incoming_anon(scope, proxy.auth))
        if profile.response_headers is not None:
            profile.response_headers(ctx, extra)
        out = [(k.lower().encode(), v.encode("latin-1")) for k, v in [*extra.items(), *ctx.response_headers]]
        out.extend(caller.returned)
        if (control := caller.cache_control()) is not None and not any(k == b"cache-control" for k, _ in out):
            out.append((b"cache-control", control))
        out.append((b"content-type", media_type.encode()))
        await _respond(send, status, body, out)

    async def _serve(self, profile: Profile, ctx: Context) -> Reply:
        route, params, allowed = profile.match(ctx.method, ctx.path)
        if route is None:
            if allowed:
                raise CompatError(405, "METHOD_NOT_ALLOWED", "Method not allowed", {"allowed": sorted(set(allowed))},
                                  {"Allow": ", ".join(sorted(set(allowed)))})
            raise CompatError(404, "NOT_FOUND", "Not found")
        ctx.params = params
        ctx.state["route"] = route
        if profile.prepare is not None:
            await profile.prepare(ctx)
        if route.missing is not None:
            raise CompatError(501, "NOT_IMPLEMENTED", f"Not available on this platform: {route.missing}",
                              {"missing": route.missing, "route": f"{route.method} {route.path}"})
        if route.auth == "user" and "authorization" not in ctx.headers and "authorization" not in ctx.native_headers:
            # The seed's auth style (a native route may also take anonymous callers, e.g. addresses for S0).
            raise CompatError(401, "AUTHENTICATION_REQUIRED", "Authentication credentials were not provided.")
        if route.handler is not None:
            result = await route.handler(ctx)
            if not isinstance(result, Reply):
                result = Reply(result, message=route.message)
            elif result.message is None:
                result.message = route.message
            return result
        return await run_declarative(route, ctx)


def _incoming_anon(scope: Scope, auth: AnonTokens) -> str | None:
    """The caller's valid anonymous token (header or cookie), as the proxy would accept it."""
    cookie = None
    for key, value in scope["headers"]:
        if key in (b"x-anonymous-token", b"x-session-id") and auth.anon_valid(value.decode("latin-1")):
            return str(value.decode("latin-1"))
        if key == b"cookie":
            cookie = value.decode("latin-1")
    for part in (cookie or "").split(";"):
        name, _, value = part.strip().partition("=")
        if name == "anon_token" and auth.anon_valid(value):
            return value
    return None


def _route_of(ctx: Context) -> Any:
    return ctx.state["route"]


async def _respond(send: Send, status: int, body: bytes, headers: list[tuple[bytes, bytes]]) -> None:
    if not any(k == b"content-type" for k, _ in headers):
        headers = [*headers, (b"content-type", b"application/json")]
    headers = [*headers, (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body, "more_body": False})
