"""Exchanges through the gateway: support exchange a delivered unit for another product. For a
cheaper one, catalog takes the new item's stock at once (the credit pays it), the exchange order is
ready to ship and invoiced; receiving the unit (twice at once: once) restocks it once, payments
refunds the difference once and the credit note lists the line. For a dearer one, the new item
waits for the difference, which the customer pays through the payment link on the local
provider's page (the link is mailed to the customer too). Charged − refunded is what the customer keeps, and the documents say the same."""

from __future__ import annotations

import asyncio
from decimal import Decimal
from typing import Any

import httpx
import pytest
from infra.back_office import staffer
from infra.journeys import customer, latest_mail, poll, staff
from infra.returns import delivered_order, stock

from atelier_testing import assert_error

pytestmark = pytest.mark.e2e

REDIRECTS = {"success_url": "http://localhost:3000/ok", "cancel_url": "http://localhost:3000/no"}
JSON = {"Accept": "application/json"}


async def _products(api: httpx.AsyncClient) -> list[dict[str, Any]]:
    """Simple physical demo products in stock, cheapest first, of distinct prices."""
    r = await api.get("/api/v1/products", params={"kind": "physical", "in_stock": "true", "limit": 50})
    found: dict[Decimal, dict[str, Any]] = {}
    for product in r.json()["results"]:
        if not product["variants"] and product["stock_quantity"] >= 3:
            found.setdefault(Decimal(product["price"]), product)
    assert len(found) >= 3, "the demo catalog has three simple physical products of distinct prices in stock"
    return [found[price] for price in sorted(found)]


def _charged(line: dict[str, Any]) -> Decimal:
    return (Decimal(line["line_total"]) - Decimal(line["discount_amount"])
            + (Decimal(0) if line["tax_inclusive"] else Decimal(line["tax_amount"])))


async def _order_in(api: httpx.AsyncClient, auth: dict[str, str], order_id: str, status: str) -> dict[str, Any]:
    async def check() -> dict[str, Any] | None:
        body: dict[str, Any] = (await api.get(f"/api/v1/orders/{order_id}", headers=auth)).json()
        return body if body["status"] == status else None

    return dict(await poll(check, timeout=40, message=f"order {order_id} {status}"))


async def _invoice(api: httpx.AsyncClient, auth: dict[str, str], order_id: str,
                   notes: int = 0) -> dict[str, Any]:
    async def issued() -> dict[str, Any] | None:
        r = await api.get(f"/api/v1/orders/{order_id}/invoice", headers={**auth, **JSON})
        return r.json() if r.status_code == 200 and len(r.json()["credit_notes"]) >= notes else None

    return dict(await poll(issued, timeout=40, message=f"the invoice of {order_id}"))


def _body(line: dict[str, Any], product: dict[str, Any]) -> dict[str, Any]:
    return {"items": [{"order_item_id": line["id"], "quantity": 1}],
            "new_items": [{"product_id": product["id"], "quantity": 1}], "reason": "Wants another one"}


async def _receive(api: httpx.AsyncClient, as_staff: dict[str, str], exchange: dict[str, Any]) -> httpx.Response:
    return await api.post(f"/api/v1/staff/returns/{exchange['id']}/receive", headers=as_staff, json={
        "items": [{"order_item_id": line["order_item_id"], "quantity": line["quantity"], "resaleable": True}
                  for line in exchange["items"]]})


