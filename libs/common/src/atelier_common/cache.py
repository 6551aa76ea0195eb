"""A shared cache of public GET responses, invalidated by per-namespace generation counters.

- **What is cached.** Routes opt in with `cached_route(*namespaces)` as their router's route class.
  A `shared` route answers the same body to every caller of one *audience* (`audience_of`: staff,
  or everybody else — anonymous and signed-in customers share entries); its 200 answers are stored
  under `GET host path?query|audience` and may be served by the gateway without reaching the service.
  A route that is not shared (its body depends on the caller) gets an ETag and `private` only.
- **Invalidation.** Each namespace has a generation counter. A lookup reads the counters *before*
  the route touches the database and stores the entry with them; an entry is served only while
  its counters are unchanged. A service maps its tables to namespaces (`ServiceSpec.cache_tables`):
  every transaction that wrote one of them bumps those counters right after its commit, before the
  response is sent or the event is acknowledged (`WriteTracker`). A reader therefore never gets
  data older than the last commit it could have seen; the TTL is only a safety net (a bump lost to
  a store outage).
- **HTTP.** Strong ETags (a hash of the body), `If-None-Match` → 304, and `Cache-Control: public,
  max-age=0, s-maxage=60, stale-while-revalidate=30` by default (`cache_control`): browsers
  revalidate each time (cheap, a 304 from the shared cache), a CDN keeps the answer a minute.
  Staff answers (they may show inactive records) are `private`; a customer's bearer token does not
  change a shared answer, so it stays public. Shared answers carry surrogate keys (`Surrogate-Key`,
  `Cache-Tag`): the route's namespaces, the storefront's, and what the route class's `keys` find in
  the body (a product's); the commits that bump the counters purge those keys at a CDN (`cdn.py`).
- **Stores.** Redis (`cache_url`, else `redis_url`) shared by every process; without it, an
  in-process store, shared by the apps of one process that use the same data directory (the
  embedded mode) — and only when the event bus is in-process too, since a multi-process platform
  without Redis has no way to tell the other processes to drop their entries (caching is then off).
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import struct
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Coroutine, Iterable, Mapping, Sequence
from dataclasses import dataclass
from itertools import chain
from pathlib import Path
from typing import Any, Protocol

import orjson
from fastapi import Request, Response
from fastapi.routing import APIRoute
from sqlalchemy import event
from sqlalchemy.orm import ORMExecuteState, Session, UOWTransaction

from atelier_common.auth import ROLE_STAFF, TokenVerifier, bearer_token
from atelier_common.cdn import CdnPurger
from atelier_common.contracts.identity import STOREFRONT_HEADER
from atelier_common.db import WRITE_TRACKER
from atelier_common.redisguard import RedisGuard, RedisUnavailable, guard_for
from atelier_common.settings import AtelierSettings
from atelier_common.state import app_state

log = logging.getLogger("atelier.cache")

PUBLIC_AUDIENCE = "public"
STAFF_AUDIENCE = "staff"
# Response headers never stored with an entry (the serving side adds its own).
_NOT_STORED = frozenset({b"content-length", b"set-cookie", b"date", b"server", b"x-request-id", b"traceparent",
                         b"tracestate", b"connection", b"transfer-encoding", b"keep-alive"})


class CacheStore(Protocol):
    async def get(self, key: str) -> bytes | None: ...

    async def set(self, key: str, value: bytes, ttl: float) -> None: ...

    async def generations(self, namespaces: Sequence[str]) -> tuple[int, ...]: ...

    async def bump(self, namespaces: Iterable[str]) -> None: ...

    async def close(self) -> None: ...


def _fresh_generation() -> int:
    # A counter created (or re-created after an eviction) starts above every value it had before.
    return time.time_ns() // 1000


class MemoryStore:
    """One process's store: a bounded dict of entries with expiry, and the counters."""

    def __init__(self, max_entries: int = 10_000) -> None:
        self.max_entries = max_entries
        self._entries: OrderedDict[str, tuple[float, bytes]] = OrderedDict()
        self._generations: dict[str, int] = {}

    async def get(self, key: str) -> bytes | None:
        item = self._entries.get(key)
        if item is None:
            return None
        if item[0] <= time.monotonic():
            self._entries.pop(key, None)
            return None
        return item[1]

    async def set(self, key: str, value: bytes, ttl: float) -> None:
        self._entries[key] = (time.monotonic() + ttl, value)
        self._entries.move_to_end(key)
        while len(self._entries) > self.max_entries:
            self._entries.popitem(last=False)

    async def generations(self, namespaces: Sequence[str]) -> tuple[int, ...]:
        return tuple(self._generations.setdefault(ns, _fresh_generation()) for ns in namespaces)

    async def bump(self, namespaces: Iterable[str]) -> None:
        for ns in namespaces:
            self._generations[ns] = self._generations.get(ns, _fresh_generation()) + 1

    async def close(self) -> None:
        return None


