"""The dashboard's per-day rows: which orders are revenue, and their sums folded per day and
storefront, exactly."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from atelier_orders import domain
from atelier_orders.domain import DayGroup


def test_revenue_is_paid_and_kept_money_only() -> None:
    day = date(2026, 11, 26)
    groups = [DayGroup(day, "shop", "USD", status, 1, Decimal("1.00")) for status in domain.OrderStatus]
    [row] = domain.daily_orders(groups)
    assert (row.orders, row.paid_orders, row.revenue) == (11, 5, {"USD": Decimal("5.00")})
    assert {str(s) for s in domain.REVENUE} == {"paid", "processing", "shipped", "delivered", "completed"}


def test_rows_are_per_day_and_storefront_oldest_first_with_exact_sums() -> None:
    monday, tuesday = date(2026, 11, 23), date(2026, 11, 24)
    rows = domain.daily_orders([
        DayGroup(tuesday, "shop", "USD", "paid", 2, Decimal("0.30")),
        DayGroup(monday, "shop", "EUR", "paid", 1, Decimal("0.10")),
        DayGroup(monday, "shop", "EUR", "shipped", 1, Decimal("0.20")),
        DayGroup(monday, "default", "USD", "cancelled", 4, Decimal("40.00"))])
    assert [(r.day, r.storefront, r.orders, r.paid_orders, r.revenue) for r in rows] == [
        (monday, "default", 4, 0, {}), (monday, "shop", 2, 2, {"EUR": Decimal("0.30")}),
        (tuesday, "shop", 2, 2, {"USD": Decimal("0.30")})]
