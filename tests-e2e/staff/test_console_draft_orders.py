"""Draft orders in the staff console, in headless Chromium through the gateway: support takes an
order for a new e-mail — a line at a custom price with its reason, a manual discount, the address —
sees the total the customer will pay and sends it. Every effect is read back through the API."""

from __future__ import annotations

import uuid
from decimal import Decimal

import httpx
import pytest
from infra.back_office import staffer_account
from infra.journeys import login, simple_product_in_stock, staff

from atelier_testing.browser import chromium, offline_context
from atelier_testing.platform import Platform

from .test_console_catalog import SCREEN, sign_in, status_says

pytestmark = pytest.mark.e2e


@pytest.mark.modes("embedded", why="the page calls the same API in both modes")
async def test_support_builds_previews_and_sends_a_draft_order(platform: Platform, api: httpx.AsyncClient) -> None:
    support = await staffer_account(api, await staff(api), "support")
    auth = {"Authorization": f"Bearer {(await login(api, support['email']))['access']}"}
    product = await simple_product_in_stock(api, min_stock=2)
    custom = str(Decimal(product["price"]) - Decimal("1.00"))
    email = f"console-{uuid.uuid4().hex[:10]}@example.com"

    async with chromium() as browser, offline_context(browser, **SCREEN) as (context, watch):
        page = await context.new_page()
        await sign_in(page, platform.url, support["email"])
        await page.get_by_role("link", name="Draft orders", exact=True).click()
        await page.get_by_role("heading", name="Draft orders", exact=True).wait_for()
        await page.locator("#draft-new").get_by_label("Customer (e-mail or account id)").fill(email)
        await page.get_by_role("button", name="Start draft").click()
        await page.get_by_role("heading", name=f"Draft order for {email}").wait_for()
        await status_says(page, "Draft order started.")

        line = page.locator("#draft-line")
        await line.get_by_label("Product id").fill(product["id"])
        await line.get_by_label("Quantity").fill("2")
        await line.get_by_label("Custom unit price").fill(custom)
        await line.get_by_label("Why this price").fill("Agreed on the phone")
        await page.get_by_role("button", name="Add line").click()
        await status_says(page, "Line added.")
        discount = page.locator("#draft-discount")
        await discount.get_by_label("Manual discount (amount)").fill("1.50")
        await discount.get_by_label("Why this discount").fill("Goodwill")
        await page.get_by_role("button", name="Save discount").click()
        await status_says(page, "Discount saved.")
        shipping = page.locator("#draft-shipping")
        for label, value in (("Name", "Grace Hopper"), ("Street address", "1 Harbour Road"), ("City", "Tbilisi"),
                             ("Postal code", "0105"), ("Country (two letters)", "GE")):
            await shipping.get_by_label(label, exact=True).fill(value)
        await page.get_by_role("button", name="Save shipping").click()
        await status_says(page, "Shipping saved.")

        listed = (await api.get("/api/v1/staff/draft-orders", headers=auth,
                                params={"status": "open", "limit": 100})).json()["results"]
        [summary] = [d for d in listed if d["email"] == email]
        draft = (await api.get(f"/api/v1/staff/draft-orders/{summary['id']}", headers=auth)).json()
        assert draft["email"] == email and draft["lines"][0]["unit_price"] == custom
        total = draft["preview"]["total_amount"]
        assert (await page.locator("#draft-total").text_content()) == f"{total} {draft['preview']['currency']}"

        await page.get_by_role("button", name="Send to the customer").click()
        await page.get_by_role("button", name="Send it").click()
        await status_says(page, "Sent: order")
        assert await page.locator("#draft-state").text_content() == "sent"
        sent = (await api.get(f"/api/v1/staff/draft-orders/{draft['id']}", headers=auth)).json()
        order = (await api.get(f"/api/v1/staff/orders/{sent['order_id']}", headers=auth)).json()
        assert order["total_amount"] == total and order["email"] == email
        watch.assert_clean()
