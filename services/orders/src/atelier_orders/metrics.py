"""Orders' own Prometheus metrics, on the service's `/metrics` beside `atelier_common.metrics`.

`atelier_orders_placed_total{storefront, currency}` counts orders placed. A placing transaction
notes its order in the session (`count_when_committed`); the commit hook (`count_committed`,
registered by `bootstrap.context`) counts what committed, so an order rolled back is never counted.
"""

from __future__ import annotations

from typing import Any

from prometheus_client import Counter
from sqlmodel.ext.asyncio.session import AsyncSession

ORDERS_PLACED = Counter("atelier_orders_placed", "Orders placed (committed), by storefront and currency",
                        ["storefront", "currency"])

_PLACED = "orders_placed"


def count_when_committed(session: AsyncSession, *, storefront: str, currency: str) -> None:
    """Count an order placed in `session`'s transaction once (and if) it commits."""
    session.info.setdefault(_PLACED, []).append((storefront, currency))


async def count_committed(info: dict[str, Any]) -> None:
    """`Database.on_session_commit` hook: count the orders the committed transaction placed."""
    for storefront, currency in info.pop(_PLACED, ()):
        ORDERS_PLACED.labels(storefront=storefront, currency=currency).inc()
