"""A shared cache of public GET responses, invalidated by per-namespace generation counters.

- **What is cached.** Routes opt in with `cached_route(*namespaces)` as their router's route class.
  A `shared` route answers the same body to every caller of one *audience* (`audience_of`: staff,
  each customer group of the verified token's `grp` claim (business prices), or everybody
  else: anonymous and signed-in customers share entries); its 200 answers are stored
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
  Staff and group answers (inactive records, a group's prices) are `private`; a bearer token
  without a group does not change a shared answer, so it stays public. Shared answers carry surrogate keys (`Surrogate-Key`,
  `Cache-Tag`): the route's namespaces, the storefront's, and what the route class's `keys` find in
  the body (a product's); the commits that bump the counters purge those keys at a CDN (`cdn.py`).
- **Stores.** Redis (`cache_url`, else `redis_url`) shared by every process; without it, an
  in-process store, shared by the apps of one process that use the same data directory (the
  embedded mode) — and only when the event bus is in-process too, since a multi-process platform
  without Redis has no way to tell the other processes to drop their entries (caching is then off).

The modules: `stores` (where entries and counters live), `entries` (what an entry is and how it is
read and served, in the gateway and the services alike), `routes` (the services' route class) and
`tracking` (the bump after each commit).
"""

from __future__ import annotations

from atelier_common.cache.entries import (
    PUBLIC_AUDIENCE,
    STAFF_AUDIENCE,
    Entry,
    EntryReader,
    audience_of,
    entry_key,
    etag_of,
    lookup,
    matches,
    not_modified_headers,
    remembered,
    storefront_key,
)
from atelier_common.cache.routes import cached_route
from atelier_common.cache.stores import CacheStore, InvalidationFeed, MemoryStore, RedisStore, open_store
from atelier_common.cache.tracking import RowKeys, WriteTracker, tracker_info

__all__ = [
    "PUBLIC_AUDIENCE",
    "STAFF_AUDIENCE",
    "CacheStore",
    "Entry",
    "EntryReader",
    "InvalidationFeed",
    "MemoryStore",
    "RedisStore",
    "RowKeys",
    "WriteTracker",
    "audience_of",
    "cached_route",
    "entry_key",
    "etag_of",
    "lookup",
    "matches",
    "not_modified_headers",
    "open_store",
    "remembered",
    "storefront_key",
    "tracker_info",
]
