"""The pieces a compatibility profile is written with: routes, replies, errors and the call context.

A profile is a route table: each `Route` maps a seed request (method + the seed's own path) to a
native one (`native="POST /api/v1/auth/login"`), with the body and query renamed on the way in
(`body=`, `query=`: a dict of seed name → native name, or a function), the native answer turned
into the seed's shape on the way out (`out=`), and the status mapped (`status={204: 200}`). A
route whose translation is more than that has a `handler`, an async function of the `Context`
that makes the native calls itself. A route the platform cannot honour names what is missing
(`missing=`) and answers 501. The profile's envelope and its error format are two functions.

Every effect goes through `Context.native`: an internal call into the gateway's own proxy, so the
native request meets the same token checks, anonymous identity, rate limits and services as a
client calling `/api/v1` directly. A profile holds no data and no business rule.
"""

from __future__ import annotations

import contextlib
import re
import uuid
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol
from urllib.parse import parse_qsl, urlencode

import orjson

Json = Any
Renames = Mapping[str, str]


class CompatError(Exception):
    """An error answer, rendered in the profile's own error format."""

    def __init__(self, status: int, code: str, message: str, details: dict[str, Any] | None = None,
                 headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.details = details or {}
        self.headers = headers or {}


@dataclass
class Reply:
    """A success answer before the profile's envelope: `data` is JSON, or `content` raw bytes."""

    data: Json = None
    status: int = 200
    message: str | None = None
    headers: dict[str, str] = field(default_factory=dict)
    content: bytes | None = None
    media_type: str = "application/json"
    enveloped: bool = True


@dataclass
class NativeResponse:
    status: int
    headers: list[tuple[bytes, bytes]]
    body: bytes

    def json(self) -> Json:
        return orjson.loads(self.body) if self.body else None

    def header(self, name: str) -> str | None:
        key = name.lower().encode()
        return next((v.decode("latin-1") for k, v in self.headers if k == key), None)

    @property
    def ok(self) -> bool:
        return self.status < 400

    def error(self, status_map: Mapping[int, int] | None = None) -> CompatError:
        """The native error as a `CompatError` (its code, message and details kept)."""
        body: Any = None
        with contextlib.suppress(orjson.JSONDecodeError):
            body = self.json()
        err: dict[str, Any] = {}
        if isinstance(body, dict) and isinstance(body.get("error"), dict):
            err = body["error"]
        status = (status_map or {}).get(self.status, self.status)
        headers = {k: v for k in ("retry-after",) if (v := self.header(k)) is not None}
        return CompatError(status, str(err.get("code", "ERROR")), str(err.get("message", "Error")),
                           err.get("details") or {}, headers)


class Native(Protocol):
    """Calls the platform's public API through the gateway pipeline (see `dispatch.InternalCaller`)."""

    async def __call__(self, method: str, path: str, *, json: Json = None, query: Mapping[str, Any] | None = None,
                       headers: Mapping[str, str] | None = None, content: bytes | None = None,
                       content_type: str | None = None, credentials: bool = True,
                       guest: bool = True) -> NativeResponse: ...


@dataclass
class Context:
    """One seed request being served: its parts, and the door to the native API."""

    method: str
    path: str  # the seed path, after the profile's prefix
    params: dict[str, str]
    query: list[tuple[str, str]]
    headers: dict[str, str]  # lower-case names
    body: bytes
    native: Native
    base: str  # the prefix the profile is mounted at ("/compat/marbelle" or "")
    base_url: str  # scheme://host of the request, for the links a seed returns
    state: dict[str, Any] = field(default_factory=dict)  # what a profile's hooks pass each other
    # Headers added to every native call of this request (e.g. the bearer a session cookie stands for).
    native_headers: dict[str, str] = field(default_factory=dict)
    # Response headers the profile adds (cookies it sets), besides the route's own.
    response_headers: list[tuple[str, str]] = field(default_factory=list)
    origins: tuple[str, ...] = ()  # the frontend origins the gateway is configured for (CORS)
    # The gateway's CORS decision for other origins (its storefronts' origins), where it has one.
    origin_check: Callable[[str], bool] | None = None
    options: Mapping[str, str] = field(default_factory=dict)  # this profile's `compat_options`
    _json: Json = None
    _parsed: bool = False

    def json(self) -> Json:
        """The JSON body (`{}` when empty); a body that is not JSON is a 400 in the profile's format."""
        if not self._parsed:
            self._parsed = True
            if self.body.strip():
                try:
                    self._json = orjson.loads(self.body)
                except orjson.JSONDecodeError:
                    raise CompatError(400, "VALIDATION_ERROR", "The body is not valid JSON") from None
            else:
                self._json = {}
        return self._json

    def body_dict(self) -> dict[str, Any]:
        data = self.json()
        if not isinstance(data, dict):
            raise CompatError(400, "VALIDATION_ERROR", "The body must be a JSON object")
        return data

    def trusts_origin(self, origin: str) -> bool:
        """Whether the gateway's CORS allows `origin`: configured, or one of the storefronts' origins."""
        return origin in self.origins or (self.origin_check is not None and self.origin_check(origin))

    def query_dict(self) -> dict[str, str]:
        return dict(self.query)

    def cookie(self, name: str) -> str | None:
        """The request's cookie `name` (None when absent or empty)."""
        for part in self.headers.get("cookie", "").split(";"):
            key, _, value = part.strip().partition("=")
            if key == name and value:
                return value
        return None

    def absolute(self, url: str | None) -> str | None:
        """A native root-relative URL (`/media/…`) made absolute on the request's host."""
        return self.base_url + url if url and url.startswith("/") else url

    async def forward_raw(self, path: str, headers: tuple[str, ...]) -> Json:
        """The request's raw body and the named headers, unchanged, to a native route (a signed
        provider webhook: the signature covers the exact bytes)."""
        kept = {name: self.headers[name.lower()] for name in headers if name.lower() in self.headers}
        return await self.call("POST", path, content=self.body, headers=kept,
                               content_type=self.headers.get("content-type", "application/json"))

    async def call(self, method: str, path: str, *, status_map: Mapping[int, int] | None = None,
                   **kwargs: Any) -> Json:
        """A native call whose error, if any, becomes this request's error; returns the JSON answer."""
        response = await self.native(method, path, **kwargs)
        if not response.ok:
            raise response.error(status_map)
        return response.json()

    def link(self, native_url: str | None, seed_path: str | None = None) -> str | None:
        """A native page link (`…/api/v1/products?limit=20&offset=20`) as the seed's own link."""
        if native_url is None:
            return None
        _, _, query = native_url.partition("?")
        route = self.state.get("route")
        path = seed_path if seed_path is not None else (
            route.path.format(**self.params) if route is not None else self.path)  # the seed's own slashes
        return f"{self.base_url}{self.base}{path}" + (f"?{query}" if query else "")


Handler = Callable[[Context], Awaitable["Reply | Json"]]
Transform = Callable[[Json, Context], Json]


@dataclass(frozen=True)
class Route:
    method: str
    path: str  # as the seed writes it: "/api/v1/auth/addresses/{id}/set_primary/"
    summary: str
    native: str | None = None  # "POST /api/v1/addresses/{id}/set-primary"
    body: Renames | Callable[[dict[str, Any], Context], Json] | None = None
    query: Renames | None = None
    out: Transform | None = None
    status: Mapping[int, int] = field(default_factory=dict)  # native status → seed status
    message: str | None = None  # the seed's message, for envelopes that carry one
    handler: Handler | None = None
    missing: str | None = None  # what the platform lacks: the route answers 501
    auth: str = "public"  # for the profile's schema: public, anon, user, signed
    enveloped: bool = True  # False where the seed answers without its envelope

    @property
    def pattern(self) -> re.Pattern[str]:
        return _compile(self.path)


_PARAM = re.compile(r"\{(\w+)\}")
_CACHE: dict[str, re.Pattern[str]] = {}


def _compile(path: str) -> re.Pattern[str]:
    pattern = _CACHE.get(path)
    if pattern is None:
        regex = _PARAM.sub(lambda m: f"(?P<{m.group(1)}>[^/]+)", re.escape(path.rstrip("/")).replace(r"\{", "{")
                           .replace(r"\}", "}"))
        pattern = _CACHE[path] = re.compile(f"^{regex}/?$")
    return pattern


Envelope = Callable[[Route, Reply], Json]
ErrorFormat = Callable[[CompatError], Json]
Hook = Callable[[Context, dict[str, str]], None]


@dataclass(frozen=True)
class Profile:
    name: str
    title: str
    seed: str  # the product whose original API it serves, e.g. "S1 Marbelle (the product's original API)"
    routes: tuple[Route, ...]
    envelope: Envelope  # success body of an enveloped route
    error: ErrorFormat  # error body
    # Extra response headers (e.g. S1 echoes the guest session in X-Session-ID), after every answer.
    response_headers: Hook | None = None
    # Runs before every route: the seed's auth style (a session cookie, CSRF checks); may raise CompatError.
    prepare: Callable[[Context], Awaitable[None]] | None = None
    # Error statuses the seed does not use, mapped to the ones it does (S1 has no 409: {409: 400}).
    error_status: Mapping[int, int] = field(default_factory=dict)
    # The error format a request asks for, where a profile serves two clients that disagree
    # (S4: its real frontend's, or the seed document's); None keeps `error`.
    error_for: Callable[[Context], ErrorFormat | None] | None = None

    def match(self, method: str, path: str) -> tuple[Route | None, dict[str, str], list[str]]:
        """The route for (method, path) with its path parameters, and the methods the path allows."""
        allowed: list[str] = []
        for route in self.routes:
            m = route.pattern.match(path)
            if m is None:
                continue
            if route.method == method:
                return route, m.groupdict(), allowed
            allowed.append(route.method)
        return None, {}, allowed


def rename(data: dict[str, Any], renames: Renames) -> dict[str, Any]:
    """`data` with its keys renamed (seed → native); other keys kept."""
    return {renames.get(k, k): v for k, v in data.items()}


async def run_declarative(route: Route, ctx: Context) -> Reply:
    """A route without a handler: one native call with the renames, the output transform and the status map."""
    assert route.native is not None
    method, _, template = route.native.partition(" ")
    path = template.format(**ctx.params)
    json: Json = None
    if method in ("POST", "PUT", "PATCH"):
        data = ctx.body_dict()
        json = route.body(data, ctx) if callable(route.body) else rename(data, route.body or {})
    query: dict[str, Any] = {}
    for key, value in ctx.query:
        query[(route.query or {}).get(key, key)] = value
    response = await ctx.native(method, path, json=json, query=query or None)
    if not response.ok:
        raise response.error(route.status)
    data = response.json()
    message = route.message
    if message is None and isinstance(data, dict) and isinstance(data.get("message"), str):
        message = data["message"]  # the native answer's own words, where the seed gives none
    if route.out is not None:
        data = route.out(data, ctx)
    return Reply(data, status=route.status.get(response.status, response.status), message=message)


def same_id(a: Any, b: Any) -> bool:
    """Whether two ids name the same resource. The native API takes a UUID in any form (upper case,
    braces, no dashes) and answers it canonically: a seed request's id is compared in that form."""
    return _canonical_id(a) == _canonical_id(b)


def _canonical_id(value: Any) -> str | None:
    if value is None:
        return None
    try:
        return str(uuid.UUID(str(value)))
    except ValueError:
        return str(value)


def query_string(query: Mapping[str, Any] | None) -> bytes:
    if not query:
        return b""
    return urlencode({k: v for k, v in query.items() if v is not None}).encode()


def parse_query(raw: bytes) -> list[tuple[str, str]]:
    return parse_qsl(raw.decode("latin-1"), keep_blank_values=True)