class RedisStore:
    """Every process of the platform shares it: entries expire by TTL, counters never. Each call
    goes through the process's `RedisGuard` (timeouts, circuit breaker): an outage is a miss for
    readers, and an invalidation it lost is owed — retried until it lands, as a bump of every
    counter of this prefix, which the guard also runs when Redis answers again (entries stored
    before the outage are then never served after it)."""

    def __init__(self, url: str, *, prefix: str, guard: RedisGuard | None = None) -> None:
        import coredis

        self.prefix = prefix
        self.guard = guard or RedisGuard(url)
        self.client: coredis.Redis[bytes] = coredis.Redis.from_url(url, decode_responses=False,
                                                                   **self.guard.client_options())
        self._forget_hook = self.guard.on_recover(self.bump_all)
        self._owed: asyncio.Task[None] | None = None

    def _gen_key(self, namespace: str) -> str:
        return f"{self.prefix}gen:{namespace}"

    @property
    def channel(self) -> str:
        """Where each bump is announced (`InvalidationFeed`): its namespaces, `*` for all."""
        return f"{self.prefix}bumps"

    async def get(self, key: str) -> bytes | None:
        return await self.guard.run(lambda: self.client.get(self.prefix + key))

    async def set(self, key: str, value: bytes, ttl: float) -> None:
        await self.guard.run(lambda: self.client.set(self.prefix + key, value, px=max(1, int(ttl * 1000))))

    async def generations(self, namespaces: Sequence[str]) -> tuple[int, ...]:
        if not namespaces:
            return ()
        return await self.guard.run(lambda: self._generations(namespaces))

    async def _generations(self, namespaces: Sequence[str]) -> tuple[int, ...]:
        keys: tuple[str | bytes, ...] = tuple(self._gen_key(ns) for ns in namespaces)
        values = await self.client.mget(keys)
        if all(v is not None for v in values):
            return tuple(int(v) for v in values if v is not None)
        from coredis import PureToken

        for key, value in zip(keys, values, strict=True):
            if value is None:
                await self.client.set(key, str(_fresh_generation()), condition=PureToken.NX)
        return tuple(int(v or 0) for v in await self.client.mget(keys))

    async def bump(self, namespaces: Iterable[str]) -> None:
        names = list(namespaces)
        try:
            await self.guard.run(lambda: self._bump(names))
        except RedisUnavailable:
            self._owe()
            raise

    async def _bump(self, namespaces: Iterable[str]) -> None:
        names = list(namespaces)
        if not names:
            return
        # One round trip; the announcement after the counters (a listener that drops its copies
        # re-reads the new values), in order on the one connection.
        pipe = await self.client.pipeline(transaction=False)
        for ns in names:
            pipe.incr(self._gen_key(ns))
        pipe.publish(self.channel, " ".join(names))
        await pipe.execute()

    async def bump_all(self) -> None:
        """Every counter of this prefix, i.e. every entry stored so far is outdated."""
        keys = [key async for key in self.client.scan_iter(match=f"{self.prefix}gen:*", count=1000)]
        for key in keys:
            await self.client.incr(key)
        await self.client.publish(self.channel, ALL_NAMESPACES)

    def _owe(self) -> None:
        """An invalidation was lost: retry until one lands, even if no request comes to trigger it."""
        if self._owed is None or self._owed.done():
            self._owed = asyncio.get_running_loop().create_task(self._pay())

    async def _pay(self) -> None:
        while True:
            await asyncio.sleep(self.guard.reset_seconds)
            try:
                await self.guard.run(self.bump_all)
            except RedisUnavailable:
                continue
            log.warning("cache invalidations lost while Redis was out are applied (every counter bumped)")
            return

    async def close(self) -> None:
        self._forget_hook()
        if self._owed is not None:
            self._owed.cancel()
        self.client.connection_pool.disconnect()


