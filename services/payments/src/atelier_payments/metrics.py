"""Payments' own Prometheus metrics, on the service's `/metrics` beside `atelier_common.metrics`:
the money the dashboards show per storefront (deploy/helm/atelier, "Revenue per storefront").

Counted once the transaction that took or gave back the money committed
(`atelier_common.metrics.when_committed`). Prometheus counts in floats: these are figures to
watch, never amounts to account with (the ledger is that).
"""

from __future__ import annotations

from decimal import Decimal

from prometheus_client import Counter
from sqlmodel.ext.asyncio.session import AsyncSession

from atelier_common import metrics

# `_total` is added by the client: `atelier_payments_revenue_total{storefront, currency}`.
REVENUE = Counter("atelier_payments_revenue", "Money of paid orders, by storefront and currency",
                  ["storefront", "currency"])
REFUNDED = Counter("atelier_payments_refunded", "Money refunded on paid orders, by storefront and currency",
                   ["storefront", "currency"])


def paid_when_committed(session: AsyncSession, *, storefront: str, currency: str, amount: Decimal) -> None:
    metrics.when_committed(session, REVENUE, float(amount), storefront=storefront, currency=currency)


def refunded_when_committed(session: AsyncSession, *, storefront: str, currency: str, amount: Decimal) -> None:
    metrics.when_committed(session, REFUNDED, float(amount), storefront=storefront, currency=currency)
