"""Rate limits with the `limits` library: in memory by default, Redis when configured.

Rules are strings such as "5/minute"; a refused hit raises `RateLimited` (429) with Retry-After.
With Redis, its keys start with the install's `redis_key_prefix`, and each call goes through the
process's `RedisGuard`: while Redis is out, this process counts alone in memory (each process then
allows the limit on its own — docs/redis.md) rather than refusing or failing the request.
"""

from __future__ import annotations

import functools
import math
import time
from typing import Any

from limits import RateLimitItem, parse
from limits.aio.storage import Storage as AsyncStorage
from limits.aio.strategies import FixedWindowRateLimiter, MovingWindowRateLimiter
from limits.aio.strategies import RateLimiter as Strategy
from limits.storage import storage_from_string

from atelier_common.errors import RateLimited
from atelier_common.redisguard import RedisGuard, RedisUnavailable, guard_for
from atelier_common.settings import AtelierSettings


@functools.lru_cache(maxsize=64)
def _parsed(rule: str) -> RateLimitItem:
    """A rule is parsed once, not on every request (the rules are a handful of settings)."""
    return parse(rule)


def _storage(uri: str, **options: Any) -> AsyncStorage:
    storage = storage_from_string(uri, **options)
    if not isinstance(storage, AsyncStorage):  # the async+ scheme always gives one
        raise ValueError(f"{uri} is not an asynchronous storage")
    return storage


class RateLimiter:
    def __init__(self, redis_url: str | None = None, *, moving_window: bool = True, guard: RedisGuard | None = None,
                 key_prefix: str = "atelier:") -> None:
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

    async def hit(self, rule: str, *keys: str) -> None:
        limit = _parsed(rule)
        strategy, guard = self.local, None
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

    async def reset(self) -> None:
        await self.local_storage.reset()
        if self.shared is not None:
            await self.storage.reset()


def rate_limiter(settings: AtelierSettings, *, moving_window: bool = True) -> RateLimiter:
    """The limiter of a process: in Redis (`redis_url`) behind the process's guard for it, else in memory."""
    url = settings.redis_url
    return RateLimiter(url, moving_window=moving_window, guard=guard_for(settings, url) if url else None,
                       key_prefix=settings.redis_key_prefix)
