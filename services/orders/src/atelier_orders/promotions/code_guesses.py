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

from atelier_common.guesses import Guesses, GuessRules
from atelier_orders.bootstrap import OrdersContext
from atelier_orders.errors import PromotionCodeInvalid
from atelier_orders.promotions import rules


class CodeGuesses:
    """Discount codes' rules of the shared counting (`atelier_common.guesses`)."""

    def __init__(self, guesses: Guesses) -> None:
        self.guesses = guesses

    @classmethod
    def of(cls, context: OrdersContext) -> CodeGuesses:
        settings = context.settings
        return cls(Guesses(GuessRules(
            name="promotion-code", per_caller=settings.promotion_code_failures_per_caller,
            per_address=settings.promotion_code_failures_per_ip, caller_setting="promotion_code_failures_per_caller",
            address_setting="promotion_code_failures_per_ip", message="Too many wrong discount codes; try again later"),
            context.limiter))

    @asynccontextmanager
    async def typed(self, caller: uuid.UUID, address: str | None) -> AsyncIterator[None]:
        """Around the judging of a code `caller` typed from `address` (None: a service's call, counted
        per caller only): refused first if the caller is out of guesses; a wrong code is counted."""
        async with self.guesses.typed(caller, address, PromotionCodeInvalid, _names_nothing):
            yield


def _names_nothing(refused: Exception) -> bool:
    return isinstance(refused, PromotionCodeInvalid) and refused.details.get("reason") == rules.Problem.INVALID.value
