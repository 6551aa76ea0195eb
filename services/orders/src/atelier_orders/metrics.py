"""Orders' own Prometheus metrics, on the service's `/metrics` beside `atelier_common.metrics`.

`atelier_orders_placed_total{storefront, currency}` counts orders placed, once their transaction
committed (`atelier_common.metrics.when_committed`): an order rolled back is never counted.
"""

from __future__ import annotations

from prometheus_client import Counter
from sqlmodel.ext.asyncio.session import AsyncSession

from atelier_common import metrics

ORDERS_PLACED = Counter("atelier_orders_placed", "Orders placed (committed), by storefront and currency",
                        ["storefront", "currency"])


def count_when_committed(session: AsyncSession, *, storefront: str, currency: str) -> None:
    """Count an order placed in `session`'s transaction once (and if) it commits."""
    metrics.when_committed(session, ORDERS_PLACED, storefront=storefront, currency=currency)
