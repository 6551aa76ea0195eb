"""Where entries and the namespaces' generation counters live: Redis, shared by every process, or
this process's memory (the embedded mode); and the feed of Redis's bumps, which lets a process keep
the counters it read instead of asking on every hit. Everything that speaks to Redis (its guard,
the invalidations owed after an outage, the pub/sub feed) is here, apart from what is stored."""

from __future__ import annotations

import asyncio
import logging
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Protocol

from atelier_common.redisguard import RedisGuard, RedisUnavailable, guard_for
from atelier_common.settings import AtelierSettings

log = logging.getLogger("atelier.cache")


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
    """The store this process should use, or None when caching is off (see `atelier_common.cache`)."""
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


def store_failed(what: str, exc: Exception) -> None:
    # The guard logs an outage once; each miss it causes is not worth a line of its own.
    log.log(logging.DEBUG if isinstance(exc, RedisUnavailable) else logging.WARNING, "%s: %s", what, exc)