ALL_NAMESPACES = "*"
# Called with the namespaces a bump changed, or None: forget every counter (all changed, or the
# feed lost its subscription and may have missed bumps).
BumpListener = Callable[[frozenset[str] | None], None]


class InvalidationFeed:
    """The store's bumps as they happen (Redis pub/sub on `RedisStore.channel`), so that a process
    may keep the counters it read instead of asking Redis on every hit.

    `live` only while subscribed; every change of that, and every bump, moves `version` and tells
    the listeners: a reader that read counters while `version` moved must not keep them (a bump may
    have landed between its read and the announcement). The subscription has no timeout of its own
    (it waits for messages); if the connection dies silently, the readers' trust bound
    (`cache_local_trust_seconds`) limits what it costs."""

    def __init__(self, store: RedisStore, *, retry_seconds: float = 1.0) -> None:
        self.store = store
        self.retry_seconds = retry_seconds
        self.version = 0
        self._live = False
        self._listeners: list[BumpListener] = []
        self._task: asyncio.Task[None] | None = None

    @property
    def live(self) -> bool:
        return self._live and self.store.guard.available

    def listen(self, listener: BumpListener) -> None:
        self._listeners.append(listener)

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run())

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            # Bounded: a cancel that reaches the Redis client while its link is down may be taken for
            # a reconnection that never ends (a Redis gone or blackholed); a stop must not wait on it.
            done, _ = await asyncio.wait({self._task}, timeout=max(1.0, 2 * self.store.guard.timeout))
            if not done:
                log.warning("cache invalidation feed did not stop; left to the process's exit")
            self._task = None
        self._set_live(False)

    def _notify(self, namespaces: frozenset[str] | None) -> None:
        self.version += 1
        for listener in self._listeners:
            listener(namespaces)

    def _set_live(self, live: bool) -> None:
        if live != self._live:
            self._live = live
            self._notify(None)

    def deliver(self, data: bytes | str) -> None:
        text = data.decode() if isinstance(data, bytes) else data
        self._notify(None if text == ALL_NAMESPACES else frozenset(text.split()))

    async def _run(self) -> None:
        import coredis
        from coredis.retry import NoRetryPolicy

        while True:
            # No stream timeout: a subscription waits for messages as long as it lives.
            client: coredis.Redis[bytes] = coredis.Redis.from_url(
                self.store.guard.url, decode_responses=False, connect_timeout=self.store.guard.timeout,
                retry_policy=NoRetryPolicy())
            try:
                async with client.pubsub(channels=[self.store.channel], ignore_subscribe_messages=True) as pubsub:
                    self._set_live(True)
                    async for message in pubsub:
                        data = message["data"]
                        if message["type"] == "message" and isinstance(data, bytes | str):
                            self.deliver(data)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                if self._live:  # once per outage: the guard logs the outage itself
                    log.warning("cache invalidation feed lost, hits ask Redis until it is back: %s", exc)
            finally:
                self._set_live(False)
                client.connection_pool.disconnect()
            await asyncio.sleep(self.retry_seconds)


# The in-process stores, one per data directory: the apps of one embedded platform share theirs,
# separate test apps (each its own temporary directory) do not.
_MEMORY_STORES: dict[Path, MemoryStore] = {}


def open_store(settings: AtelierSettings) -> CacheStore | None:
    """The store this process should use, or None when caching is off (see the module doc)."""
    if not settings.cache_enabled:
        return None
    url = settings.cache_url or settings.redis_url
    if url:
        return RedisStore(url, prefix=settings.cache_key_prefix, guard=guard_for(settings, url))
    if settings.bus != "memory":
        log.warning("response caching is off: several processes share this platform and no Redis is set "
                    "(ATELIER_REDIS_URL or ATELIER_CACHE_URL)")
        return None
    return _MEMORY_STORES.setdefault(settings.data_dir.resolve(), MemoryStore(settings.cache_max_entries))


def _store_failed(what: str, exc: Exception) -> None:
    # The guard logs an outage once; each miss it causes is not worth a line of its own.
    log.log(logging.DEBUG if isinstance(exc, RedisUnavailable) else logging.WARNING, "%s: %s", what, exc)


# ---- entries and HTTP ------------------------------------------------------------------------

