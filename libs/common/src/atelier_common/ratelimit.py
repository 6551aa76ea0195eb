"""Rate limits with the `limits` library: in memory by default, Redis when configured.

Rules are strings such as "5/minute"; a refused hit raises `RateLimited` (429) with Retry-After.
"""

from __future__ import annotations

import functools
import math
import time

from limits import RateLimitItem, parse
from limits.aio.storage import Storage as AsyncStorage
from limits.aio.strategies import FixedWindowRateLimiter, MovingWindowRateLimiter
from limits.storage import storage_from_string

from atelier_common.errors import RateLimited


@functools.lru_cache(maxsize=64)
def _parsed(rule: str) -> RateLimitItem:
    """A rule is parsed once, not on every request (the rules are a handful of settings)."""
    return parse(rule)


class RateLimiter:
    def __init__(self, redis_url: str | None = None, *, moving_window: bool = True) -> None:
        uri = f"async+{redis_url}" if redis_url else "async+memory://"
        storage = storage_from_string(uri)
        if not isinstance(storage, AsyncStorage):  # the async+ scheme always gives one
            raise ValueError(f"{uri} is not an asynchronous storage")
        self.storage = storage
        # A moving window is exact (credential attempts); a fixed window is cheaper (hot paths).
        strategy = MovingWindowRateLimiter if moving_window else FixedWindowRateLimiter
        self.strategy = strategy(self.storage)

    async def hit(self, rule: str, *keys: str) -> None:
        limit = _parsed(rule)
        if await self.strategy.hit(limit, *keys):
            return
        stats = await self.strategy.get_window_stats(limit, *keys)
        retry_after = max(1, math.ceil(stats.reset_time - time.time()))
        raise RateLimited(details={"retry_after": retry_after}, headers={"Retry-After": str(retry_after)})

    async def reset(self) -> None:
        await self.storage.reset()
