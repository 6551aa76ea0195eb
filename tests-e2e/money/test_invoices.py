"""Invoices and credit notes through the gateway, in both modes (#56): a paid order's invoice as a
PDF for its buyer and for staff, nobody else's; a partial refund's credit note after it."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from infra.journeys import customer, paid_order, poll, staff

from atelier_testing import assert_error

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