@dataclass(frozen=True)
class Entry:
    generations: tuple[int, ...]
    namespaces: tuple[str, ...]
    headers: list[tuple[bytes, bytes]]
    body: bytes

    def encode(self) -> bytes:
        meta = orjson.dumps({"g": list(self.generations), "n": list(self.namespaces),
                             "h": [[k.decode("latin-1"), v.decode("latin-1")] for k, v in self.headers]})
        return struct.pack(">I", len(meta)) + meta + self.body

    @classmethod
    def decode(cls, raw: bytes) -> Entry:
        (size,) = struct.unpack_from(">I", raw)
        meta = orjson.loads(raw[4:4 + size])
        return cls(generations=tuple(meta["g"]), namespaces=tuple(meta["n"]),
                   headers=[(k.encode("latin-1"), v.encode("latin-1")) for k, v in meta["h"]], body=raw[4 + size:])

    @property
    def etag(self) -> bytes:
        return next((v for k, v in self.headers if k == b"etag"), b"")


def entry_key(scheme: str, host: bytes, path: str, query: bytes, audience: str, storefront: bytes) -> str:
    """The key of a GET response: the same in the gateway and in the service. The scheme and the
    host are part of it because answers carry absolute links (pagination) built from them; the
    storefront (the slug the gateway resolved) because each one sees its own catalog and prices."""
    return (f"GET {scheme}://{host.decode('latin-1')}{path}?{query.decode('latin-1')}|{audience}"
            f"|{storefront.decode('latin-1')}")


def audience_of(roles: Iterable[str]) -> str:
    """Staff may see more than everybody else (inactive records): they get entries of their own."""
    return STAFF_AUDIENCE if ROLE_STAFF in roles else PUBLIC_AUDIENCE


def etag_of(body: bytes) -> bytes:
    return b'"' + hashlib.blake2b(body, digest_size=16).hexdigest().encode() + b'"'


def matches(if_none_match: bytes | str | None, etag: bytes) -> bool:
    """`If-None-Match` (a list, `*`, weak forms compared weakly as RFC 9110 says) against our ETag."""
    if not if_none_match or not etag:
        return False
    raw = if_none_match.encode("latin-1") if isinstance(if_none_match, str) else if_none_match
    for candidate in raw.split(b","):
        candidate = candidate.strip()
        if candidate == b"*" or candidate.removeprefix(b"W/") == etag:
            return True
    return False


def cache_control(settings: AtelierSettings, *, shared: bool) -> bytes:
    max_age, s_maxage = settings.cache_max_age_seconds, settings.cache_s_maxage_seconds
    revalidate = settings.cache_stale_while_revalidate_seconds
    if shared and (max_age or s_maxage or revalidate):
        return (f"public, max-age={max_age}, s-maxage={s_maxage}, "
                f"stale-while-revalidate={revalidate}").encode()
    scope = b"public" if shared else b"private"
    if max_age > 0:
        return scope + b", max-age=" + str(max_age).encode()
    return scope + b", no-cache"


def surrogate_headers(keys: Iterable[str]) -> list[tuple[bytes, bytes]]:
    """The same keys for the CDNs that read `Surrogate-Key` (Fastly, Varnish) and `Cache-Tag`
    (Cloudflare, Akamai)."""
    ordered = list(dict.fromkeys(keys))
    return [(b"surrogate-key", " ".join(ordered).encode()), (b"cache-tag", ",".join(ordered).encode())]


def storefront_key(slug: str) -> str:
    return f"storefront-{slug}"


async def lookup(store: CacheStore, key: str) -> Entry | None:
    """The entry under `key` if its namespaces have not changed since it was stored; a store that
    does not answer is a miss."""
    try:
        raw = await store.get(key)
        if raw is None:
            return None
        entry = Entry.decode(raw)
        if entry.namespaces and await store.generations(entry.namespaces) != entry.generations:
            return None
        return entry
    except Exception as exc:  # a store outage is a miss, never a failed read
        _store_failed("cache lookup failed", exc)
        return None


