"""Orders' context: built once at start (settings, the clients of the services orders asks)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

from atelier_common.counting import CountEstimates
from atelier_common.ratelimit import RateLimiter, rate_limiter
from atelier_common.service import Runtime
from atelier_common.storefronts import StorefrontDirectory
from atelier_orders.clients import ServiceClients
from atelier_orders.settings import OrdersSettings


@dataclass(frozen=True)
class OrdersContext:
    """Long-lived collaborators of orders' use cases."""

    settings: OrdersSettings
    clients: ServiceClients
    # This process's copy of the storefronts (identity owns them; `atelier_common.storefronts`).
    storefronts: StorefrontDirectory
    # Wrong discount codes counted (`promotions/code_guesses.py`): Redis when set, else this process.
    limiter: RateLimiter
    # Estimated counts of staff's broad order searches, shared by every request of this process.
    estimates: CountEstimates = field(default_factory=CountEstimates)


@asynccontextmanager
async def context(runtime: Runtime) -> AsyncIterator[OrdersContext]:
    settings = OrdersSettings.of(runtime)
    yield OrdersContext(settings=settings, clients=ServiceClients(runtime.internal), storefronts=runtime.storefronts,
                        limiter=rate_limiter(settings), estimates=CountEstimates(ttl=settings.count_estimate_seconds))
