"""The services' side: the route class that answers a GET from the store, stores what the route
answered with the counters read before it, and gives every answer its HTTP cache headers. Only the
services import it; the gateway serves the same entries without FastAPI's routing."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Coroutine, Iterable
from itertools import chain
from typing import Any

import orjson
from fastapi import Request, Response
from fastapi.routing import APIRoute

from atelier_common.auth import TokenVerifier, bearer_token
from atelier_common.cache.entries import (
    PUBLIC_AUDIENCE,
    Entry,
    audience_of,
    cache_control,
    entry_key,
    etag_of,
    lookup,
    matches,
    not_modified_headers,
    storefront_key,
    surrogate_headers,
)
from atelier_common.cache.stores import CacheStore, store_failed
from atelier_common.contracts.identity import STOREFRONT_HEADER
from atelier_common.locales import query_locale
from atelier_common.settings import AtelierSettings
from atelier_common.state import app_state
from atelier_common.storefronts import StorefrontDirectory

# Response headers never stored with an entry (the serving side adds its own).
_NOT_STORED = frozenset({b"content-length", b"set-cookie", b"date", b"server", b"x-request-id", b"traceparent",
                         b"tracestate", b"connection", b"transfer-encoding", b"keep-alive"})


async def _audience(request: Request) -> str:
    token = bearer_token(request)
    if token is None:
        return PUBLIC_AUDIENCE
    principal = await app_state(request.app, "verifier", TokenVerifier).principal_from_access(token)
    return audience_of(principal.roles, principal.customer_group, principal.group_storefront,
                       None if principal.storefronts is None else sorted(principal.storefronts))


async def _locale(request: Request, slug: str, query: bytes) -> str:
    """The key's locale, derived as the gateway derives it (`Storefront.cache_locale`)."""
    directory = getattr(request.app.state, "storefronts", None)
    if not isinstance(directory, StorefrontDirectory):
        return ""
    record = directory.known(slug) if slug else directory.default
    if record is None:
        return ""
    return record.cache_locale(query_locale(query), request.headers.get("accept-language"))


def _entry_response(entry: Entry, if_none_match: str | None) -> Response:
    if matches(if_none_match, entry.etag):
        response = Response(status_code=304)
        response.raw_headers = not_modified_headers(entry.headers)
        return response
    response = Response(entry.body)
    response.raw_headers = [*entry.headers, (b"content-length", str(len(entry.body)).encode())]
    return response


# What a route class finds in a shared answer's body (its JSON) to tag it with: a product's key.
SurrogateKeys = Callable[[str, Any], Iterable[str]]


async def _serve(request: Request, handler: Callable[[Request], Awaitable[Response]],
                 namespaces: tuple[str, ...], shared: bool, stored: bool, keys: SurrogateKeys | None) -> Response:
    if request.method != "GET":
        return await handler(request)
    runtime = request.app.state.runtime
    store: CacheStore | None = runtime.cache if stored else None
    settings: AtelierSettings = runtime.settings
    if_none_match = request.headers.get("if-none-match")
    storefront = request.headers.get(STOREFRONT_HEADER, "")
    key = generations = None
    audience = await _audience(request) if shared else PUBLIC_AUDIENCE
    if store is not None and shared:
        host = request.headers.get("host", "").encode("latin-1")
        query = request.scope.get("query_string", b"")
        key = entry_key(request.scope.get("scheme", "http"), host, request.scope["path"], query, audience,
                        storefront.encode("latin-1"), await _locale(request, storefront, query))
        entry = await lookup(store, key)
        if entry is not None:
            return _entry_response(entry, if_none_match)
        try:  # read before the route reads the database: a commit after this bumps past it
            generations = await store.generations(namespaces)
        except Exception as exc:
            store_failed("cache generations unavailable", exc)
            key = None
    response = await handler(request)
    body = getattr(response, "body", None)
    if response.status_code != 200 or not isinstance(body, bytes):
        return response
    etag = etag_of(body)
    response.headers["etag"] = etag.decode()
    public = shared and audience == PUBLIC_AUDIENCE  # staff answers may show what others must not see
    response.headers["cache-control"] = cache_control(settings, shared=public).decode()
    if public:
        found = keys(request.scope["path"], orjson.loads(body)) if keys is not None else ()
        own = (storefront_key(storefront),) if storefront else ()
        response.raw_headers.extend(surrogate_headers(chain(namespaces, own, found)))
    if key is not None and store is not None and generations is not None:
        headers = [(k, v) for k, v in response.raw_headers if k not in _NOT_STORED]
        try:
            await store.set(key, Entry(generations, namespaces, headers, body).encode(),
                            settings.cache_ttl_seconds)
        except Exception as exc:
            store_failed("cache store failed", exc)
    if matches(if_none_match, etag):
        not_modified = Response(status_code=304)
        not_modified.raw_headers = not_modified_headers(response.raw_headers)
        return not_modified
    return response


def cached_route(*namespaces: str, shared: bool = True, stored: bool = True,
                 keys: SurrogateKeys | None = None) -> type[APIRoute]:
    """A route class (`APIRouter(route_class=cached_route("catalog"))`) whose GET answers carry a
    strong ETag and Cache-Control, answer `If-None-Match` with 304, and — `shared` — are kept in
    the store until a write to one of `namespaces` commits, tagged with surrogate keys: the
    namespaces, the storefront and `keys(path, body)` (see `atelier_common.cache`). `stored=False`: the
    HTTP side only (an answer built from memory, or from another service, with no table of its own
    to invalidate it)."""

    class CachedRoute(APIRoute):
        def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
            handler = super().get_route_handler()

            async def serve(request: Request) -> Response:
                return await _serve(request, handler, namespaces, shared, stored, keys)

            return serve

    return CachedRoute