class EntryReader:
    """`lookup` with decoded copies of the entries kept in this process (a remote store): each use
    still reads the namespaces' counters from the store, so a copy is never served after a bump —
    one round trip per hit instead of two, and no body over the wire."""

    def __init__(self, store: CacheStore, *, ttl: float, local_entries: int = 2_000,
                 staleness: float = 0.0, feed: InvalidationFeed | None = None, trust: float = 0.0) -> None:
        self.store = store
        self.ttl = ttl
        self.local_entries = local_entries
        # > 0: counters read less than this long ago are trusted without asking the store again —
        # an answer may then be up to this much older than the last commit (off by default).
        self.staleness = staleness
        # With a live `feed`, counters are trusted up to `trust` seconds and dropped by each bump
        # of one of their namespaces: a hit costs no round trip and is never older than the bump's
        # announcement.
        self.feed = feed
        self.trust = trust
        self._local: OrderedDict[str, tuple[float, Entry]] = OrderedDict()
        self._counters: dict[tuple[str, ...], tuple[float, tuple[int, ...]]] = {}
        if feed is not None:
            feed.listen(self._forget)

    def _forget(self, namespaces: frozenset[str] | None) -> None:
        if namespaces is None:
            self._counters.clear()
            return
        for known in [k for k in self._counters if not namespaces.isdisjoint(k)]:
            del self._counters[known]

    async def _current(self, namespaces: tuple[str, ...]) -> tuple[int, ...]:
        now = time.monotonic()
        known = self._counters.get(namespaces)
        if known is not None and known[0] > now:
            return known[1]
        feed = self.feed
        version = feed.version if feed is not None else 0
        generations = await self.store.generations(namespaces)
        trust = self.staleness
        if feed is not None and feed.live and feed.version == version:
            trust = max(trust, self.trust)
        if trust > 0:
            self._counters[namespaces] = (now + trust, generations)
        return generations

    def local(self, key: str) -> Entry | None:
        """The copy kept here when it can be served with no round trip at all: unexpired, and its
        namespaces' counters known (trusted) and unchanged; None: ask `get`."""
        local = self._local.get(key)
        now = time.monotonic()
        if local is None or local[0] <= now:
            return None
        entry = local[1]
        if not entry.namespaces:
            return entry
        known = self._counters.get(entry.namespaces)
        if known is None or known[0] <= now or known[1] != entry.generations:
            return None
        return entry

    async def get(self, key: str) -> Entry | None:
        try:
            local = self._local.get(key)
            if local is not None and local[0] > time.monotonic():
                entry = local[1]
                if not entry.namespaces or await self._current(entry.namespaces) == entry.generations:
                    return entry
                # outdated: the store may hold a newer answer under the key (another request may
                # have dropped it meanwhile)
                self._local.pop(key, None)
            raw = await self.store.get(key)
            if raw is None:
                return None
            entry = Entry.decode(raw)
            if entry.namespaces and await self._current(entry.namespaces) != entry.generations:
                return None
            if self.local_entries:
                self._local[key] = (time.monotonic() + self.ttl, entry)
                self._local.move_to_end(key)
                while len(self._local) > self.local_entries:
                    self._local.popitem(last=False)
            return entry
        except Exception as exc:  # a store outage is a miss, never a failed read
            _store_failed("cache lookup failed", exc)
            return None


async def remembered(store: CacheStore | None, key: str, namespaces: Sequence[str], ttl: float,
                     compute: Callable[[], Awaitable[bytes]]) -> bytes:
    """`compute()`'s bytes, kept under `key` until a write to one of `namespaces` commits: the
    shared part of an answer that is not itself shared (computed per caller on top of it)."""
    if store is None:
        return await compute()
    entry = await lookup(store, key)
    if entry is not None:
        return entry.body
    try:  # read before computing: a commit after this bumps past it
        generations = await store.generations(namespaces)
    except Exception as exc:
        _store_failed("cache generations unavailable", exc)
        return await compute()
    value = await compute()
    try:
        await store.set(key, Entry(generations, tuple(namespaces), [], value).encode(), ttl)
    except Exception as exc:
        _store_failed("cache store failed", exc)
    return value


def not_modified_headers(entry_headers: Iterable[tuple[bytes, bytes]]) -> list[tuple[bytes, bytes]]:
    """What a 304 repeats of the 200 it stands for (RFC 9110 15.4.5)."""
    return [(k, v) for k, v in entry_headers if k in (b"etag", b"cache-control", b"vary")]


# ---- the service side: a route class -----------------------------------------------------------

