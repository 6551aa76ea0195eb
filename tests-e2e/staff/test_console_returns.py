"""Returns in the console, in headless Chromium through the gateway, both modes: support
receive a customer's return from the order page, keeping one line out of stock; the refund follows."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from infra.back_office import staffer_account
from infra.console import SCREEN, sign_in, status_says, visit
from infra.journeys import customer, poll, staff
from infra.returns import delivered_order, two_products

from atelier_testing.browser import chromium, offline_context
from atelier_testing.platform import Platform

pytestmark = pytest.mark.e2e


async def test_support_receive_a_return_from_the_order_page(platform: Platform, api: httpx.AsyncClient) -> None:
    admin, auth = await staff(api), await customer(api)
    support = await staffer_account(api, admin, "support")
    products = await two_products(api)
    order = await delivered_order(api, auth, admin, products)
    opened = await api.post(f"/api/v1/orders/{order['id']}/returns", headers=auth, json={
        "items": [{"order_item_id": i["id"]} for i in order["items"]], "reason": "Changed my mind"})
    assert opened.status_code == 201, opened.text
    ret = opened.json()
    kept = next(line for line in ret["items"] if line["product_id"] == products[1]["id"])

    async with chromium() as browser, offline_context(browser, **SCREEN) as (context, watch):
        page = await context.new_page()
        await sign_in(page, platform.url, support["email"])
        await visit(page, f"{platform.url}/console#/orders/{order['id']}")
        await page.locator(f"[data-return-status='{ret['number']}']").filter(has_text="requested").wait_for()
        receipt = page.get_by_role("group", name=f"Receive {ret['number']}")
        await receipt.get_by_label(f"Resaleable: {kept['name']} ({kept['sku']}) × 1").uncheck()
        await receipt.get_by_label("Refund the shipping", exact=False).check()
        await receipt.get_by_role("button", name="Receive").click()
        await status_says(page, f"Return {ret['number']} received")
        watch.assert_clean()

    async def refunded() -> dict[str, Any] | None:
        [now] = (await api.get(f"/api/v1/orders/{order['id']}/returns", headers=auth)).json()
        return dict(now) if now["status"] == "refunded" else None

    settled = await poll(refunded, timeout=40, message="the return refunded")
    assert settled["refunded_amount"] == order["total_amount"]
    assert [line["resaleable"] for line in settled["items"] if line["id"] == kept["id"]] == [False]


async def test_support_settle_a_claim_by_a_replacement_from_the_order_page(platform: Platform,
                                                                         api: httpx.AsyncClient) -> None:
    admin, auth = await staff(api), await customer(api)
    support = await staffer_account(api, admin, "support")
    products = await two_products(api)
    order = await delivered_order(api, auth, admin, products)
    broken = order["items"][0]

    async with chromium() as browser, offline_context(browser, **SCREEN) as (context, watch):
        page = await context.new_page()
        await sign_in(page, platform.url, support["email"])
        await visit(page, f"{platform.url}/console#/orders/{order['id']}")
        claim = page.get_by_role("group", name="Settle a claim (damaged or missing goods)")
        await claim.get_by_label(f"{broken['name']} ({broken['sku']}), of 1").fill("1")
        await claim.get_by_label("Settle by").select_option("replace")
        await claim.get_by_label("What happened").fill("Arrived cracked")
        await claim.get_by_role("button", name="Settle the claim").click()
        await status_says(page, "a replacement order is on its way")
        watch.assert_clean()

    [settled] = (await api.get(f"/api/v1/orders/{order['id']}/returns", headers=auth)).json()
    assert (settled["kind"], settled["resolution"], settled["status"]) == ("claim", "replace", "replaced")

    async def ready() -> dict[str, Any] | None:
        body: dict[str, Any] = (await api.get(f"/api/v1/orders/{settled['replacement_order_id']}", headers=auth)).json()
        return body if body["status"] == "paid" else None

    replacement = await poll(ready, timeout=40, message="the replacement ready to ship")
    assert [(i["product_id"], i["quantity"], i["unit_price"]) for i in replacement["items"]] == [
        (broken["product_id"], 1, "0.00")]
