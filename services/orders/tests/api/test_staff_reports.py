"""Orders' per-day report for the console's dashboard: orders placed per UTC day and
storefront, and the revenue of those paid and kept, per currency, exact. SQLite, and PostgreSQL
when set (the day is computed by the database: `atelier_common.columns.utc_day`)."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import update

from atelier_common.contracts.payments import OrderPaid
from atelier_orders.models import Order
from atelier_testing import assert_error

URL = "/api/v1/staff/reports/daily"


async def _placed(customer, platform, *, price: str, currency: str = "USD", storefront: str | None = None) -> dict:
    product = platform.product(price=price, currency=currency)
    buyer = customer.on(storefront) if storefront else customer
    return await buyer.placed(items=[{"product_id": product["id"]}], shipping_address_id=platform.address(customer.owner_id))


async def _paid(harness, customer, order: dict[str, Any]) -> None:
    await harness.deliver(OrderPaid(order_id=uuid.UUID(order["id"]), owner_id=customer.owner_id,
                                    amount=Decimal(order["total_amount"]), currency=order["currency"],
                                    payment_id=uuid.uuid4(), provider="local"))


async def _placed_on(harness, order: dict[str, Any], day: date, hour: int = 12) -> None:
    """Move the order's placing to `day` (the API places orders now)."""
    async with harness.runtime.db.transaction() as session:
        await session.execute(update(Order).where(Order.id == uuid.UUID(order["id"]))
                              .values(created_at=datetime.combine(day, time(hour), tzinfo=UTC)))


class TestDailyReport:
    async def test_counts_orders_and_sums_paid_revenue_per_day_storefront_and_currency(
            self, harness, customer, platform, test_keys) -> None:
        today = datetime.now(UTC).date()
        paid = [await _placed(customer, platform, price=price) for price in ("10.10", "0.20")]
        for order in paid:
            await _paid(harness, customer, order)
        unpaid = await _placed(customer, platform, price="99.00")  # counted, not revenue
        yesterday_eur = await _placed(customer, platform, price="5.05", currency="EUR")
        await _paid(harness, customer, yesterday_eur)
        await _placed_on(harness, yesterday_eur, today - timedelta(days=1), hour=23)
        too_old = await _placed(customer, platform, price="1.00")
        await _placed_on(harness, too_old, today - timedelta(days=30))  # day 31 back: outside 30 days

        response = await harness.client.get(URL, headers=test_keys.staff_headers("finance"))
        assert response.status_code == 200, response.text
        body = response.json()
        assert (body["days"], body["since"], body["until"]) == (30, str(today - timedelta(days=29)), str(today))
        totals = [Decimal(o["total_amount"]) for o in paid]
        assert body["results"] == [
            {"day": str(today - timedelta(days=1)), "storefront": "default", "orders": 1, "paid_orders": 1,
             "revenue": {"EUR": yesterday_eur["total_amount"]}},
            {"day": str(today), "storefront": "default", "orders": 3, "paid_orders": 2,
             "revenue": {"USD": str(totals[0] + totals[1])}}]
        assert unpaid["status"] == "pending"

        one_day = (await harness.client.get(URL, params={"days": 1}, headers=test_keys.staff_headers("support"))).json()
        assert [(r["day"], r["orders"]) for r in one_day["results"]] == [(str(today), 3)]

    async def test_days_out_of_range_are_a_400(self, harness, test_keys) -> None:
        for days in ("0", "91", "many"):
            assert_error(await harness.client.get(URL, params={"days": days}, headers=test_keys.staff_headers("finance")),
                         400, "VALIDATION_ERROR")

    async def test_a_merchandiser_or_customer_cannot_read_it(self, harness, test_keys) -> None:
        for headers in (test_keys.staff_headers("merchandiser"), test_keys.user_headers()):
            assert_error(await harness.client.get(URL, headers=headers), 403, "PERMISSION_DENIED")

