"""A merchandiser keeps a storefront's shipping zones in the console (#56), in headless Chromium
through the gateway: a zone made with the form, a flat and a weight method added, one edited and
one deleted; the result read back through the staff API. A support staffer is not offered the page."""

from __future__ import annotations

import re
import uuid
from decimal import Decimal
from typing import Any

import httpx
import pytest
from infra.back_office import staffer_account
from infra.console import SCREEN, sign_in, sign_out, status_says, visit
from infra.journeys import staff

from atelier_testing.browser import chromium, offline_context
from atelier_testing.platform import Platform

pytestmark = pytest.mark.e2e


async def test_a_merchandiser_keeps_shipping_zones(platform: Platform, api: httpx.AsyncClient) -> None:
    admin = await staff(api)
    slug = f"zones{uuid.uuid4().hex[:8]}"
    r = await api.post("/api/v1/storefronts", headers=admin, json={
        "slug": slug, "name": "Zoned Prints", "frontend_url": f"https://{slug}.example", "currency": "USD"})
    assert r.status_code == 201, r.text
    merchandiser = await staffer_account(api, admin, "merchandiser")
    support = await staffer_account(api, admin, "support")

    async def add_method(page: Any, name: str, kind: str, price: str = "", rates: str = "") -> None:
        form = page.locator("#method-new")
        await form.get_by_label("Method name").fill(name)
        await form.get_by_label("Kind").select_option(kind)
        await form.get_by_label("Price (flat)").fill(price)
        await form.get_by_label("Tiers", exact=False).fill(rates)
        await form.get_by_role("button", name="Add method").click()
        await status_says(page, f"Method {name} added.")

    async with chromium() as browser, offline_context(browser, **SCREEN) as (context, watch):
        page = await context.new_page()
        await sign_in(page, platform.url, merchandiser["email"])
        await visit(page, f"{platform.url}/console#/shipping-zones?storefront={slug}")
        await page.get_by_text("No shipping zones", exact=False).wait_for()
        await page.get_by_label("Name", exact=True).fill("Nordics")
        await page.get_by_label("Countries", exact=False).fill("se, no")
        await page.get_by_label("Tax rate", exact=False).fill("0.25")
        await page.get_by_label("Reduced class rate", exact=False).fill("0.12")
        await page.get_by_label("Tax inclusive").select_option("true")
        await page.get_by_role("button", name="Create zone").click()
        await page.get_by_role("heading", name="Shipping zone Nordics").wait_for()

        await add_method(page, "Standard", "flat", price="6.50")
        await add_method(page, "Heavy", "weight", rates="0 5.00\n2000 9.50")
        await add_method(page, "Courier", "flat", price="20")
        # Prices in the storefront's currency, wherever they show.
        await page.get_by_role("cell", name="by weight: from 0 g 5.00 USD, from 2000 g 9.50 USD").wait_for()
        await page.get_by_role("cell", name="6.50 USD", exact=True).wait_for()
        assert await page.locator("#method-new").get_by_label("Price (flat) (USD)").count() == 1

        # Deleting the zone is a destructive action: the secondary style of the others (not the
        # primary one of "Add method"), and it asks first.
        delete = page.get_by_role("button", name="Delete zone")
        primary = page.get_by_role("button", name="Add method")
        background = "el => getComputedStyle(el).backgroundColor"
        assert "secondary" in (await delete.get_attribute("class")).split()
        assert await delete.evaluate(background) != await primary.evaluate(background)
        assert await delete.evaluate(background) == await page.get_by_role("button", name="Delete Standard").evaluate(background)
        await delete.click()
        await page.get_by_role("dialog", name="Delete the shipping zone Nordics?").get_by_role("button", name="Go back").click()

        # A bad tier (not from 0) is refused with the API's code, nothing saved.
        form = page.locator("#method-new")
        await form.get_by_label("Method name").fill("Bulky")
        await form.get_by_label("Kind").select_option("weight")
        await form.get_by_label("Tiers", exact=False).fill("100 5")
        await form.get_by_role("button", name="Add method").click()
        await page.get_by_role("alert").filter(has_text="VALIDATION_ERROR").wait_for()

        await page.get_by_role("link", name="Standard", exact=True).click()
        await page.get_by_role("heading", name="Shipping method Standard").wait_for()
        await page.get_by_label("Price (flat)").fill("7.25")
        await page.get_by_label("Free over", exact=False).fill("80")
        await page.get_by_role("button", name="Save method").click()
        await status_says(page, "Method Standard saved.")
        await page.get_by_role("cell").filter(has_text=re.compile(r"^7\.25 USD; free over 80(\.00)? USD$")).wait_for()

        await page.get_by_role("button", name="Delete Courier").click()
        dialog = page.get_by_role("dialog", name="Delete the method Courier?")
        await dialog.get_by_role("button", name="Delete it").click()
        await status_says(page, "Method Courier deleted.")

        # The list of zones shows the methods' prices in the currency too.
        await visit(page, f"{platform.url}/console#/shipping-zones?storefront={slug}")
        await page.get_by_role("cell").filter(has_text=re.compile(r"Standard: 7\.25 USD; free over 80(\.00)? USD")).wait_for()
        await sign_out(page)

        await sign_in(page, platform.url, support["email"])
        assert await page.get_by_role("link", name="Shipping zones", exact=True).count() == 0
        # The refused method is a 400 the browser logs; nothing else went wrong.
        assert not (watch.page_errors or watch.server_errors or watch.escaped), watch

    zones = (await api.get("/api/v1/staff/shipping-zones", headers=admin, params={"storefront": slug})).json()["results"]
    assert [(z["name"], z["countries"], Decimal(z["tax_rate"]), z["tax_inclusive"], z["tax_rates"]) for z in zones] == [
        ("Nordics", ["SE", "NO"], Decimal("0.25"), True, {"reduced": "0.12"})]
    methods = [(m["name"], m["kind"], Decimal(m["price"]), m["free_over"] and Decimal(m["free_over"]),
                [(Decimal(t["min"]), Decimal(t["amount"])) for t in m["rates"]]) for m in zones[0]["methods"]]
    assert methods == [("Standard", "flat", Decimal("7.25"), Decimal(80), []),
                       ("Heavy", "weight", Decimal(5), None, [(0, Decimal(5)), (2000, Decimal("9.50"))])]
