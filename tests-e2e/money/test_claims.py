"""Claims through the gateway, in both modes: support settle a damaged unit by a replacement
(a new order at no charge, its stock taken at once by catalog, ready to ship, never invoiced) and
a missing one by a refund (payments refunds it once, the credit note follows, nothing restocked);
two claims at once for the same unit settle one."""

from __future__ import annotations

import asyncio
from decimal import Decimal
from typing import Any

import httpx
import pytest
from infra.back_office import staffer
from infra.journeys import customer, poll, staff
from infra.returns import delivered_order, stock, two_products

from atelier_testing import assert_error

pytestmark = pytest.mark.e2e


async def _claim(api: httpx.AsyncClient, as_staff: dict[str, str], order: dict[str, Any], item: dict[str, Any],
                 resolution: str) -> httpx.Response:
    return await api.post(f"/api/v1/staff/orders/{order['id']}/claims", headers=as_staff, json={
        "items": [{"order_item_id": item["id"], "quantity": 1}], "reason": "Arrived broken", "resolution": resolution})


@pytest.mark.modes("embedded", "distributed",
                   why="parallel requests meet SQLite's one writer (embedded) or PostgreSQL's row locks (distributed); "
                       "the replacement's stock through the in-process bus or RabbitMQ")
async def test_a_claim_is_replaced_at_no_charge_or_refunded_once(api: httpx.AsyncClient) -> None:
    auth, admin = await customer(api), await staff(api)
    as_support = await staffer(api, admin, "support")
    products = await two_products(api)
    order = await delivered_order(api, auth, admin, products)
    broken, missing = (next(i for i in order["items"] if i["product_id"] == p["id"]) for p in products)
    before = {p["id"]: await stock(api, p["id"]) for p in products}
    assert_error(await _claim(api, auth, order, broken, "replace"), 403, "PERMISSION_DENIED")

    # Two claims at once for the one broken unit: one settles it.
    answers = await asyncio.gather(_claim(api, as_support, order, broken, "replace"),
                                   _claim(api, as_support, order, broken, "replace"))
    assert sorted(a.status_code for a in answers) == [201, 409], [a.text for a in answers]
    replaced = next(a.json() for a in answers if a.status_code == 201)
    assert (replaced["kind"], replaced["status"]) == ("claim", "replaced")

    async def ready() -> dict[str, Any] | None:
        body: dict[str, Any] = (await api.get(f"/api/v1/orders/{replaced['replacement_order_id']}", headers=auth)).json()
        return body if body["status"] == "paid" else None

    replacement = await poll(ready, timeout=40, message="the replacement ready to ship")
    assert (replacement["replaces_order_id"], replacement["total_amount"]) == (order["id"], "0.00")
    assert [(i["product_id"], i["quantity"]) for i in replacement["items"]] == [(products[0]["id"], 1)]
    assert await stock(api, products[0]["id"]) == before[products[0]["id"]] - 1  # taken from the shelf for good
    no_invoice = await api.get(f"/api/v1/orders/{replacement['id']}/invoice",
                               headers={**auth, "Accept": "application/json"})
    assert no_invoice.status_code == 404, no_invoice.text
    shipped = await api.post(f"/api/v1/orders/{replacement['id']}/status", headers=admin,
                             json={"status": "processing"})
    assert shipped.status_code == 200, shipped.text

    # The missing unit: refunded once, credited, not restocked.
    refund = await _claim(api, as_support, order, missing, "refund")
    assert refund.status_code == 201, refund.text
    claim = refund.json()
    line_charged = (Decimal(missing["line_total"]) - Decimal(missing["discount_amount"])
                    + (Decimal(0) if missing["tax_inclusive"] else Decimal(missing["tax_amount"])))
    assert Decimal(claim["amount"]) == line_charged

    async def refunded() -> dict[str, Any] | None:
        found = [r for r in (await api.get(f"/api/v1/orders/{order['id']}/returns", headers=auth)).json()
                 if r["id"] == claim["id"]]
        return found[0] if found and found[0]["status"] == "refunded" else None

    settled = await poll(refunded, timeout=40, message="the claim refunded")
    assert settled["refunded_amount"] == claim["amount"]

    async def credited() -> dict[str, Any] | None:
        invoice: dict[str, Any] = (await api.get(f"/api/v1/orders/{order['id']}/invoice",
                                                 headers={**auth, "Accept": "application/json"})).json()
        return invoice if invoice["credit_notes"] else None

    [note] = (await poll(credited, timeout=40, message="the claim's credit note"))["credit_notes"]
    assert note["amount"] == claim["amount"]
    money = (await api.get(f"/api/v1/staff/payments/orders/{order['id']}", headers=admin)).json()
    assert Decimal(money["total_refunded"]) == line_charged and len(money["refunds"]) == 1
    assert await stock(api, products[1]["id"]) == before[products[1]["id"]]  # lost: nothing comes back
    assert_error(await _claim(api, as_support, order, missing, "refund"), 409, "RETURN_QUANTITY_EXCEEDED")
