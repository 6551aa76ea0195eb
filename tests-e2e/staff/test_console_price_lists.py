"""Price lists in the staff console, in headless Chromium through the gateway, in both modes:
a merchandiser creates a business list, sets a product's price on it, deactivates it; a support
staffer is not offered the page. Every effect is read back through the API."""

from __future__ import annotations

import uuid

import httpx
import pytest
from infra.back_office import staffer_account
from infra.console import SCREEN, sign_in, sign_out, status_says
from infra.journeys import group_known_to_catalog, poll, staff

from atelier_testing.browser import chromium, offline_context
from atelier_testing.platform import Platform

pytestmark = pytest.mark.e2e


async def test_a_merchandiser_keeps_a_business_price_list(platform: Platform, api: httpx.AsyncClient) -> None:
    admin = await staff(api)
    tag = uuid.uuid4().hex[:8]
    product = (await api.post("/api/v1/products", headers=admin, json={
        "name": f"Onyx tile {tag}", "sku": f"ONYX-{tag}", "slug": f"onyx-{tag}", "price": "30.00",
        "stock_quantity": 5})).json()
    await group_known_to_catalog(api, admin, "business")  # the form's default group
    merchandiser = await staffer_account(api, admin, "merchandiser")
    support = await staffer_account(api, admin, "support")
    name = f"Trade {tag}"

    async with chromium() as browser, offline_context(browser, **SCREEN) as (context, watch):
        page = await context.new_page()
        await sign_in(page, platform.url, merchandiser["email"])
        await page.get_by_role("link", name="Price lists", exact=True).click()
        await page.get_by_label("Name", exact=True).fill(name)
        await page.get_by_label("Storefront (slug)").fill("default")
        await page.get_by_role("button", name="Create price list").click()
        await page.get_by_role("heading", name=f"Price list {name}").wait_for()
        await page.get_by_label("Product (id, number or slug)").fill(f"onyx-{tag}")
        await page.get_by_label("Price (USD)").fill("24.50")
        await page.get_by_role("button", name="Set price").click()
        await status_says(page, "costs 24.50 USD on this list")
        await page.get_by_role("cell", name="24.50 USD").wait_for()
        await page.get_by_role("button", name="Deactivate").click()
        await status_says(page, "is inactive")
        await sign_out(page)

        await sign_in(page, platform.url, support["email"])
        assert await page.get_by_role("link", name="Price lists", exact=True).count() == 0
        assert watch.escaped == []

    lists = (await api.get("/api/v1/staff/price-lists", headers=admin)).json()["results"]
    [made] = [pl for pl in lists if pl["name"] == name]
    assert (made["is_active"], made["customer_group"], made["currency"]) == (False, "business", "USD")
    assert made["prices"] == [{"product_id": product["id"], "variant_id": None, "price": "24.50"}]

    async def audited() -> bool:
        audit = (await api.get("/api/v1/staff/audit", headers=admin, params={"target": made["id"]})).json()
        return {"price_list.create", "price_list.update"} <= {entry["action"] for entry in audit["results"]}

    await poll(audited, message="the price list's audit rows")