async def _audience(request: Request) -> str:
    token = bearer_token(request)
    if token is None:
        return PUBLIC_AUDIENCE
    principal = await app_state(request.app, "verifier", TokenVerifier).principal_from_access(token)
    return audience_of(principal.roles)


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
        key = entry_key(request.scope.get("scheme", "http"), host, request.scope["path"],
                        request.scope.get("query_string", b""), audience, storefront.encode("latin-1"))
        entry = await lookup(store, key)
        if entry is not None:
            return _entry_response(entry, if_none_match)
        try:  # read before the route reads the database: a commit after this bumps past it
            generations = await store.generations(namespaces)
        except Exception as exc:
            _store_failed("cache generations unavailable", exc)
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
            _store_failed("cache store failed", exc)
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
    namespaces, the storefront and `keys(path, body)` (see the module doc). `stored=False`: the
    HTTP side only (an answer built from memory, or from another service, with no table of its own
    to invalidate it)."""

    class CachedRoute(APIRoute):
        def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
            handler = super().get_route_handler()

            async def serve(request: Request) -> Response:
                return await _serve(request, handler, namespaces, shared, stored, keys)

            return serve

    return CachedRoute


# ---- the writing side: bump after commit --------------------------------------------------------

_TRACKER = WRITE_TRACKER  # `db.Statement`s note their writes through it too
_DIRTY = "atelier.cache.dirty"
_PURGED = "atelier.cache.purged"


# The surrogate keys a written row purges at a CDN (`ServiceSpec.cache_keys`): table name, row.
RowKeys = Callable[[str, Any], Iterable[str]]


class WriteTracker:
    """Notes which namespaces a transaction wrote (ORM flushes and DML statements alike) and bumps
    their counters once it has committed. `tables` maps table names to the namespaces they feed.
    With a `purger`, the same change is purged at the CDN: `row_keys` of each row the ORM flushed,
    or — a statement, whose rows are unknown — the namespaces' keys (every answer carries them)."""

    def __init__(self, tables: Mapping[str, Iterable[str]], store: CacheStore | None,
                 purger: CdnPurger | None = None, row_keys: RowKeys | None = None) -> None:
        self.tables = {name: tuple(ns) for name, ns in tables.items()}
        self.store = store
        self.purger = purger
        self.row_keys = row_keys
        if not event.contains(Session, "after_flush", _after_flush):
            event.listen(Session, "after_flush", _after_flush)
            event.listen(Session, "do_orm_execute", _do_orm_execute)

    def note(self, session: Session, table: str | None, row: Any = None) -> None:
        dirty: set[str] = session.info.setdefault(_DIRTY, set())
        # A statement whose table we cannot tell: everything this service caches.
        namespaces = tuple(chain.from_iterable(self.tables.values())) if table is None else self.tables.get(table, ())
        dirty.update(namespaces)
        if self.purger is None or not namespaces:
            return
        purged: set[str] = session.info.setdefault(_PURGED, set())
        if row is not None and self.row_keys is not None and table is not None:
            purged.update(self.row_keys(table, row))
        else:
            purged.update(namespaces)

    async def committed(self, info: dict[str, Any]) -> None:
        dirty = info.pop(_DIRTY, None)
        purged = info.pop(_PURGED, None)
        if purged and self.purger is not None:
            self.purger.purge(purged)
        if not dirty or self.store is None:
            return
        try:
            await self.store.bump(sorted(dirty))
        except Exception as exc:
            if isinstance(exc, RedisUnavailable):  # owed: RedisStore retries it until Redis is back
                log.warning("cache invalidation of %s deferred until Redis answers: %s", sorted(dirty), exc)
            else:
                log.error("cache invalidation of %s failed after a commit: %s", sorted(dirty), exc)


def _after_flush(session: Session, _context: UOWTransaction) -> None:
    tracker: WriteTracker | None = session.info.get(_TRACKER)
    if tracker is None:
        return
    for obj in chain(session.new, session.dirty, session.deleted):
        tracker.note(session, getattr(obj, "__tablename__", None), obj)


def _do_orm_execute(state: ORMExecuteState) -> None:
    tracker: WriteTracker | None = state.session.info.get(_TRACKER)
    if tracker is None or not (state.is_insert or state.is_update or state.is_delete):
        return
    table = getattr(state.statement, "table", None)
    tracker.note(state.session, getattr(table, "name", None))


def tracker_info(tracker: WriteTracker) -> dict[str, Any]:
    """What a session's `info` carries so that its writes are tracked."""
    return {_TRACKER: tracker}
