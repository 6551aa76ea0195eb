"""Order edits in the console, in headless Chromium through the gateway: support lower a line of
a paid order from the order page, preview the new total and the refund, then confirm; the order
and its versions show the edit. Raising a paid order is confirmed too: its version shows the amount
due and the payment link sent."""

from __future__ import annotations

from decimal import Decimal

import httpx
import pytest
from infra.back_office import staffer_account
from infra.console import SCREEN, sign_in, status_says, visit
from infra.journeys import customer, poll, staff
from infra.returns import paid_order, two_products, unpaid_order

from atelier_testing.browser import chromium, offline_context
from atelier_testing.platform import Platform

pytestmark = pytest.mark.e2e


async def test_support_preview_and_confirm_an_edit_from_the_order_page(platform: Platform,
                                                                       api: httpx.AsyncClient) -> None:
    admin, auth = await staff(api), await customer(api)
    support = await staffer_account(api, admin, "support")
    products = await two_products(api)
    order = await paid_order(api, auth, products)
    line = next(i for i in order["items"] if i["product_id"] == products[0]["id"])

    async with chromium() as browser, offline_context(browser, **SCREEN) as (context, watch):
        page = await context.new_page()
        await sign_in(page, platform.url, support["email"])
        await visit(page, f"{platform.url}/console#/orders/{order['id']}")
        editing = page.get_by_role("group", name="Edit the order (change quantities, add a product)")
        await editing.get_by_label(f"{line['name']} ({line['sku']}), now 2").fill("1")
        await editing.get_by_label("Reason").fill("Customer keeps one")
        await editing.get_by_role("button", name="Preview").click()
        refund = page.locator("#edit-refund")
        await refund.wait_for()
        shown = (await refund.inner_text()).strip()
        await page.get_by_role("button", name="Confirm the edit").click()
        await status_says(page, "Order edited (v1)")
        await page.get_by_role("table", name="Versions").get_by_text("Customer keeps one").wait_for()
        watch.assert_clean()

    after = (await api.get(f"/api/v1/orders/{order['id']}", headers=auth)).json()
    [version] = (await api.get(f"/api/v1/staff/orders/{order['id']}/edits", headers=admin)).json()
    assert [i["quantity"] for i in after["items"] if i["id"] == line["id"]] == [1]
    assert Decimal(version["refund_amount"]) == Decimal(order["total_amount"]) - Decimal(after["total_amount"]) > 0
    assert version["refund_amount"] in shown


async def test_support_confirm_raising_a_paid_order_which_waits_for_the_amount_due(
        platform: Platform, api: httpx.AsyncClient) -> None:
    admin, auth = await staff(api), await customer(api)
    support = await staffer_account(api, admin, "support")
    products = await two_products(api)
    order = await paid_order(api, auth, products)
    line = next(i for i in order["items"] if i["product_id"] == products[0]["id"])
    listed = (await api.get("/api/v1/products", params={"kind": "physical", "in_stock": "true", "limit": 50})).json()
    extra = next(p for p in listed["results"] if not p["variants"] and p["id"] not in {q["id"] for q in products})
    body = {"changes": [{"order_item_id": line["id"], "quantity": 3}],
            "additions": [{"product_id": extra["id"], "quantity": 1}], "reason": "Customer wants more"}
    expected = (await api.post(f"/api/v1/staff/orders/{order['id']}/edits/preview", json=body, headers=admin)).json()
    assert Decimal(expected["amount_due"]) == Decimal(expected["total"]) - Decimal(order["total_amount"]) > 0

    async with chromium() as browser, offline_context(browser, **SCREEN) as (context, watch):
        page = await context.new_page()
        await sign_in(page, platform.url, support["email"])
        await visit(page, f"{platform.url}/console#/orders/{order['id']}")
        editing = page.get_by_role("group", name="Edit the order (change quantities, add a product)")
        await editing.get_by_label(f"{line['name']} ({line['sku']}), now 2").fill("3")
        await editing.get_by_label("Add a product (product id)").fill(extra["id"])
        await editing.get_by_label("Reason").fill("Customer wants more")
        await editing.get_by_role("button", name="Preview").click()
        due = page.locator("#edit-amount-due")
        await due.wait_for()
        assert expected["amount_due"] in (await due.inner_text())
        await page.locator("#edit-payment-note").wait_for()
        await page.get_by_role("button", name="Confirm the edit").click()
        await status_says(page, "waits for the stock, then for the customer's payment")

        async def awaiting() -> dict[str, object] | None:
            [version] = (await api.get(f"/api/v1/staff/orders/{order['id']}/edits", headers=admin)).json()
            return version if version["status"] == "awaiting_payment" else None

        version = await poll(awaiting, timeout=40, message="the edit waiting for its payment")
        await page.reload()
        link = page.get_by_role("table", name="Versions").locator("a.edit-payment-link")
        await link.wait_for()
        assert await link.get_attribute("href") == version["payment_url"]
        watch.assert_clean()

    after = (await api.get(f"/api/v1/orders/{order['id']}", headers=auth)).json()
    assert after["total_amount"] == order["total_amount"] and len(after["items"]) == 2


async def test_support_add_a_product_to_an_unpaid_order_which_applies_once_its_stock_is_held(
        platform: Platform, api: httpx.AsyncClient) -> None:
    admin, auth = await staff(api), await customer(api)
    support = await staffer_account(api, admin, "support")
    first, extra = await two_products(api)
    order = await unpaid_order(api, auth, [first], (1,))
    line = order["items"][0]

    async with chromium() as browser, offline_context(browser, **SCREEN) as (context, watch):
        page = await context.new_page()
        await sign_in(page, platform.url, support["email"])
        await visit(page, f"{platform.url}/console#/orders/{order['id']}")
        editing = page.get_by_role("group", name="Edit the order (change quantities, add a product)")
        await editing.get_by_label(f"{line['name']} ({line['sku']}), now 1").fill("2")
        await editing.get_by_label("Add a product (product id)").fill(extra["id"])
        await editing.get_by_label("Reason").fill("Customer adds a product")
        await editing.get_by_role("button", name="Preview").click()
        await page.locator("#edit-amount-due").wait_for()
        await page.get_by_role("button", name="Confirm the edit").click()
        await status_says(page, "Edit v1 waits for the stock")
        # An unpaid order has no payment nor invoice yet: the page says so from those two 404s.
        assert not watch.escaped and not watch.server_errors and not watch.page_errors
        assert {error.split("/")[-1] for error in watch.client_errors} <= {"invoice", order["id"]}, watch.client_errors

    async def applied() -> dict[str, object] | None:
        [version] = (await api.get(f"/api/v1/staff/orders/{order['id']}/edits", headers=admin)).json()
        return version if version["status"] == "applied" else None

    version = await poll(applied, timeout=40, message="the edit applied")
    after = (await api.get(f"/api/v1/orders/{order['id']}", headers=auth)).json()
    assert after["total_amount"] == version["new_total"]
    assert sorted((i["product_id"], i["quantity"]) for i in after["items"]) == sorted([(first["id"], 2), (extra["id"], 1)])
