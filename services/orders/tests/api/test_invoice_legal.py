"""Invoices a tax office accepts (docs/storefronts.md#legal-details): the invoice snapshots the
seller's legal details (name, address, tax number) when it is issued, and a business buyer's tax
number given with the order; the JSON and both PDFs (invoice and credit note) show them."""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any

import pytest

from atelier_common.contracts.identity import StorefrontLegal, UserDeleted
from atelier_common.contracts.payments import PaymentRefunded
from atelier_testing import ServiceHarness, TestKeys
from atelier_testing.pdf import pdf_text
from atelier_testing.storefronts import add_storefront, make_storefront

from ..conftest import Customer, FakePlatform, assert_error
from ..events.test_saga import paid
from .test_invoices import _invoice

LEGAL = StorefrontLegal(name="Atelier Trading Ltd", address=["12 Harbour Street", "Leith EH6 6QB", "United Kingdom"],
                        tax_number="GB123456789", registration_number="SC123456", email="accounts@b.example")


def _legal_storefront(harness: ServiceHarness, **legal: Any) -> None:
    add_storefront(harness.app, make_storefront("b", legal=LEGAL.model_copy(update=legal)))


async def _order(customer: Customer, platform: FakePlatform, **body: Any) -> dict[str, Any]:
    lamp = platform.product(price="30.00", name="Stone lamp", currency="EUR", sku=f"LAMP-{uuid.uuid4().hex[:6]}")
    return await customer.placed(items=[{"product_id": lamp["id"]}],
                                 shipping_address_id=platform.address(customer.owner_id), **body)


async def _pdf(customer: Customer, path: str) -> str:
    response = await customer.client.get(path, headers=customer.headers)
    assert response.status_code == 200, response.text
    return pdf_text(response.content)


class TestSeller:
    async def test_the_invoice_names_the_seller_by_its_legal_details(
            self, harness: ServiceHarness, customer: Customer, platform: FakePlatform) -> None:
        _legal_storefront(harness)
        order = await _order(customer.on("b"), platform)
        await harness.deliver(paid(order))
        invoice = await _invoice(customer, order["id"])
        assert invoice["seller"] == {
            "name": "Atelier Trading Ltd", "address": ["12 Harbour Street", "Leith EH6 6QB", "United Kingdom"],
            "tax_number": "GB123456789", "registration_number": "SC123456", "email": "accounts@b.example"}
        text = await _pdf(customer, f"/api/v1/orders/{order['id']}/invoice.pdf")
        seller_block = text.split("\nInvoice\n", 1)[0]
        assert seller_block.splitlines() == [
            "Invoice", "Atelier Trading Ltd", "12 Harbour Street", "Leith EH6 6QB", "United Kingdom",
            "Tax number: GB123456789", "Registration number: SC123456", "accounts@b.example"]

    async def test_a_credit_note_prints_the_invoices_seller(
            self, harness: ServiceHarness, customer: Customer, platform: FakePlatform) -> None:
        _legal_storefront(harness)
        order = await _order(customer.on("b"), platform)
        await harness.deliver(paid(order))
        await harness.deliver(PaymentRefunded(order_id=order["id"], payment_id=uuid.uuid4(), amount=Decimal("5.00"),
                                              currency="EUR", refund_id=uuid.uuid4(), is_full=False))
        text = await _pdf(customer, f"/api/v1/orders/{order['id']}/credit-notes/CN-B-000001.pdf")
        assert text.splitlines()[:6] == ["Credit note", "Atelier Trading Ltd", "12 Harbour Street", "Leith EH6 6QB",
                                         "United Kingdom", "Tax number: GB123456789"]

    async def test_legal_details_changed_later_leave_the_issued_invoice_as_it_was(
            self, harness: ServiceHarness, customer: Customer, platform: FakePlatform) -> None:
        _legal_storefront(harness)
        order = await _order(customer.on("b"), platform)
        await harness.deliver(paid(order))
        add_storefront(harness.app, make_storefront("b", revision=2, legal=LEGAL.model_copy(
            update={"name": "Renamed Ltd", "tax_number": "GB999"})))
        seller = (await _invoice(customer, order["id"]))["seller"]
        assert (seller["name"], seller["tax_number"]) == ("Atelier Trading Ltd", "GB123456789")
        later = await _order(customer.on("b"), platform)
        await harness.deliver(paid(later))
        seller = (await _invoice(customer, later["id"]))["seller"]
        assert (seller["name"], seller["tax_number"]) == ("Renamed Ltd", "GB999")

    async def test_without_legal_details_the_seller_is_the_storefronts_name(
            self, harness: ServiceHarness, customer: Customer, platform: FakePlatform) -> None:
        add_storefront(harness.app, make_storefront("b"))
        order = await _order(customer.on("b"), platform)
        await harness.deliver(paid(order))
        assert (await _invoice(customer, order["id"]))["seller"] == {
            "name": "Storefront B", "address": [], "tax_number": None, "registration_number": None, "email": None}
        text = await _pdf(customer, f"/api/v1/orders/{order['id']}/invoice.pdf")
        assert text.splitlines()[:3] == ["Invoice", "Storefront B", "Invoice"]
        assert "Tax number" not in text


