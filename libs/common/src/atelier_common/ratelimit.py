"""Rate limits with the `limits` library: in memory by default, Redis when configured.

Rules are strings such as "5/minute"; a refused hit raises `RateLimited` (429) with Retry-After.
With Redis, its keys start with the install's `redis_key_prefix`, and each call goes through the
process's `RedisGuard`: while Redis is out, this process counts alone in memory (each process then
allows the limit on its own — docs/redis.md) rather than refusing or failing the request.

A limiter built with `sync_seconds` (the gateway's per-caller limit: every request pays it) does
not ask Redis per hit: each process counts locally against the last shared count it heard, and a
background task adds its counts to Redis every `sync_seconds` and learns the total. A hit the
local count would refuse asks Redis at once (exact), so a refusal is always the shared verdict;
an allowance can exceed the limit by what the other processes counted since the last sync.

A rule that counts only some outcomes (identity's failed sign-ins) looks without counting
(`window`, `check`), counts after the outcome (`add`) and forgets (`clear`).
"""

from __future__ import annotations

import contextlib
import functools
import logging
import math
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from limits import RateLimitItem, parse
from limits.aio.storage import Storage as AsyncStorage
from limits.aio.strategies import FixedWindowRateLimiter, MovingWindowRateLimiter
from limits.aio.strategies import RateLimiter as Strategy
from limits.storage import storage_from_string

from atelier_common.errors import RateLimited
from atelier_common.loops import BackgroundLoop
from atelier_common.redisguard import RedisGuard, RedisUnavailable, guard_for
from atelier_common.settings import AtelierSettings

log = logging.getLogger("atelier.ratelimit")

T = TypeVar("T")

# Keys counted locally between syncs; beyond this, the ones with nothing left to send are dropped.
_MAX_BUDGETS = 100_000


@functools.lru_cache(maxsize=64)
def _parsed(rule: str) -> RateLimitItem:
    """A rule is parsed once, not on every request (the rules are a handful of settings)."""
    return parse(rule)


def _storage(uri: str, **options: Any) -> AsyncStorage:
    storage = storage_from_string(uri, **options)
    if not isinstance(storage, AsyncStorage):  # the async+ scheme always gives one
        raise ValueError(f"{uri} is not an asynchronous storage")
    return storage


@dataclass(frozen=True)
class Window:
    """What a rule counted for some keys: `count` of `amount`, until `reset_time` (epoch seconds)
    frees the next slot."""

    count: int
    amount: int
    reset_time: float

    @property
    def full(self) -> bool:
        return self.count >= self.amount

    @property
    def retry_after(self) -> int:
        return max(1, math.ceil(self.reset_time - time.time()))


@dataclass
class _Budget:
    """One key's fixed window as this process sees it between syncs."""

    ends: float  # monotonic: the local window's end (the shared one started at or before it)
    expiry: int
    shared: int = 0  # the shared count heard at the last sync (this process's synced hits included)
    pending: int = 0  # hits counted here, not yet added to Redis


def _take(budget: _Budget, amount: int) -> bool:
    """One hit on this process's count of a synced window, when that count allows it."""
    if budget.shared + budget.pending < amount:
        budget.pending += 1
        return True
    return False


