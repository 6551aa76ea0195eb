"""Wrong discount codes, counted so a script cannot try codes until one applies (docs/limits.md).

A code is a guess only where a caller types one: the cart applying it (`POST /cart/promotion-code`,
orders' strict quote) and an order naming it (`POST /orders` with `promotion_code`). Only a code
that names no live promotion on the storefront counts (`Problem.INVALID`); a real code, whatever
else it answers (below its minimum, used up), is never counted. Like identity's wrong magic codes,
the counts live in the service's rate limiter (`atelier_common.ratelimit`: Redis when set).

- **Per caller** (the owner: a guest identity or a customer), `promotion_code_failures_per_caller`:
  past it that caller waits (429) whatever code it sends next, a real one too: those are its own
  guesses. Looked at before the code is: it learns nothing more.
- **Per client address**, `promotion_code_failures_per_ip`: what a script minting a guest per
  guess meets. Past it a wrong code answers 429 instead of 400, and a real code still applies: the
  people behind the address (an office, a carrier's NAT) are never refused theirs.

Counted after the answer is known, so guesses sent at once can pass a limit by those in flight.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from atelier_common.errors import RateLimited
from atelier_common.ratelimit import RateLimiter
from atelier_orders.bootstrap import OrdersContext
from atelier_orders.errors import PromotionCodeInvalid
from atelier_orders.promotions import rules
from atelier_orders.settings import OrdersSettings

CALLER, ADDRESS = "promotion-code-caller", "promotion-code-ip"


class CodeGuesses:
    def __init__(self, settings: OrdersSettings, limiter: RateLimiter) -> None:
        self.settings = settings
        self.limiter = limiter

    @classmethod
    def of(cls, context: OrdersContext) -> CodeGuesses:
        return cls(context.settings, context.limiter)

    @asynccontextmanager
    async def typed(self, caller: uuid.UUID, address: str | None) -> AsyncIterator[None]:
        """Around the judging of a code `caller` typed from `address` (None: a service's call, counted
        per caller only): refused first if the caller is out of guesses; a wrong code is counted."""
        rule = self.settings.promotion_code_failures_per_caller
        window = await self.limiter.window(rule, CALLER, str(caller))
        if window.full:
            raise _refusal("promotion_code_failures_per_caller", window.retry_after)
        try:
            yield
        except PromotionCodeInvalid as refused:
            if refused.details.get("reason") == rules.Problem.INVALID.value:
                await self._wrong(caller, address)
            raise

    async def _wrong(self, caller: uuid.UUID, address: str | None) -> None:
        await self.limiter.add(self.settings.promotion_code_failures_per_caller, CALLER, str(caller))
        if address is None:
            return
        rule = self.settings.promotion_code_failures_per_ip
        if not await self.limiter.add(rule, ADDRESS, address):  # the address's window was full already
            raise _refusal("promotion_code_failures_per_ip", (await self.limiter.window(rule, ADDRESS, address)).retry_after)


def _refusal(limit: str, retry_after: int) -> RateLimited:
    return RateLimited("Too many wrong discount codes; try again later",
                       details={"limit": limit, "retry_after": retry_after}, headers={"Retry-After": str(retry_after)})