class TestBuyerTaxNumber:
    async def test_kept_on_the_order_and_snapshotted_on_the_invoice(
            self, harness: ServiceHarness, customer: Customer, platform: FakePlatform) -> None:
        _legal_storefront(harness)
        order = await _order(customer.on("b"), platform, buyer_tax_number="  GE 405.060-708 ")
        assert order["buyer_tax_number"] == "GE 405.060-708"
        assert (await customer.order(order["id"]))["buyer_tax_number"] == "GE 405.060-708"
        await harness.deliver(paid(order))
        invoice = await _invoice(customer, order["id"])
        assert invoice["buyer"]["tax_number"] == "GE 405.060-708"
        text = await _pdf(customer, f"/api/v1/orders/{order['id']}/invoice.pdf")
        bill_to = text.split("\nBill to\n", 1)[1].split("\nShip to\n", 1)[0].splitlines()
        assert bill_to == ["Ada Lovelace", "1 Rustaveli Ave", "0108 Tbilisi", "GE", "Tax number: GE 405.060-708",
                           "ada@example.com"]

    async def test_the_number_the_account_keeps_is_used_when_the_order_names_none(
            self, harness: ServiceHarness, customer: Customer, platform: FakePlatform) -> None:
        """Identity answers the owner's tax number with the address it snapshots; one given at
        checkout wins."""
        lamp = platform.product(price="30.00")
        kept = platform.address(customer.owner_id, owner_tax_number="DE123456789")
        order = await customer.placed(items=[{"product_id": lamp["id"]}], shipping_address_id=kept)
        assert order["buyer_tax_number"] == "DE123456789"
        assert "owner_tax_number" not in order["shipping_address"]  # not part of the address snapshot
        await harness.deliver(paid(order))
        assert (await _invoice(customer, order["id"]))["buyer"]["tax_number"] == "DE123456789"
        given = await customer.placed(items=[{"product_id": lamp["id"]}], shipping_address_id=kept,
                                      buyer_tax_number="FR 12 345")
        assert given["buyer_tax_number"] == "FR 12 345"

    @pytest.mark.parametrize("given", [None, "", "   "])
    async def test_none_given_is_none(self, harness: ServiceHarness, customer: Customer, platform: FakePlatform,
                                      given: str | None) -> None:
        body = {} if given is None else {"buyer_tax_number": given}
        order = await _order(customer, platform, **body)
        assert order["buyer_tax_number"] is None
        await harness.deliver(paid(order))
        assert (await _invoice(customer, order["id"]))["buyer"]["tax_number"] is None
        assert "Tax number" not in await _pdf(customer, f"/api/v1/orders/{order['id']}/invoice.pdf")

    @pytest.mark.parametrize("given", ["GB/123", "-GB123", "G" * 41, "GB\n123", "ΕΛ123", 123456789, ["GB1"]])
    async def test_an_invalid_one_is_400_and_nothing_is_written(
            self, harness: ServiceHarness, customer: Customer, platform: FakePlatform, given: Any) -> None:
        lamp = platform.product(price="30.00")
        response = await customer.place(items=[{"product_id": lamp["id"]}], buyer_tax_number=given,
                                        shipping_address_id=platform.address(customer.owner_id))
        error = assert_error(response, 400, "VALIDATION_ERROR")
        assert "buyer_tax_number" in error["details"]["fields"], error
        listed = await customer.client.get("/api/v1/orders", headers=customer.headers)
        assert listed.status_code == 200 and listed.json()["count"] == 0
        await harness.drain()
        assert harness.published("order.placed") == []

    async def test_an_erased_customers_order_and_invoice_forget_it(
            self, harness: ServiceHarness, customer: Customer, platform: FakePlatform, test_keys: TestKeys) -> None:
        order = await _order(customer, platform, buyer_tax_number="GE405060708")
        await harness.deliver(paid(order))
        await harness.deliver(UserDeleted(user_id=customer.owner_id))
        finance = test_keys.staff_headers("finance")
        base = f"/api/v1/staff/orders/{order['id']}"
        assert (await harness.client.get(base, headers=finance)).json()["buyer_tax_number"] is None
        invoice = (await harness.client.get(f"{base}/invoice", headers={**finance, "Accept": "application/json"}))
        assert invoice.json()["buyer"]["tax_number"] is None


class TestTaxPerRate:
    async def test_the_invoice_states_each_rates_base_and_tax_added_or_included(
            self, harness: ServiceHarness, customer: Customer, platform: FakePlatform) -> None:
        # b: 20 % added, its flat 7.50 shipping untaxed; a credit pack's price includes its 20 %.
        _legal_storefront(harness)
        lamp = platform.product(price="30.00", name="Stone lamp", currency="EUR", sku=f"LAMP-{uuid.uuid4().hex[:6]}")
        pack = platform.product(kind="credit_pack", price="12.00", currency="EUR", sku=f"PACK-{uuid.uuid4().hex[:6]}",
                                attributes={"credits": 5})
        order = await customer.on("b").placed(items=[{"product_id": lamp["id"]}, {"product_id": pack["id"]}],
                                              shipping_address_id=platform.address(customer.owner_id))
        await harness.deliver(paid(order))
        invoice = await _invoice(customer, order["id"])
        assert invoice["taxes"] == [
            {"rate": "0.2", "inclusive": False, "base": "30.00", "tax": "6.00"},
            {"rate": "0.2", "inclusive": True, "base": "12.00", "tax": "2.00"},
            {"rate": "0", "inclusive": False, "base": "7.50", "tax": "0.00"}]
        assert sum(Decimal(t["tax"]) for t in invoice["taxes"]) == Decimal(invoice["tax_amount"]) == Decimal("8.00")
        assert [(line["tax_amount"], line["tax_inclusive"]) for line in invoice["lines"]] == [
            ("6.00", False), ("2.00", True)]
        text = await _pdf(customer, f"/api/v1/orders/{order['id']}/invoice.pdf")
        assert "Tax 20 % on 30.00 EUR" in text and "Tax 20 % included in 12.00 EUR" in text
        assert "Total paid\n55.50 EUR" in text  # 30 + 6 + 12 + 7.50
