"""The dashboard's charts of the last 30 days (#53), in headless Chromium through the gateway: the
orders and the paid revenue per day (orders' report) and the failed jobs per day (generation's),
drawn as SVG with a summary a screen reader reads and every number in a table the keyboard opens.
The numbers shown are the orders list's, counted again here."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import httpx
import pytest
from infra.back_office import staffer_account
from infra.console import SCREEN, sign_in, sign_out
from infra.journeys import customer, paid_order, staff

from atelier_testing.browser import chromium, offline_context
from atelier_testing.platform import STAFF_EMAIL, STAFF_PASSWORD, Platform

pytestmark = pytest.mark.e2e

PAID_AND_KEPT = ("paid", "processing", "shipped", "delivered", "completed")


async def todays_orders(api: httpx.AsyncClient, admin: dict[str, str]) -> list[dict[str, Any]]:
    today = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0).isoformat()
    found: list[dict[str, Any]] = []
    while True:
        page = (await api.get("/api/v1/staff/orders", headers=admin,
                              params={"created_after": today, "limit": 100, "offset": len(found)})).json()
        found += page["results"]
        if page["next"] is None:
            return found


async def last_row(page: Any, chart: str) -> list[str]:
    """The cells of the chart's table for its last day (today)."""
    return [c.strip() for c in await page.locator(f"#{chart} tbody tr").last.locator("td").all_text_contents()]


async def test_the_dashboard_charts_orders_revenue_and_failed_jobs(platform: Platform, api: httpx.AsyncClient) -> None:
    admin = await staff(api)
    finance = await staffer_account(api, admin, "finance")
    order = await paid_order(api, await customer(api))
    todays = await todays_orders(api, admin)
    revenue = sum((Decimal(o["total_amount"]) for o in todays
                   if o["status"] in PAID_AND_KEPT and o["currency"] == order["currency"]), Decimal("0"))
    report = (await api.get("/api/v1/staff/reports/daily", headers=admin)).json()
    month = sum(r["orders"] for r in report["results"])

    async with chromium() as browser, offline_context(browser, **SCREEN) as (context, watch):
        page = await context.new_page()
        # Finance: orders and revenue; the failed jobs are support's.
        await sign_in(page, platform.url, finance["email"])
        orders_chart = page.locator("#chart-orders")
        await orders_chart.wait_for()
        assert int((await last_row(page, "chart-orders"))[-1]) == len(todays)
        summary = await orders_chart.get_by_role("img").get_attribute("aria-label")
        assert summary.startswith(f"Orders per day, {report['since']} to {report['until']}: {month} in all")
        total = (await last_row(page, f"chart-revenue-{order['currency']}"))[-1]
        assert total == f"{revenue} {order['currency']}"
        assert await page.locator("#chart-failed-jobs").count() == 0
        assert await page.get_by_text("Your role cannot see this.").count() == 0

        # The numbers are a table the keyboard opens (the drawing is one image to a screen reader).
        table = page.get_by_role("table", name="Orders per day")
        assert not await table.is_visible()
        await page.get_by_text("Orders per day as a table").focus()
        await page.keyboard.press("Enter")
        await table.wait_for()
        assert await table.get_by_role("row").count() == 31  # the header and 30 days
        await sign_out(page)

        # The admin sees the failed jobs per day too: the generation report's.
        await sign_in(page, platform.url, STAFF_EMAIL, STAFF_PASSWORD)
        await page.locator("#chart-failed-jobs").wait_for()
        failed = (await api.get("/api/v1/staff/reports/failed-jobs", headers=admin)).json()
        today = [r["failed"] for r in failed["results"] if r["day"] == failed["until"]]
        assert int((await last_row(page, "chart-failed-jobs"))[-1]) == sum(today)
        watch.assert_clean()


async def test_todays_revenue_is_the_servers_report_not_a_sum_in_the_browser(
        platform: Platform, api: httpx.AsyncClient) -> None:
    """The dashboard's "today" figures are orders' daily report: the browser lists no orders to add
    them up (a day may have more than it could fetch), and shows the report's own figures."""
    admin = await staff(api)
    finance = await staffer_account(api, admin, "finance")
    order = await paid_order(api, await customer(api))
    await paid_order(api, await customer(api))
    report = (await api.get("/api/v1/staff/reports/daily", headers=admin, params={"days": 1})).json()
    today = [r for r in report["results"] if r["day"] == report["until"]]
    assert any(order["currency"] in r["revenue"] for r in today if r["storefront"] == order["storefront"])

    async with chromium() as browser, offline_context(browser, **SCREEN) as (context, watch):
        page = await context.new_page()
        asked: list[str] = []
        page.on("request", lambda request: asked.append(request.url))
        await sign_in(page, platform.url, finance["email"])
        await page.locator("#orders-today").wait_for()
        assert int(await page.locator("#orders-today").text_content()) == sum(r["orders"] for r in today)
        for row in today:
            for currency, total in row["revenue"].items():
                shown = await page.locator(f"#revenue-{row['storefront']}-{currency}").text_content()
                assert shown == total, (row["storefront"], currency)
        assert not [url for url in asked if "/api/v1/staff/orders" in url], "the dashboard listed orders to sum them"
        assert any("/api/v1/staff/reports/daily" in url and "days=1" in url for url in asked)
        watch.assert_clean()
