"""Invoices and credit notes (#56): one numbered invoice per paid order, issued with the payment;
a credit note per refund; both read by whoever reads the order, as JSON and as PDF. Numbers come
from one gap-free sequence per storefront and kind, under concurrent payments too."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

import httpx
import pytest

from atelier_common.contracts.identity import AnonymousClaimed, UserDeleted
from atelier_common.contracts.payments import PaymentRefunded
from atelier_common.events.envelope import Envelope
from atelier_common.inbox import handle_once
from atelier_orders.events import on_order_paid
from atelier_orders.invoices.service import Invoicing
from atelier_orders.repository import OrderRepository
from atelier_testing import ServiceHarness, TestKeys, deliver_in_every_order, redelivering
from atelier_testing.storefronts import add_storefront, make_storefront

from ..conftest import Customer, FakePlatform, Staff, assert_error
from ..events.test_saga import paid


def _refunded(order: dict[str, Any], amount: str, **fields: Any) -> PaymentRefunded:
    return PaymentRefunded(**{"order_id": order["id"], "payment_id": uuid.uuid4(), "amount": Decimal(amount),
                              "currency": order["currency"], "refund_id": uuid.uuid4(), "is_full": False,
                              "reason": "Damaged corner", **fields})


async def _physical_order(customer: Customer, platform: FakePlatform) -> dict[str, Any]:
    lamp = platform.product(price="30.00", name="Stone lamp", sku=f"LAMP-{uuid.uuid4().hex[:6]}")
    return await customer.placed(items=[{"product_id": lamp["id"], "quantity": 2}],
                                 shipping_address_id=platform.address(customer.owner_id))


async def _invoice(customer: Customer, order_id: str) -> dict[str, Any]:
    response = await customer.client.get(f"/api/v1/orders/{order_id}/invoice",
                                         headers={**customer.headers, "Accept": "application/json"})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def _published(harness: ServiceHarness, type_: str, order_id: str) -> list[dict[str, Any]]:
    return [e.data for e in harness.published(type_) if e.data["order_id"] == order_id]


def _assert_pdf(response: httpx.Response, number: str) -> None:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/pdf"
    assert response.headers["cache-control"] == "private"
    assert response.headers["content-disposition"] == f'attachment; filename="{number}.pdf"'
    assert response.content.startswith(b"%PDF")
    assert number.encode() in response.content  # the file's title


class TestIssue:
    async def test_a_paid_order_is_invoiced_with_a_snapshot_of_seller_buyer_lines_and_money(
            self, harness: ServiceHarness, customer: Customer, platform: FakePlatform) -> None:
        order = await _physical_order(customer, platform)
        await harness.deliver(paid(order))
        invoice = await _invoice(customer, order["id"])
        assert invoice["number"] == "INV-DEFAULT-000001"
        assert (invoice["order_id"], invoice["order_number"], invoice["storefront"]) == (
            order["id"], order["order_number"], "default")
        assert invoice["seller"]["name"]
        assert invoice["buyer"]["email"] == "ada@example.com"
        assert invoice["buyer"]["shipping_address"]["city"] == "Tbilisi"
        [line] = invoice["lines"]
        assert (line["name"], line["quantity"], line["unit_price"], line["line_total"]) == (
            "Stone lamp", 2, "30.00", "60.00")
        assert [invoice[k] for k in ("currency", "subtotal", "tax_amount", "shipping_cost", "total_amount")] == [
            order[k] for k in ("currency", "subtotal", "tax_amount", "shipping_cost", "total_amount")]
        assert (invoice["credit_notes"], invoice["credited"]) == ([], "0.00")
        await harness.drain()
        [event] = _published(harness, "invoice.issued", order["id"])
        assert (event["number"], event["total_amount"], event["storefront"]) == (
            invoice["number"], order["total_amount"], "default")

    async def test_numbers_follow_each_other_per_storefront(self, harness: ServiceHarness, customer: Customer,
                                                            platform: FakePlatform) -> None:
        add_storefront(harness.app, make_storefront("b"))
        numbers = []
        for storefront in ("default", "default", "b", "default", "b"):
            lamp = platform.product(currency="EUR" if storefront == "b" else "USD")
            order = await customer.on(storefront).placed(items=[{"product_id": lamp["id"]}],
                                                         shipping_address_id=platform.address(customer.owner_id))
            await harness.deliver(paid(order))
            numbers.append((await _invoice(customer, order["id"]))["number"])
        assert numbers == ["INV-DEFAULT-000001", "INV-DEFAULT-000002", "INV-B-000001",
                           "INV-DEFAULT-000003", "INV-B-000002"]
        b = await _invoice(customer, order["id"])
        assert (b["seller"]["name"], b["currency"]) == ("Storefront B", "EUR")

    async def test_a_redelivered_or_second_order_paid_issues_one_invoice(
            self, harness: ServiceHarness, customer: Customer, platform: FakePlatform) -> None:
        order = await _physical_order(customer, platform)
        confirmation = paid(order)
        envelope = await harness.deliver(confirmation)
        await harness.deliver(confirmation, envelope_id=envelope.id)  # the broker delivering it again
        await harness.deliver(paid(order))  # another confirmation of the same money
        await harness.drain()
        assert [e["number"] for e in _published(harness, "invoice.issued", order["id"])] == [
            "INV-DEFAULT-000001"]
        # Nothing was drawn from the sequence in vain: the next order takes the next number.
        other = await _physical_order(customer, platform)
        await harness.deliver(paid(other))
        assert (await _invoice(customer, other["id"]))["number"] == "INV-DEFAULT-000002"

    async def test_a_digital_order_is_invoiced_and_completed(self, harness: ServiceHarness, customer: Customer,
                                                             platform: FakePlatform) -> None:
        pack = platform.product(kind="credit_pack", price="4.99", attributes={"credits": 5})
        order = await customer.placed(items=[{"product_id": pack["id"]}])
        await harness.deliver(paid(order))
        invoice = await _invoice(customer, order["id"])
        assert (invoice["total_amount"], invoice["shipping_cost"], invoice["buyer"]["shipping_address"]) == (
            "4.99", "0.00", None)
        assert (await customer.order(order["id"]))["status"] == "completed"

    async def test_staff_marking_an_order_paid_issue_its_invoice(self, harness: ServiceHarness, customer: Customer,
                                                                 staff: Staff, platform: FakePlatform) -> None:
        order = await _physical_order(customer, platform)
        await staff.moved(order["id"], "paid")
        assert (await _invoice(customer, order["id"]))["number"] == "INV-DEFAULT-000001"

    async def test_money_for_a_cancelled_order_is_not_invoiced(self, harness: ServiceHarness, customer: Customer,
                                                               platform: FakePlatform) -> None:
        order = await _physical_order(customer, platform)
        assert (await customer.cancel(order["id"])).status_code == 200
        await harness.deliver(paid(order))  # given back by payments: never the order's money
        assert_error(await customer.client.get(f"/api/v1/orders/{order['id']}/invoice", headers=customer.headers),
                     404, "NOT_FOUND")


class TestConcurrentNumbering:
    @pytest.mark.databases("postgres", why="row locks race on PostgreSQL only (SQLite has one writer)")
    async def test_twenty_orders_paid_at_once_have_twenty_numbers_without_a_gap(
            self, harness: ServiceHarness, customer: Customer, platform: FakePlatform, db_backend: str) -> None:
        orders = [await _physical_order(customer, platform) for _ in range(20)]
        runtime = harness.runtime
        events = [paid(order) for order in orders]
        ran = await asyncio.gather(*(handle_once(runtime.db, "orders", Envelope.wrap(e, producer="payments"), e,
                                                 on_order_paid, runtime.context) for e in events))
        assert all(ran)
        numbers = sorted([(await _invoice(customer, order["id"]))["number"] for order in orders])
        assert numbers == [f"INV-DEFAULT-{n:06d}" for n in range(1, 21)]

    async def test_an_issue_rolled_back_gives_its_number_back(
            self, harness: ServiceHarness, customer: Customer, platform: FakePlatform) -> None:
        first, second = await _physical_order(customer, platform), await _physical_order(customer, platform)
        runtime = harness.runtime
        with pytest.raises(RuntimeError):
            async with runtime.db.transaction() as session:
                locked = await OrderRepository(session).lock(uuid.UUID(first["id"]))
                assert locked is not None
                await Invoicing(session, runtime.context).issue(locked)
                raise RuntimeError("the transaction fails after the number was drawn")
        await harness.deliver(paid(second))
        assert (await _invoice(customer, second["id"]))["number"] == "INV-DEFAULT-000001"


class TestReading:
    async def test_the_pdf_is_a_pdf_named_and_titled_after_its_number(self, harness: ServiceHarness,
                                                                      customer: Customer,
                                                                      platform: FakePlatform) -> None:
        order = await _physical_order(customer, platform)
        await harness.deliver(paid(order))
        response = await customer.client.get(f"/api/v1/orders/{order['id']}/invoice.pdf", headers=customer.headers)
        _assert_pdf(response, "INV-DEFAULT-000001")

    async def test_the_invoice_path_answers_the_pdf_with_its_number_unless_json_is_asked(
            self, harness: ServiceHarness, customer: Customer, platform: FakePlatform) -> None:
        order = await _physical_order(customer, platform)
        await harness.deliver(paid(order))
        for accept in (None, "*/*", "application/pdf", "application/pdf, application/json"):
            headers = customer.headers if accept is None else {**customer.headers, "Accept": accept}
            response = await customer.client.get(f"/api/v1/orders/{order['id']}/invoice", headers=headers)
            _assert_pdf(response, "INV-DEFAULT-000001")
            assert response.headers["x-invoice-number"] == "INV-DEFAULT-000001"
        assert (await _invoice(customer, order["id"]))["number"] == "INV-DEFAULT-000001"

    async def test_an_unpaid_order_has_no_invoice(self, harness: ServiceHarness, customer: Customer,
                                                  platform: FakePlatform) -> None:
        order = await _physical_order(customer, platform)
        for path in ("invoice", "invoice.pdf"):
            assert_error(await customer.client.get(f"/api/v1/orders/{order['id']}/{path}", headers=customer.headers),
                         404, "NOT_FOUND")

    async def test_another_customers_invoice_is_not_found(self, harness: ServiceHarness, customer: Customer,
                                                          other_customer: Customer, platform: FakePlatform,
                                                          test_keys: TestKeys) -> None:
        order = await _physical_order(customer, platform)
        await harness.deliver(paid(order))
        await harness.deliver(_refunded(order, "5.00"))
        note = (await _invoice(customer, order["id"]))["credit_notes"][0]["number"]
        paths = ("invoice", "invoice.pdf", f"credit-notes/{note}.pdf")
        for headers in (other_customer.headers, test_keys.anon_headers(), test_keys.staff_headers("merchandiser")):
            for path in paths:
                response = await harness.client.get(f"/api/v1/orders/{order['id']}/{path}", headers=headers)
                assert_error(response, 404, "NOT_FOUND")
        for path in ("invoice", "invoice.pdf", f"credit-notes/{note}.pdf"):
            assert_error(await harness.client.get(f"/api/v1/orders/not-an-id/{path}", headers=customer.headers),
                         404, "NOT_FOUND")
        assert_error(await harness.client.get(f"/api/v1/orders/{order['id']}/credit-notes/CN-NOPE.pdf",
                                              headers=customer.headers), 404, "NOT_FOUND")

    async def test_an_anonymous_buyer_reads_its_invoice_before_and_after_its_claim(
            self, harness: ServiceHarness, anonymous: Customer, platform: FakePlatform) -> None:
        order = await _physical_order(anonymous, platform)
        await harness.deliver(paid(order))
        number = (await _invoice(anonymous, order["id"]))["number"]
        await harness.deliver(AnonymousClaimed(anon_id=anonymous.owner_id, user_id=uuid.uuid4()))
        assert (await _invoice(anonymous, order["id"]))["number"] == number
        _assert_pdf(await anonymous.client.get(f"/api/v1/orders/{order['id']}/invoice.pdf",
                                               headers=anonymous.headers), number)

    async def test_support_and_finance_read_any_invoice_through_the_staff_routes(
            self, harness: ServiceHarness, customer: Customer, platform: FakePlatform, test_keys: TestKeys) -> None:
        order = await _physical_order(customer, platform)
        await harness.deliver(paid(order))
        await harness.deliver(_refunded(order, "5.00"))
        base = f"/api/v1/staff/orders/{order['id']}"
        for role in ("support", "finance"):
            headers = test_keys.staff_headers(role)
            invoice = (await harness.client.get(f"{base}/invoice", headers=headers)).json()
            assert invoice == await _invoice(customer, order["id"])
            _assert_pdf(await harness.client.get(f"{base}/invoice.pdf", headers=headers), invoice["number"])
            note = invoice["credit_notes"][0]["number"]
            _assert_pdf(await harness.client.get(f"{base}/credit-notes/{note}.pdf", headers=headers), note)
        unpaid = await _physical_order(customer, platform)
        assert_error(await harness.client.get(f"/api/v1/staff/orders/{unpaid['id']}/invoice",
                                              headers=test_keys.staff_headers("support")), 404, "NOT_FOUND")

    async def test_an_erased_customers_invoice_keeps_no_personal_data(
            self, harness: ServiceHarness, customer: Customer, platform: FakePlatform, test_keys: TestKeys) -> None:
        order = await _physical_order(customer, platform)
        await harness.deliver(paid(order))
        await harness.deliver(UserDeleted(user_id=customer.owner_id))
        invoice = (await harness.client.get(f"/api/v1/staff/orders/{order['id']}/invoice",
                                            headers=test_keys.staff_headers("finance"))).json()
        assert invoice["buyer"]["email"] is None
        assert invoice["buyer"]["shipping_address"] == {"city": "Tbilisi", "state": "", "postal_code": "0108",
                                                        "country": "GE", "type": "shipping"}
        assert invoice["total_amount"] == order["total_amount"]


class TestCreditNotes:
    async def test_each_refund_is_credited_once_referencing_the_invoice(
            self, harness: ServiceHarness, customer: Customer, platform: FakePlatform) -> None:
        order = await _physical_order(customer, platform)
        await harness.deliver(paid(order))
        first = _refunded(order, "10.00")
        envelope = await harness.deliver(first)
        await harness.deliver(first, envelope_id=envelope.id)  # redelivered
        await harness.deliver(first)  # the same refund announced again under another event id
        await harness.deliver(_refunded(order, "2.50", reason=None))
        invoice = await _invoice(customer, order["id"])
        assert [(n["number"], n["amount"], n["refund_id"], n["reason"], n["invoice_number"])
                for n in invoice["credit_notes"]] == [
            ("CN-DEFAULT-000001", "10.00", str(first.refund_id), "Damaged corner", invoice["number"]),
            ("CN-DEFAULT-000002", "2.50", invoice["credit_notes"][1]["refund_id"], None, invoice["number"])]
        assert invoice["credited"] == "12.50"
        await harness.drain()
        events = _published(harness, "credit_note.issued", order["id"])
        assert [(e["number"], e["invoice_number"], e["amount"]) for e in events] == [
            ("CN-DEFAULT-000001", invoice["number"], "10.00"),
            ("CN-DEFAULT-000002", invoice["number"], "2.50")]
        response = await customer.client.get(f"/api/v1/orders/{order['id']}/credit-notes/CN-DEFAULT-000001.pdf",
                                             headers=customer.headers)
        _assert_pdf(response, "CN-DEFAULT-000001")
        listed = await customer.client.get(f"/api/v1/orders/{order['id']}/credit-notes", headers=customer.headers)
        assert listed.status_code == 200, listed.text
        assert [(n["number"], n["amount"], n["url"]) for n in listed.json()] == [
            ("CN-DEFAULT-000001", "10.00", f"/api/v1/orders/{order['id']}/credit-notes/CN-DEFAULT-000001.pdf"),
            ("CN-DEFAULT-000002", "2.50", f"/api/v1/orders/{order['id']}/credit-notes/CN-DEFAULT-000002.pdf")]
        assert all(n["created_at"] for n in listed.json())
        pdf = await customer.client.get(listed.json()[1]["url"], headers=customer.headers)
        _assert_pdf(pdf, "CN-DEFAULT-000002")

    async def test_a_refund_heard_before_the_payment_is_credited_once_in_every_order(
            self, harness: ServiceHarness, customer: Customer, platform: FakePlatform) -> None:
        async def scenario() -> list[Any]:
            order = await _physical_order(customer, platform)
            return [paid(order), _refunded(order, "7.00")]

        async def outcome(events: Sequence[Any]) -> tuple[list[str], int]:
            order_id = str(events[0].order_id)
            invoice = await _invoice(customer, order_id)
            await harness.drain()
            return ([n["amount"] for n in invoice["credit_notes"]],
                    len(_published(harness, "credit_note.issued", order_id)))

        await deliver_in_every_order(scenario, redelivering(harness, producer="payments"), outcome,
                                     expected=(["7.00"], 1))