async def test_a_cheaper_item_is_sent_at_once_and_the_difference_refunded_once(api: httpx.AsyncClient) -> None:
    auth, admin = await customer(api), await staff(api)
    as_support = await staffer(api, admin, "support")
    found = await _products(api)
    cheap, dear = found[0], found[-1]
    order = await delivered_order(api, auth, admin, [dear])
    [line] = order["items"]
    body = _body(line, cheap)
    url = f"/api/v1/staff/orders/{order['id']}/exchanges"
    assert_error(await api.post(url, headers=auth, json=body), 403, "PERMISSION_DENIED")

    preview = await api.post(f"{url}/preview", headers=as_support, json=body)
    assert preview.status_code == 200, preview.text
    shown = preview.json()
    credit, total = Decimal(shown["credit"]), Decimal(shown["new_items_total"])
    assert credit == _charged(line) and Decimal(shown["refund"]) == credit - total > 0
    shelf = {p["id"]: await stock(api, p["id"]) for p in (cheap, dear)}

    opened = await api.post(url, headers=as_support, json=body)
    assert opened.status_code == 201, opened.text
    exchange = opened.json()
    assert (exchange["kind"], exchange["status"], exchange["payment_url"]) == ("exchange", "approved", None)
    assert (Decimal(exchange["credit_amount"]), Decimal(exchange["outgoing_total"])) == (credit, total)
    new_order = await _order_in(api, auth, exchange["replacement_order_id"], "paid")  # the credit paid it
    assert new_order["replaces_order_id"] == order["id"]
    assert [(i["product_id"], i["quantity"]) for i in new_order["items"]] == [(cheap["id"], 1)]
    assert await stock(api, cheap["id"]) == shelf[cheap["id"]] - 1

    # The parcel received twice at once: one receipt, one restock, one refund.
    answers = await asyncio.gather(_receive(api, as_support, exchange), _receive(api, as_support, exchange))
    assert sorted(a.status_code for a in answers) == [200, 409], [a.text for a in answers]

    async def refunded() -> dict[str, Any] | None:
        found = [r for r in (await api.get(f"/api/v1/orders/{order['id']}/returns", headers=auth)).json()
                 if r["id"] == exchange["id"]]
        return found[0] if found[0]["status"] == "refunded" else None

    settled = await poll(refunded, timeout=40, message="the exchange's difference refunded")
    assert Decimal(settled["refunded_amount"]) == credit - total
    restocked = await poll(lambda: _restocked(api, dear["id"], shelf[dear["id"]] + 1), timeout=40,
                           message="the unit back on the shelf")
    assert restocked == shelf[dear["id"]] + 1
    assert_error(await _receive(api, as_support, exchange), 409, "RETURN_NOT_OPEN")

    original = await _invoice(api, auth, order["id"], notes=1)
    [note] = original["credit_notes"]  # the line that came back; the refund has no note of its own
    assert Decimal(note["amount"]) == credit and [(n["order_item_id"], Decimal(n["amount"]))
                                                  for n in note["lines"]] == [(line["id"], credit)]
    new_invoice = await _invoice(api, auth, new_order["id"])
    assert Decimal(new_invoice["total_amount"]) == total
    money = (await api.get(f"/api/v1/staff/payments/orders/{order['id']}", headers=admin)).json()
    assert Decimal(money["total_refunded"]) == credit - total and len(money["refunds"]) == 1
    # Charged − refunded = what the customer keeps: the new item, and the original's shipping.
    charged_money = Decimal(order["total_amount"]) - Decimal(money["total_refunded"])
    documents = (Decimal(original["total_amount"]) + Decimal(new_invoice["total_amount"])
                 - Decimal(original["credited"]))
    kept = _charged(new_order["items"][0]) + Decimal(order["total_amount"]) - _charged(line)
    assert charged_money == documents == kept
    assert await stock(api, dear["id"]) == shelf[dear["id"]] + 1  # still once


async def _restocked(api: httpx.AsyncClient, product_id: str, units: int) -> int | None:
    now = await stock(api, product_id)
    return now if now >= units else None


async def test_a_dearer_item_waits_for_the_difference_paid_through_its_link(api: httpx.AsyncClient) -> None:
    auth, admin = await customer(api), await staff(api)
    as_support = await staffer(api, admin, "support")
    found = await _products(api)
    cheap, dear = found[0], found[-1]
    order = await delivered_order(api, auth, admin, [cheap])
    [line] = order["items"]
    opened = await api.post(f"/api/v1/staff/orders/{order['id']}/exchanges", headers=as_support,
                            json=_body(line, dear))
    assert opened.status_code == 201, opened.text
    exchange = opened.json()
    credit, total = Decimal(exchange["credit_amount"]), Decimal(exchange["outgoing_total"])
    assert total > credit
    waiting = await _order_in(api, auth, exchange["replacement_order_id"], "awaiting_payment")
    link = httpx.URL(exchange["payment_url"])
    assert link.params["order_id"] == waiting["id"]
    mail = await latest_mail(api, order["email"], "to pay")  # the customer is mailed it, as for a draft
    assert exchange["payment_url"] in mail["text"] and waiting["order_number"] in mail["text"]
    async with httpx.AsyncClient(base_url=api.base_url, timeout=30) as guest:
        r = await guest.post("/api/v1/payments/checkout", json={
            "order_id": link.params["order_id"], "payment_token": link.params["token"], **REDIRECTS})
        assert r.status_code == 200, r.text
        checkout_url = r.json()["checkout_url"]
        assert (await guest.get(checkout_url)).status_code == 200
        paid = await guest.post(f"{checkout_url}/pay", headers=JSON)
        assert paid.status_code == 200, paid.text
    await _order_in(api, auth, waiting["id"], "paid")  # ready to ship once the difference is in
    money = (await api.get(f"/api/v1/staff/payments/orders/{waiting['id']}", headers=admin)).json()
    assert [Decimal(p["amount"]) for p in money["payments"] if p["status"] == "succeeded"] == [total - credit]
    assert Decimal((await _invoice(api, auth, waiting["id"]))["total_amount"]) == total
    received = await _receive(api, as_support, exchange)
    assert received.status_code == 200, received.text
    assert received.json()["status"] == "refunded" and Decimal(received.json()["amount"]) == 0  # nothing owed back
    original = await _invoice(api, auth, order["id"], notes=1)
    # Charged − refunded: the original and the difference; the documents: both invoices less the credit.
    assert (Decimal(original["total_amount"]) + total - Decimal(original["credited"])
            == Decimal(order["total_amount"]) + total - credit)
