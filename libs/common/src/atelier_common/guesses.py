"""Wrong guesses of a secret a caller types (a discount code, a gift card code), counted so that a
script cannot try codes until one works (docs/limits.md).

The counts live in the service's rate limiter (`atelier_common.ratelimit`: Redis when set), and
only wrong codes count:

- **Per caller** (a guest identity or a customer): past `per_caller` that caller waits (429)
  whatever it sends next, a real code too. Looked at before the code is: it learns nothing more.
- **Per client address**, `per_address`: what a script minting a guest per guess meets. Past it a
  wrong code answers 429 instead of its error, and a real code still works: the people behind
  one address (an office, a carrier's NAT) are never refused theirs.

Counted after the answer is known, so guesses sent at once can pass a limit by those in flight.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass

from atelier_common.errors import RateLimited
from atelier_common.ratelimit import RateLimiter


@dataclass(frozen=True)
class GuessRules:
    """One kind of code: its limiter keys' prefix, the two rules ("10/15 minutes") and the names
    of their settings (a refusal's `details.limit`), and the refusal's message."""

    name: str
    per_caller: str
    per_address: str
    caller_setting: str
    address_setting: str
    message: str


class Guesses:
    def __init__(self, rules: GuessRules, limiter: RateLimiter) -> None:
        self.rules = rules
        self.limiter = limiter

    @asynccontextmanager
    async def typed(self, caller: uuid.UUID | None, address: str | None, wrong: type[Exception],
                    counts: Callable[[Exception], bool] = lambda _: True) -> AsyncIterator[None]:
        """Around the judging of a code `caller` typed from `address`: refused first when the
        caller is out of guesses; a `wrong` raised inside (that `counts`: a code that names
        nothing, not one refused for another reason) is counted, then raised (or, past the
        address's limit, a 429 instead). A caller or address of None is not counted by it."""
        rules = self.rules
        if caller is not None:
            window = await self.limiter.window(rules.per_caller, f"{rules.name}-caller", str(caller))
            if window.full:
                raise self._refusal(rules.caller_setting, window.retry_after)
        try:
            yield
        except wrong as refused:
            if counts(refused):
                await self._count(caller, address)
            raise

    async def _count(self, caller: uuid.UUID | None, address: str | None) -> None:
        rules = self.rules
        if caller is not None:
            await self.limiter.add(rules.per_caller, f"{rules.name}-caller", str(caller))
        if address is None:
            return
        key = f"{rules.name}-ip"
        if not await self.limiter.add(rules.per_address, key, address):  # the address's window was full already
            window = await self.limiter.window(rules.per_address, key, address)
            raise self._refusal(rules.address_setting, window.retry_after)

    def _refusal(self, limit: str, retry_after: int) -> RateLimited:
        return RateLimited(self.rules.message, details={"limit": limit, "retry_after": retry_after},
                           headers={"Retry-After": str(retry_after)})
