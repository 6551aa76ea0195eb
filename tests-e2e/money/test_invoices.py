"""Invoices and credit notes through the gateway, in both modes: a paid order's invoice as a
PDF for its buyer and for staff, nobody else's; a partial refund's credit note after it; a business
buyer's invoice on a storefront with legal details names the seller by them and both tax numbers."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest
from infra.journeys import ADDRESS, customer, paid_order, pay_order, poll, staff

from atelier_testing import assert_error
from atelier_testing.pdf import pdf_text

pytestmark = pytest.mark.e2e


def _is_pdf_of(response: httpx.Response, number: str) -> None:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/pdf"
    assert response.headers["cache-control"] == "private"
    assert response.headers["content-disposition"] == f'attachment; filename="{number}.pdf"'
    assert response.content.startswith(b"%PDF") and number.encode() in response.content


async def test_a_paid_order_has_its_invoice_and_a_partial_refund_its_credit_note(api: httpx.AsyncClient) -> None:
    auth = await customer(api)
    order = await paid_order(api, auth)
    invoice_url = f"/api/v1/orders/{order['id']}/invoice"
    # Issued in the transaction that made the order paid: there as soon as the order reads paid.
    as_json = {**auth, "Accept": "application/json"}
    response = await api.get(invoice_url, headers=as_json)
    assert response.status_code == 200, response.text
    invoice = response.json()
    assert invoice["number"].startswith("INV-DEFAULT-") and invoice["order_number"] == order["order_number"]
    assert invoice["total_amount"] == order["total_amount"] and invoice["credit_notes"] == []
    _is_pdf_of(await api.get(f"{invoice_url}.pdf", headers=auth), invoice["number"])
    # Without asking for JSON, the invoice's path answers the PDF and names its number.
    pdf = await api.get(invoice_url, headers=auth)
    _is_pdf_of(pdf, invoice["number"])
    assert pdf.headers["x-invoice-number"] == invoice["number"]
    # Another customer finds nothing there.
    stranger = await customer(api)
    assert_error(await api.get(f"{invoice_url}.pdf", headers=stranger), 404, "NOT_FOUND")

    as_staff = await staff(api)
    refund = await api.post("/api/v1/payments/refunds", headers=as_staff,
                            json={"order_id": order["id"], "amount": "1.00", "reason": "scratched lid"})
    assert refund.status_code == 201, refund.text

    async def credited() -> dict[str, Any] | None:
        body: dict[str, Any] = (await api.get(invoice_url, headers=as_json)).json()
        return body if body["credit_notes"] else None

    invoice = await poll(credited, timeout=30, message="the refund's credit note")
    [note] = invoice["credit_notes"]
    assert (note["amount"], note["invoice_number"], note["reason"]) == ("1.00", invoice["number"], "scratched lid")
    assert note["number"].startswith("CN-DEFAULT-") and invoice["credited"] == "1.00"
    listed = await api.get(f"/api/v1/orders/{order['id']}/credit-notes", headers=auth)
    assert [(n["number"], n["amount"]) for n in listed.json()] == [(note["number"], "1.00")], listed.text
    _is_pdf_of(await api.get(listed.json()[0]["url"], headers=auth), note["number"])
    # Staff download both from the back office's routes.
    staff_base = f"/api/v1/staff/orders/{order['id']}"
    _is_pdf_of(await api.get(f"{staff_base}/invoice.pdf", headers=as_staff), invoice["number"])
    _is_pdf_of(await api.get(f"{staff_base}/credit-notes/{note['number']}.pdf", headers=as_staff), note["number"])


LEGAL = {"name": "Atelier Trading Ltd", "address": ["12 Harbour Street", "Leith EH6 6QB", "United Kingdom"],
         "tax_number": "GB123456789", "registration_number": "SC123456"}


async def test_a_business_buyers_invoice_names_the_sellers_legal_details_and_both_tax_numbers(
        api: httpx.AsyncClient) -> None:
    # Staff give a storefront of its own its seller's legal details, and a product to sell there.
    as_staff = await staff(api)
    slug = f"legal-{uuid.uuid4().hex[:8]}"
    on = {"X-Atelier-Storefront": slug}
    origin = f"https://{slug}.example"
    r = await api.post("/api/v1/storefronts", headers=as_staff, json={
        "slug": slug, "name": "Legal Prints", "origins": [origin], "frontend_url": origin, "currency": "USD",
        "sells": ["physical"], "legal": {**LEGAL, "tax_number": "  GB123456789 "}})
    assert r.status_code == 201, r.text
    assert r.json()["legal"] == {**LEGAL, "email": None}
    bad = await api.patch(f"/api/v1/storefronts/{slug}", headers=as_staff, json={"legal": {"name": ""}})
    assert_error(bad, 400, "VALIDATION_ERROR")
    assert (await api.get(f"/api/v1/storefronts/{slug}", headers=as_staff)).json()["legal"] == {**LEGAL, "email": None}

    async def known() -> bool:
        seen = await api.get("/api/v1/storefront", headers=on)
        return seen.status_code == 200 and seen.json()["slug"] == slug

    await poll(known, timeout=60, message=f"storefront {slug} known")
    r = await api.post("/api/v1/products", headers=as_staff, json={
        "name": f"Lamp {slug}", "sku": f"LAMP-{slug}", "price": "40.00", "currency": "USD", "stock_quantity": 5,
        "kind": "physical", "storefronts": [slug]})
    assert r.status_code == 201, r.text
    product = r.json()

    # A business buyer orders there with its tax number; a malformed one is refused first.
    auth = {**await customer(api), **on}
    r = await api.post("/api/v1/cart/items", headers=auth, json={"product_id": product["id"], "quantity": 1})
    assert r.status_code == 201, r.text
    address = (await api.post("/api/v1/addresses", headers=auth, json=ADDRESS)).json()
    refused = await api.post("/api/v1/orders", headers=auth,
                             json={"shipping_address_id": address["id"], "buyer_tax_number": "GB/123"})
    assert "buyer_tax_number" in assert_error(refused, 400, "VALIDATION_ERROR")["details"]["fields"]
    assert (await api.get("/api/v1/orders", headers=auth)).json()["count"] == 0
    r = await api.post("/api/v1/orders", headers=auth,
                       json={"shipping_address_id": address["id"], "buyer_tax_number": " GE 405.060-708 "})
    assert r.status_code == 201, r.text
    assert r.json()["buyer_tax_number"] == "GE 405.060-708"

    async def awaiting_payment() -> dict[str, Any] | None:
        body: dict[str, Any] = (await api.get(f"/api/v1/orders/{r.json()['id']}", headers=auth)).json()
        return body if body["status"] == "awaiting_payment" else None

    order = await pay_order(api, auth, await poll(awaiting_payment, timeout=30, message="order awaiting payment"))
    assert order["buyer_tax_number"] == "GE 405.060-708"

    # The invoice, as JSON and as PDF, for the buyer and for staff.
    invoice_url = f"/api/v1/orders/{order['id']}/invoice"
    response = await api.get(invoice_url, headers={**auth, "Accept": "application/json"})
    assert response.status_code == 200, response.text
    invoice = response.json()
    assert invoice["number"].startswith(f"INV-{slug.upper()}-")
    assert invoice["seller"] == {**LEGAL, "email": None}
    assert invoice["buyer"]["tax_number"] == "GE 405.060-708"
    for url, headers in ((f"{invoice_url}.pdf", auth), (f"/api/v1/staff/orders/{order['id']}/invoice.pdf", as_staff)):
        pdf = await api.get(url, headers=headers)
        _is_pdf_of(pdf, invoice["number"])
        lines = pdf_text(pdf.content).splitlines()
        assert lines[1:6] == ["Atelier Trading Ltd", "12 Harbour Street", "Leith EH6 6QB", "United Kingdom",
                              "Tax number: GB123456789"]
        assert "Tax number: GE 405.060-708" in lines
