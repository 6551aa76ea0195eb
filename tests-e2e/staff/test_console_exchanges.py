"""Exchanges in the console, in headless Chromium through the gateway: support exchange a delivered
unit for another product from the order page (Preview shows the credit and the new item's total,
Confirm opens it), then receive the unit back whole; the exchange is settled."""

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


async def test_support_exchange_a_unit_and_receive_it_from_the_order_page(platform: Platform,
                                                                        api: httpx.AsyncClient) -> None:
    admin, auth = await staff(api), await customer(api)
    support = await staffer_account(api, admin, "support")
    products = await two_products(api)
    order = await delivered_order(api, auth, admin, products[:1])
    [back] = order["items"]
    out = products[1]
    preview = (await api.post(f"/api/v1/staff/orders/{order['id']}/exchanges/preview", headers=admin, json={
        "items": [{"order_item_id": back["id"], "quantity": 1}], "new_items": [{"product_id": out["id"]}],
        "reason": "Wants the other one"})).json()

    async with chromium() as browser, offline_context(browser, **SCREEN) as (context, watch):
        page = await context.new_page()
        await sign_in(page, platform.url, support["email"])
        await visit(page, f"{platform.url}/console#/orders/{order['id']}")
        form = page.get_by_role("group", name="Exchange (units back, other goods out)")
        await form.get_by_label(f"Back: {back['name']} ({back['sku']}), of 1").fill("1")
        await form.get_by_label("Out: product id").fill(out["id"])
        await form.get_by_label("Reason for the exchange").fill("Wants the other one")
        await form.get_by_role("button", name="Preview").click()
        credit = page.locator("#exchange-credit")
        await credit.wait_for()
        assert await credit.text_content() == f"{preview['credit']} {order['currency']}"  # orders' figure, as is
        await page.locator("#confirm-exchange").click()
        await status_says(page, " opened")
        [exchange] = (await api.get(f"/api/v1/orders/{order['id']}/returns", headers=auth)).json()
        assert (exchange["kind"], exchange["status"]) == ("exchange", "approved")
        # The page shows the order again after the write: the exchange is in its returns, open,
        # with what goes out and the order that sends it.
        await page.get_by_role("cell", name=f"out: {out['name']}", exact=False).wait_for()
        await page.get_by_role("link", name="the exchange order").wait_for()
        receipt = page.get_by_role("group", name=f"Receive exchange {exchange['number']} (every unit)")
        await receipt.get_by_role("button", name="Receive").click()
        await status_says(page, f"Exchange {exchange['number']} received")
        watch.assert_clean()

    async def settled() -> dict[str, Any] | None:
        [now] = (await api.get(f"/api/v1/orders/{order['id']}/returns", headers=auth)).json()
        return dict(now) if now["status"] == "refunded" else None

    done = await poll(settled, timeout=40, message="the exchange settled")
    assert [line["resaleable"] for line in done["items"]] == [True]
    assert done["replacement_order_id"] and [i["product_id"] for i in done["new_items"]] == [out["id"]]
