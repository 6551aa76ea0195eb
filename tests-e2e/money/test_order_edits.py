"""Order edits through the gateway: support preview and confirm an edit of a paid order that has
not shipped (a unit of one line and a whole line removed); payments refunds the difference once,
the credit note follows, catalog puts the units back on the shelf, and the order's versions and
history say what changed. Once shipped, the order is no longer editable. An unpaid order edited up
waits for catalog to hold the units added, then costs its new total, which its payment charges."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import httpx
import pytest
from infra.back_office import staffer
from infra.journeys import customer, pay_order, poll, staff
from infra.returns import paid_order, stock, two_products, unpaid_order

from atelier_testing import assert_error

pytestmark = pytest.mark.e2e


async def test_a_paid_order_edited_down_is_refunded_credited_and_restocked(api: httpx.AsyncClient) -> None:
    auth, admin = await customer(api), await staff(api)
    as_support = await staffer(api, admin, "support")
    products = await two_products(api)
    order = await paid_order(api, auth, products)
    assert order["status"] == "paid"
    kept, dropped = (next(i for i in order["items"] if i["product_id"] == p["id"]) for p in products)
    before = {p["id"]: await stock(api, p["id"]) for p in products}
    body = {"changes": [{"order_item_id": kept["id"], "quantity": 1}, {"order_item_id": dropped["id"], "quantity": 0}],
            "reason": "Customer called to keep one"}
    url = f"/api/v1/staff/orders/{order['id']}/edits"
    assert_error(await api.post(url, headers=auth, json=body), 403, "PERMISSION_DENIED")

    preview = await api.post(f"{url}/preview", headers=as_support, json=body)
    assert preview.status_code == 200, preview.text
    shown = preview.json()
    assert [(line["old_quantity"], line["new_quantity"]) for line in shown["lines"]] == [
        (line["quantity"], 1 if line["id"] == kept["id"] else 0) for line in order["items"]]
    assert Decimal(shown["refund"]) == Decimal(order["total_amount"]) - Decimal(shown["total"]) > 0
    same = (await api.get(f"/api/v1/orders/{order['id']}", headers=auth)).json()
    assert same["total_amount"] == order["total_amount"]  # a preview changes nothing

    confirmed = await api.post(url, headers=as_support, json=body)
    assert confirmed.status_code == 201, confirmed.text
    edit = confirmed.json()
    assert (edit["total"], edit["refund"], edit["edit"]["version"]) == (shown["total"], shown["refund"], 1)
    after = (await api.get(f"/api/v1/orders/{order['id']}", headers=auth)).json()
    assert after["total_amount"] == shown["total"] and after["status"] == "paid"
    assert [(i["id"], i["quantity"]) for i in after["items"]] == [(kept["id"], 1)]
    assert after["status_history"][-1]["note"].startswith("Edit v1: ")

    async def refunded() -> dict[str, Any] | None:
        [version] = (await api.get(url, headers=as_support)).json()
        return version if version["refunded_at"] else None

    version = await poll(refunded, timeout=40, message="the edit refunded")
    assert version["refund_amount"] == shown["refund"] and version["reason"] == "Customer called to keep one"
    money = (await api.get(f"/api/v1/staff/payments/orders/{order['id']}", headers=admin)).json()
    assert Decimal(money["total_refunded"]) == Decimal(shown["refund"]) and len(money["refunds"]) == 1

    async def credited() -> dict[str, Any] | None:
        invoice: dict[str, Any] = (await api.get(f"/api/v1/orders/{order['id']}/invoice",
                                                 headers={**auth, "Accept": "application/json"})).json()
        return invoice if invoice["credit_notes"] else None

    [note] = (await poll(credited, timeout=40, message="the edit's credit note"))["credit_notes"]
    assert note["amount"] == shown["refund"]

    async def restocked() -> bool:
        return all([await stock(api, p["id"]) == before[p["id"]] + 1 for p in products])

    await poll(restocked, timeout=40, message="the removed units back on the shelf")

    # Shipped, it is settled by returns and claims, not edits.
    for status in ("processing", "shipped"):
        moved = await api.post(f"/api/v1/orders/{order['id']}/status", headers=admin,
                               json={"status": status, "tracking_number": "1Z999AA10123456784"})
        assert moved.status_code == 200, moved.text
    refused = assert_error(await api.post(url, headers=as_support, json={
        "changes": [{"order_item_id": kept["id"], "quantity": 0}], "reason": "Too late"}), 409, "ORDER_NOT_EDITABLE")
    assert refused["details"]["status"] == "shipped"


async def test_an_unpaid_order_edited_up_takes_the_stock_then_its_payment_charges_the_new_total(
        api: httpx.AsyncClient) -> None:
    auth, admin = await customer(api), await staff(api)
    as_support = await staffer(api, admin, "support")
    raised, added = await two_products(api)
    order = await unpaid_order(api, auth, [raised], (1,))
    before = {p["id"]: await stock(api, p["id"]) for p in (raised, added)}
    body = {"changes": [{"order_item_id": order["items"][0]["id"], "quantity": 2}],
            "additions": [{"product_id": added["id"], "quantity": 1}], "reason": "Customer called to add more"}
    url = f"/api/v1/staff/orders/{order['id']}/edits"
    preview = (await api.post(f"{url}/preview", headers=as_support, json=body)).json()
    assert Decimal(preview["difference"]) > 0 and preview["amount_due"] == "0.00"  # unpaid: nothing due on top
    confirmed = await api.post(url, headers=as_support, json=body)
    assert confirmed.status_code == 201, confirmed.text
    assert confirmed.json()["edit"]["status"] == "pending"

    async def applied() -> dict[str, Any] | None:
        [version] = (await api.get(url, headers=as_support)).json()
        assert version["status"] != "refused", version
        return version if version["status"] == "applied" else None

    version = await poll(applied, timeout=40, message="the edit applied once catalog held the units")
    assert version["new_total"] == preview["total"]
    after = (await api.get(f"/api/v1/orders/{order['id']}", headers=auth)).json()
    assert after["total_amount"] == preview["total"] and after["status"] == "awaiting_payment"
    assert sorted((i["product_id"], i["quantity"]) for i in after["items"]) == sorted(
        [(raised["id"], 2), (added["id"], 1)])
    assert (await stock(api, raised["id"]), await stock(api, added["id"])) == (
        before[raised["id"]] - 1, before[added["id"]] - 1)

    paid = await pay_order(api, auth, after)
    money = (await api.get(f"/api/v1/staff/payments/orders/{order['id']}", headers=admin)).json()
    assert paid["status"] == "paid" and [p["amount"] for p in money["payments"]] == [preview["total"]]
    invoice = (await api.get(f"/api/v1/orders/{order['id']}/invoice",
                             headers={**auth, "Accept": "application/json"})).json()
    assert invoice["total_amount"] == preview["total"] and len(invoice["lines"]) == 2
