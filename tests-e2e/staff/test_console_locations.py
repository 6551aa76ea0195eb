"""Stock locations in the staff console, in headless Chromium through the gateway: a merchandiser
creates a shop that ships to one country, moves units of a product to it, reads the product's stock
per location, and sees where an order's line ships from; a support staffer is not offered the page.
Every effect is read back through the API."""

from __future__ import annotations

import uuid

import httpx
import pytest
from infra.back_office import staffer_account
from infra.console import SCREEN, sign_in, sign_out, status_says
from infra.journeys import staff

from atelier_testing.browser import chromium, offline_context
from atelier_testing.platform import Platform

pytestmark = pytest.mark.e2e


async def test_a_merchandiser_stocks_a_new_shop(platform: Platform, api: httpx.AsyncClient) -> None:
    admin = await staff(api)
    tag = uuid.uuid4().hex[:8]
    product = (await api.post("/api/v1/products", headers=admin, json={
        "name": f"Slate step {tag}", "sku": f"SLATE-{tag}", "slug": f"slate-{tag}", "price": "12.00",
        "stock_quantity": 5})).json()
    merchandiser = await staffer_account(api, admin, "merchandiser")
    support = await staffer_account(api, admin, "support")
    name = f"Leeds shop {tag}"

    async with chromium() as browser, offline_context(browser, **SCREEN) as (context, watch):
        page = await context.new_page()
        await sign_in(page, platform.url, merchandiser["email"])
        await page.get_by_role("link", name="Stock locations", exact=True).click()
        await page.get_by_label("Name", exact=True).fill(name)
        await page.get_by_label("Kind", exact=True).select_option("shop")
        await page.get_by_label("Ships to (countries; empty: everywhere)").fill("gb ie")
        await page.get_by_label("Priority (lowest first)").fill("5")
        await page.get_by_role("button", name="Create location").click()
        await page.get_by_role("heading", name=f"Location {name}").wait_for()
        await page.get_by_role("link", name="← Stock locations").click()
        await page.get_by_label("Product to move (id, number or slug)").fill(f"slate-{tag}")
        await page.get_by_label("From", exact=True).select_option(label="Main stock")
        await page.get_by_label("To", exact=True).select_option(label=name)
        await page.get_by_label("Units", exact=True).fill("2")
        await page.get_by_label("Reason", exact=True).fill("open the shop")
        await page.get_by_role("button", name="Move").click()
        await status_says(page, f"{name} 2")
        await page.get_by_label("Product to show (id, number or slug)").fill(f"slate-{tag}")
        await page.get_by_role("button", name="Show").click()
        await page.get_by_role("cell", name=name).wait_for()
        await sign_out(page)

        await sign_in(page, platform.url, support["email"])
        assert await page.get_by_role("link", name="Stock locations", exact=True).count() == 0
        assert watch.escaped == []

    [made] = [loc for loc in (await api.get("/api/v1/staff/locations", headers=admin)).json()["results"]
              if loc["name"] == name]
    assert (made["kind"], made["ships_to"], made["priority"], made["storefront"]) == ("shop", ["GB", "IE"], 5,
                                                                                      "default")
    [item] = (await api.get(f"/api/v1/staff/locations/stock/{product['id']}", headers=admin)).json()["items"]
    assert {u["name"]: u["quantity"] for u in item["locations"]} == {"Main stock": 3, name: 2}
