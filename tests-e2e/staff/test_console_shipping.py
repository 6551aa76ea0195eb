"""An admin edits a storefront's shipping zones in the console (#56), in headless Chromium through
the gateway: the zones shown as a table, saved from the editor, a bad one refused with its path."""

from __future__ import annotations

import json
import uuid

import httpx
import pytest
from infra.console import SCREEN, sign_in, status_says, visit
from infra.journeys import staff

from atelier_testing.browser import chromium, offline_context
from atelier_testing.platform import STAFF_EMAIL, STAFF_PASSWORD, Platform

pytestmark = pytest.mark.e2e

ZONE = {"code": "california", "name": "California", "regions": ["US-CA"], "tax_rate": "0.0725",
        "methods": [{"code": "standard", "name": "Standard", "amount": "5.95", "free_over": "75"}]}


async def test_admin_sets_a_storefronts_shipping_zones(platform: Platform, api: httpx.AsyncClient) -> None:
    admin = await staff(api)
    slug = f"zones{uuid.uuid4().hex[:8]}"
    r = await api.post("/api/v1/storefronts", headers=admin, json={
        "slug": slug, "name": "Zoned Prints", "frontend_url": f"https://{slug}.example", "currency": "USD"})
    assert r.status_code == 201, r.text

    async with chromium() as browser, offline_context(browser, **SCREEN) as (context, watch):
        page = await context.new_page()
        await sign_in(page, platform.url, STAFF_EMAIL, STAFF_PASSWORD)
        await visit(page, f"{platform.url}/console#/storefronts/{slug}")
        await page.get_by_text("No zones: one shipping charge and one tax rate everywhere.").wait_for()
        editor = page.get_by_label("Zones as JSON", exact=False)

        # Twice the same zone: refused, the field says where.
        await editor.fill(json.dumps([ZONE, ZONE]))
        await page.get_by_role("button", name="Save shipping zones").click()
        await page.get_by_text("zone codes are unique", exact=False).first.wait_for()
        assert (await api.get(f"/api/v1/storefronts/{slug}", headers=admin)).json()["shipping_zones"] == []

        await editor.fill(json.dumps([ZONE]))
        await page.get_by_role("button", name="Save shipping zones").click()
        await status_says(page, f"Shipping zones of {slug} saved.")
        await page.get_by_role("cell", name="California (california)").wait_for()
        await page.get_by_role("cell", name="Standard (standard): 5.95, free over 75.00").wait_for()
        saved = (await api.get(f"/api/v1/storefronts/{slug}", headers=admin)).json()["shipping_zones"]
        assert [(z["code"], z["regions"], z["tax_rate"]) for z in saved] == [("california", ["US-CA"], "0.0725")]
        # The refused save is a 400 the browser logs; nothing else went wrong.
        assert not (watch.page_errors or watch.server_errors or watch.escaped), watch