class RateLimiter:
    def __init__(self, redis_url: str | None = None, *, moving_window: bool = True, guard: RedisGuard | None = None,
                 key_prefix: str = "atelier:", sync_seconds: float = 0.0) -> None:
        # A moving window is exact (credential attempts); a fixed window is cheaper (hot paths).
        strategy = MovingWindowRateLimiter if moving_window else FixedWindowRateLimiter
        self.local_storage = _storage("async+memory://")
        self.local: Strategy = strategy(self.local_storage)
        self.guard: RedisGuard | None = None
        self.shared: Strategy | None = None
        self.storage = self.local_storage
        if redis_url:
            self.guard = guard or RedisGuard(redis_url)
            self.storage = _storage(f"async+{redis_url}", key_prefix=f"{key_prefix}limits",
                                    **self.guard.client_options())
            self.shared = strategy(self.storage)
        # Counted locally, synced in the background: a fixed window with Redis only.
        self.sync_seconds = sync_seconds if (redis_url and not moving_window) else 0.0
        self._budgets: dict[str, _Budget] = {}
        self._keys: dict[tuple[str, tuple[str, ...]], tuple[RateLimitItem, str]] = {}
        # A round is a few Redis calls, safe to cut short: a stop waits a second at most.
        self._syncing = BackgroundLoop("rate-limit sync", stop_timeout=1.0)

    async def hit(self, rule: str, *keys: str) -> None:
        limit = _parsed(rule)
        strategy: Strategy = self.local
        guard: RedisGuard | None = None
        if self.sync_seconds > 0 and self.shared is not None:
            if await self._hit_synced(limit, keys):
                return
            strategy, guard = self.shared, self.guard
        else:
            if self.shared is not None and self.guard is not None:
                shared = self.shared
                try:
                    allowed = await self.guard.run(lambda: shared.hit(limit, *keys))
                    strategy, guard = shared, self.guard
                except RedisUnavailable:  # this process counts alone until Redis is back
                    allowed = await self.local.hit(limit, *keys)
            else:
                allowed = await self.local.hit(limit, *keys)
            if allowed:
                return
        reset_time = time.time() + limit.get_expiry()  # the window's length if Redis went away meanwhile
        try:
            stats = await (guard.run(lambda: strategy.get_window_stats(limit, *keys)) if guard
                           else strategy.get_window_stats(limit, *keys))
            reset_time = stats.reset_time
        except RedisUnavailable:
            pass
        retry_after = max(1, math.ceil(reset_time - time.time()))
        raise RateLimited(details={"retry_after": retry_after}, headers={"Retry-After": str(retry_after)})

    def hit_now(self, rule: str, *keys: str) -> bool:
        """`hit` when it needs no I/O: True when this process's own count allows and takes the hit
        (a synced limiter); False counts nothing, and `hit` decides (a count that may be full, a
        limiter that asks Redis or memory storage on every hit)."""
        if self.sync_seconds <= 0 or self.shared is None:
            return False
        # The parsed rule and the window's key, kept per caller: `key_for` is ~0.5 µs of a cache hit.
        known = self._keys.get((rule, keys))
        if known is None:
            if len(self._keys) >= _MAX_BUDGETS:
                self._keys.clear()
            limit = _parsed(rule)
            known = self._keys[(rule, keys)] = (limit, limit.key_for(*keys))
        limit, key = known
        budget = self._budgets.get(key)
        if budget is None or budget.ends <= time.monotonic() or not self._syncing.running:
            return False  # `hit` opens the window and starts the syncing
        return _take(budget, limit.amount)

    # Counting only some outcomes (identity's sign-in failures): look first, count after, forget.
    # Through Redis when set, this process's memory while it is out; not for a synced limiter.

    async def _ask(self, call: Callable[[Strategy], Awaitable[T]]) -> T:
        if self.shared is not None and self.guard is not None:
            shared = self.shared
            with contextlib.suppress(RedisUnavailable):
                return await self.guard.run(lambda: call(shared))
        return await call(self.local)

    async def window(self, rule: str, *keys: str) -> Window:
        """The window of `keys` now, counting nothing."""
        limit = _parsed(rule)
        stats = await self._ask(lambda strategy: strategy.get_window_stats(limit, *keys))
        return Window(count=limit.amount - stats.remaining, amount=limit.amount, reset_time=stats.reset_time)

    async def check(self, rule: str, *keys: str) -> None:
        """`RateLimited` (429, Retry-After) when the window of `keys` is full; counts nothing."""
        window = await self.window(rule, *keys)
        if window.full:
            raise RateLimited(details={"retry_after": window.retry_after},
                              headers={"Retry-After": str(window.retry_after)})

    async def add(self, rule: str, *keys: str) -> bool:
        """Count one hit without refusing anything; False when the window was full already (a
        moving window is then not extended by it)."""
        limit = _parsed(rule)
        return await self._ask(lambda strategy: strategy.hit(limit, *keys))

    async def clear(self, rule: str, *keys: str) -> None:
        """Forget what `keys` counted under `rule`."""
        limit = _parsed(rule)
        await self._ask(lambda strategy: strategy.clear(limit, *keys))

    async def _hit_synced(self, limit: RateLimitItem, keys: tuple[str, ...]) -> bool:
        """Counted here; True when allowed. A hit the local count would refuse asks Redis (another
        window may have begun there); while Redis is out this process's count decides alone."""
        key = limit.key_for(*keys)
        now = time.monotonic()
        budget = self._budgets.get(key)
        if budget is None or budget.ends <= now:
            budget = self._budgets[key] = _Budget(now + limit.get_expiry(), limit.get_expiry())
        if not self._syncing.running:
            self._syncing.every(self.sync_seconds, self.sync, now=False)
        if _take(budget, limit.amount):
            return True
        total = await self._sync_key(key, budget, extra=1)
        if total is None:
            return budget.shared + budget.pending <= limit.amount
        return total <= limit.amount

    async def _sync_key(self, key: str, budget: _Budget, extra: int = 0) -> int | None:
        """Adds this process's pending hits (and `extra`) to Redis's count; the total, None if Redis
        did not answer (then they stay pending here)."""
        if self.guard is None:
            return None
        budget.pending += extra
        amount = budget.pending
        if amount <= 0:
            return budget.shared
        storage = self.storage
        try:
            total = await self.guard.run(lambda: storage.incr(key, budget.expiry, amount=amount))
        except RedisUnavailable:
            return None
        budget.pending -= amount
        budget.shared = total
        return total

    async def sync(self) -> None:
        """One round: every pending count to Redis; windows that ended are forgotten."""
        now = time.monotonic()
        for key, budget in list(self._budgets.items()):
            if budget.ends <= now:
                self._budgets.pop(key, None)
            elif budget.pending and await self._sync_key(key, budget) is None:
                return  # Redis is out: keep counting here, try again next round
        if len(self._budgets) > _MAX_BUDGETS:
            for key in [k for k, b in self._budgets.items() if not b.pending]:
                del self._budgets[key]

    async def close(self) -> None:
        await self._syncing.stop()
        with contextlib.suppress(Exception):
            await self.sync()  # what this process counted still counts for the others

    async def reset(self) -> None:
        self._budgets.clear()
        await self.local_storage.reset()
        if self.shared is not None:
            await self.storage.reset()


def rate_limiter(settings: AtelierSettings, *, moving_window: bool = True, sync_seconds: float = 0.0) -> RateLimiter:
    """The limiter of a process: in Redis (`redis_url`) behind the process's guard for it, else in
    memory; `sync_seconds` > 0 (fixed window only): counted locally, synced that often."""
    url = settings.redis_url
    return RateLimiter(url, moving_window=moving_window, guard=guard_for(settings, url) if url else None,
                       key_prefix=settings.redis_key_prefix, sync_seconds=sync_seconds)
