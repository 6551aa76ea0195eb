"""What a cached answer is, under which key it is kept, and how it is read back and answered over
HTTP (ETag, `If-None-Match`, Cache-Control, surrogate keys): one definition for the gateway, which
serves hits without the hop, and the services, which store them."""

from __future__ import annotations

import hashlib
import struct
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass

import orjson

from atelier_common.auth import ROLE_STAFF, storefront_scope
from atelier_common.cache.stores import CacheStore, InvalidationFeed, store_failed
from atelier_common.settings import AtelierSettings

PUBLIC_AUDIENCE = "public"
STAFF_AUDIENCE = "staff"
# An API key limited to some storefronts: staff by its roles, but it reads the catalog as the
# request's storefront's shoppers do (never the staff entries, which show every storefront's).
LIMITED_KEY_AUDIENCE = "limited-key"
GROUP_AUDIENCE_PREFIX = "group:"


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


def entry_key(scheme: str, host: bytes, path: str, query: bytes, audience: str, storefront: bytes,
              locale: str = "") -> str:
    """The key of a GET response: the same in the gateway and in the service. The scheme and the
    host are part of it because answers carry absolute links (pagination) built from them; the
    storefront (the slug the gateway resolved) because each one sees its own catalog and prices;
    the caller's negotiated locale (`Storefront.cache_locale`) because each language reads its own
    texts — empty on a single-language storefront, whose keys stay as they were."""
    key = (f"GET {scheme}://{host.decode('latin-1')}{path}?{query.decode('latin-1')}|{audience}"
           f"|{storefront.decode('latin-1')}")
    return f"{key}|{locale}" if locale else key


def audience_of(roles: Iterable[str], group: object = None, group_storefront: object = None,
                storefronts: object = None) -> str:
    """Staff may see more than everybody else (inactive records): they get entries of their own.
    So does each customer group of the verified token (`grp`, with the storefront it is a group of,
    `grp_sf`): its members may be shown its price lists' prices, which nobody else may be served.
    A token carrying a group never shares the public entries, whichever storefront it reads (its
    group prices only there, `Principal.group_on`; the key holds the storefront too). Everybody
    else shares `public`. `storefronts`: an API key's scope (`sfs`); a limited one's answers are
    kept apart from staff's."""
    if ROLE_STAFF in roles:
        return STAFF_AUDIENCE if storefronts is None or storefront_scope(storefronts) is None else LIMITED_KEY_AUDIENCE
    if group and isinstance(group, str):
        return f"{GROUP_AUDIENCE_PREFIX}{group}@{group_storefront if isinstance(group_storefront, str) else ''}"
    return PUBLIC_AUDIENCE


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
        store_failed("cache lookup failed", exc)
        return None


class EntryReader:
    """`lookup` with decoded copies of the entries kept in this process (a remote store): each use
    still reads the namespaces' counters from the store, so a copy is never served after a bump —
    one round trip per hit instead of two, and no body over the wire."""

    def __init__(self, store: CacheStore, *, ttl: float, local_entries: int = 2_000,
                 staleness: float = 0.0, feed: InvalidationFeed | None = None, trust: float = 0.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
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
        # Monotonic seconds: what ages the copies and the trusted counters (a test moves it).
        self.clock = clock
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
        now = self.clock()
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
        now = self.clock()
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
            if local is not None and local[0] > self.clock():
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
                self._local[key] = (self.clock() + self.ttl, entry)
                self._local.move_to_end(key)
                while len(self._local) > self.local_entries:
                    self._local.popitem(last=False)
            return entry
        except Exception as exc:  # a store outage is a miss, never a failed read
            store_failed("cache lookup failed", exc)
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
        store_failed("cache generations unavailable", exc)
        return await compute()
    value = await compute()
    try:
        await store.set(key, Entry(generations, tuple(namespaces), [], value).encode(), ttl)
    except Exception as exc:
        store_failed("cache store failed", exc)
    return value


def not_modified_headers(entry_headers: Iterable[tuple[bytes, bytes]]) -> list[tuple[bytes, bytes]]:
    """What a 304 repeats of the 200 it stands for (RFC 9110 15.4.5)."""
    return [(k, v) for k, v in entry_headers if k in (b"etag", b"cache-control", b"vary")]
