"""Exchanges: a delivered order's units come back for other goods. The lines are credited what was
charged for them, the new items priced by the one pricing function; the new items go out as an
order of their own (catalog holds their stock all or none), paid by the credit and, for the rest,
by the customer; what the shop owes is refunded once, when the lines are received (once)."""

from __future__ import annotations

import asyncio
import uuid
from decimal import Decimal
from typing import Any

import httpx
import pytest

from atelier_common.contracts.catalog import StockRejected, StockReserved
from atelier_common.contracts.payments import PaymentRefunded
from atelier_testing import ServiceHarness, TestKeys

from ..conftest import Customer, FakePlatform, Staff, assert_error
from ..events.test_saga import paid
from .test_returns import delivered_order, published, receive, returns_url

D = Decimal


def body(order: dict[str, Any], back: list[tuple[int, int]], out: list[tuple[str, int]],
         reason: str = "Wants another size") -> dict[str, Any]:
    return {"items": [{"order_item_id": order["items"][i]["id"], "quantity": q} for i, q in back],
            "new_items": [{"product_id": p, "quantity": q} for p, q in out], "reason": reason}


async def exchange(harness: ServiceHarness, staff: Staff, order: dict[str, Any], back: list[tuple[int, int]],
                   out: list[tuple[str, int]], *, preview: bool = False) -> httpx.Response:
    url = f"/api/v1/staff/orders/{order['id']}/exchanges" + ("/preview" if preview else "")
    return await harness.client.post(url, json=body(order, back, out), headers=staff.headers)


async def exchanged(harness: ServiceHarness, staff: Staff, order: dict[str, Any], back: list[tuple[int, int]],
                    out: list[tuple[str, int]]) -> dict[str, Any]:
    response = await exchange(harness, staff, order, back, out)
    assert response.status_code == 201, response.text
    answer: dict[str, Any] = response.json()
    return answer


def charged(line: dict[str, Any]) -> Decimal:
    """What an order line was charged: its price less its discount, plus the tax added on top."""
    tax = D(line["tax_amount"]) if not line.get("tax_inclusive") else D("0")
    return D(line["line_total"]) - D(line["discount_amount"]) + tax


async def invoice(harness: ServiceHarness, staff: Staff, order_id: str) -> dict[str, Any]:
    response = await harness.client.get(f"/api/v1/staff/orders/{order_id}/invoice", headers=staff.headers)
    assert response.status_code == 200, response.text
    answer: dict[str, Any] = response.json()
    return answer


class TestPreview:
    async def test_the_preview_prices_both_sides_and_writes_nothing(
            self, harness: ServiceHarness, customer: Customer, staff: Staff, platform: FakePlatform) -> None:
        order = await delivered_order(harness, customer, staff, platform, ("30.00", 2, "physical"))
        other = platform.product(price="12.00")
        response = await exchange(harness, staff, order, [(0, 1)], [(other["id"], 2)], preview=True)
        assert response.status_code == 200, response.text
        seen = response.json()
        credit = (charged(order["items"][0]) / 2).quantize(D("0.01"))
        assert D(seen["credit"]) == credit == D(seen["lines_back"][0]["amount"])
        [item] = seen["new_items"]
        assert (item["sku"], item["quantity"], item["unit_price"], item["line_total"]) == (
            other["sku"], 2, "12.00", "24.00")
        total = D(item["line_total"]) + (D(item["tax_amount"]) if not item["tax_inclusive"] else 0)
        assert D(seen["new_items_total"]) == total
        assert D(seen["difference"]) == total - credit
        assert (D(seen["amount_due"]), D(seen["refund"])) == (max(total - credit, D(0)), max(credit - total, D(0)))
        await harness.drain()
        assert published(harness, "return.requested", order["id"]) == []
        assert (await customer.client.get(returns_url(order), headers=customer.headers)).json() == []

    async def test_a_business_orders_new_items_cost_its_group_price_and_its_order_keeps_the_group(
            self, harness: ServiceHarness, test_keys: TestKeys, staff: Staff, platform: FakePlatform) -> None:
        user_id = uuid.uuid4()
        business = Customer(harness, test_keys.group_headers("business", user_id), user_id)
        order = await delivered_order(harness, business, staff, platform, ("100.00", 1, "physical"))
        lamp = platform.product(price="30.00")
        platform.group_prices[(lamp["id"], "default", "business")] = "24.00"
        seen = (await exchange(harness, staff, order, [(0, 1)], [(lamp["id"], 1)], preview=True)).json()
        assert platform.lookups[-1]["customer_group"] == "business"
        assert seen["new_items"][0]["unit_price"] == "24.00"
        ex = await exchanged(harness, staff, order, [(0, 1)], [(lamp["id"], 1)])
        placed = await harness.client.get(f"/api/v1/staff/orders/{ex['replacement_order_id']}", headers=staff.headers)
        assert (placed.json()["items"][0]["unit_price"], placed.json()["customer_group"]) == ("24.00", "business")


class TestRefundPath:
    async def test_the_shop_refunds_the_difference_once_and_the_documents_add_up_line_by_line(
            self, harness: ServiceHarness, customer: Customer, staff: Staff, platform: FakePlatform,
            service_headers: dict[str, str]) -> None:
        order = await delivered_order(harness, customer, staff, platform, ("30.00", 2, "physical"),
                                      ("8.00", 1, "physical"))
        cheaper = platform.product(price="10.00")
        ex = await exchanged(harness, staff, order, [(0, 1)], [(cheaper["id"], 1)])
        assert (ex["kind"], ex["status"], ex["opened_by"]) == ("exchange", "approved", "staff")
        credit, total = D(ex["credit_amount"]), D(ex["outgoing_total"])
        assert credit > total and ex["payment_url"] is None
        new_order = await customer.order(ex["replacement_order_id"])  # the customer's own order
        assert new_order["replaces_order_id"] == order["id"] and new_order["status"] == "pending"
        assert D(new_order["total_amount"]) == total and D(new_order["exchange_credit"]) == total
        assert [(i["product_id"], i["quantity"], i["unit_price"]) for i in new_order["items"]] == [
            (cheaper["id"], 1, "10.00")]
        await harness.drain()
        [placed] = published(harness, "order.placed", new_order["id"])
        assert placed["settled"] is True  # the credit pays it all: catalog takes the stock for good
        [requested] = published(harness, "exchange.requested", order["id"])
        assert (D(requested["credit"]), D(requested["difference"])) == (credit, total - credit)
        assert requested["exchange_order_id"] == new_order["id"]
        internal = (await harness.client.get(f"/internal/orders/{new_order['id']}", headers=service_headers)).json()
        assert internal["is_payable"] is False and D(internal["amount_due"]) == 0

        reserved = await harness.deliver(StockReserved(order_id=new_order["id"]))
        await harness.deliver(StockReserved(order_id=new_order["id"]), envelope_id=reserved.id)  # redelivered
        await harness.deliver(StockReserved(order_id=new_order["id"]))  # said twice
        assert (await customer.order(new_order["id"]))["status"] == "paid"  # ready to ship

        received = await receive(harness, staff, ex, restock=[True])
        assert received.status_code == 200, received.text
        settled = received.json()
        assert settled["status"] == "received" and D(settled["amount"]) == credit - total
        again = await receive(harness, staff, ex, restock=[True])
        assert_error(again, 409, "RETURN_NOT_OPEN")
        await harness.drain()
        [back] = published(harness, "return.received", order["id"])
        assert back["kind"] == "exchange" and D(back["amount"]) == credit - total
        assert [item["resaleable"] for item in back["items"]] == [True]
        [done] = published(harness, "exchange.completed", order["id"])
        assert D(done["refund"]) == credit - total and done["exchange_order_id"] == new_order["id"]

        refund = PaymentRefunded(order_id=order["id"], payment_id=uuid.uuid4(), amount=credit - total,
                                 currency=order["currency"], refund_id=uuid.uuid4(), is_full=False,
                                 reason=f"Exchange {ex['number']}", return_id=ex["id"])
        envelope = await harness.deliver(refund)
        await harness.deliver(refund, envelope_id=envelope.id)  # redelivered
        [seen] = (await customer.client.get(returns_url(order), headers=customer.headers)).json()
        assert seen["status"] == "refunded"

        # The documents: the original's invoice, the credit note of the line that came back (no
        # second one for the refund), the exchange order's invoice for the new item.
        original = await invoice(harness, staff, order["id"])
        [note] = original["credit_notes"]
        assert D(note["amount"]) == credit and note["return_id"] == ex["id"]
        assert [(line["order_item_id"], line["quantity"], D(line["amount"])) for line in note["lines"]] == [
            (order["items"][0]["id"], 1, credit)]
        new_invoice = await invoice(harness, staff, new_order["id"])
        assert D(new_invoice["total_amount"]) == total
        await harness.drain()
        assert len(published(harness, "invoice.issued", new_order["id"])) == 1
        # Charged − refunded = what the customer keeps, line by line.
        kept = {order["items"][0]["id"]: charged(order["items"][0]) - credit,
                order["items"][1]["id"]: charged(order["items"][1]),
                new_order["items"][0]["id"]: charged(new_order["items"][0])}
        credited = {line["order_item_id"]: D(line["amount"]) for line in note["lines"]}
        invoiced = {item["id"]: charged(item) for item in order["items"] + new_order["items"]}
        assert {k: v - credited.get(k, D(0)) for k, v in invoiced.items()} == kept
        documents = D(original["total_amount"]) + D(new_invoice["total_amount"]) - D(original["credited"])
        money = D(order["total_amount"]) - (credit - total)  # paid once, refunded the difference
        shipping = D(order["total_amount"]) - sum((charged(item) for item in order["items"]), D(0))  # kept too
        assert documents == money == sum(kept.values(), D(0)) + shipping
        assert [e.data["action"] for e in harness.published("staff.action_recorded")
                if e.data["action"].startswith("exchange.")] == ["exchange.open", "exchange.receive"]

    async def test_an_even_exchange_moves_no_money(
            self, harness: ServiceHarness, customer: Customer, staff: Staff, platform: FakePlatform) -> None:
        order = await delivered_order(harness, customer, staff, platform, ("30.00", 1, "physical"))
        same_price = platform.product(price="30.00")
        ex = await exchanged(harness, staff, order, [(0, 1)], [(same_price["id"], 1)])
        assert D(ex["credit_amount"]) == D(ex["outgoing_total"])
        settled = (await receive(harness, staff, ex)).json()
        assert settled["status"] == "refunded" and D(settled["amount"]) == 0
        await harness.drain()
        [back] = published(harness, "return.received", order["id"])
        assert D(back["amount"]) == 0

    @pytest.mark.databases("sqlite", "postgres", why="parallel requests against the database's locks")
    async def test_receiving_twice_at_once_settles_once(
            self, harness: ServiceHarness, customer: Customer, staff: Staff, platform: FakePlatform) -> None:
        order = await delivered_order(harness, customer, staff, platform, ("30.00", 2, "physical"))
        ex = await exchanged(harness, staff, order, [(0, 2)], [(platform.product(price="5.00")["id"], 1)])
        answers = await asyncio.gather(receive(harness, staff, ex, restock=[True]),
                                       receive(harness, staff, ex, restock=[True]))
        assert sorted(a.status_code for a in answers) == [200, 409]
        await harness.drain()
        assert len(published(harness, "return.received", order["id"])) == 1
        assert len(published(harness, "exchange.completed", order["id"])) == 1
        notes = (await invoice(harness, staff, order["id"]))["credit_notes"]
        assert len(notes) == 1


class TestCustomerPays:
    async def test_the_new_items_wait_for_the_difference_to_be_paid(
            self, harness: ServiceHarness, customer: Customer, staff: Staff, platform: FakePlatform,
            service_headers: dict[str, str]) -> None:
        order = await delivered_order(harness, customer, staff, platform, ("30.00", 1, "physical"))
        dearer = platform.product(price="50.00")
        ex = await exchanged(harness, staff, order, [(0, 1)], [(dearer["id"], 1)])
        credit, total = D(ex["credit_amount"]), D(ex["outgoing_total"])
        assert total > credit and "/pay?order_id=" in ex["payment_url"]
        new_id = ex["replacement_order_id"]
        await harness.drain()
        [placed] = published(harness, "order.placed", new_id)
        assert placed["settled"] is False  # a reservation, paid or expired like any order's
        [link] = published(harness, "draft_order.sent", new_id)  # identity mails the link, as a draft's
        assert (link["payment_url"], D(link["total_amount"]), link["draft_id"]) == (
            ex["payment_url"], total - credit, ex["id"])
        await harness.deliver(StockReserved(order_id=new_id))
        assert (await customer.order(new_id))["status"] == "awaiting_payment"
        internal = (await harness.client.get(f"/internal/orders/{new_id}", headers=service_headers)).json()
        assert internal["is_payable"] is True and D(internal["amount_due"]) == total - credit
        new_order = await customer.order(new_id)
        await harness.deliver(paid(new_order, amount=total - credit))
        after = await customer.order(new_id)
        assert after["status"] == "paid"
        assert after["status_history"][-1]["note"] == "Payment confirmed"  # the amount due, no mismatch
        assert D((await invoice(harness, staff, new_id))["total_amount"]) == total
        settled = (await receive(harness, staff, ex)).json()
        assert settled["status"] == "refunded" and D(settled["amount"]) == 0  # nothing owed back
        # Charged − refunded: the original, plus the difference paid; the documents say the same.
        original = await invoice(harness, staff, order["id"])
        assert D(original["total_amount"]) + total - D(original["credited"]) == D(order["total_amount"]) + (
            total - credit)


class TestRequests:
    async def test_a_customer_requests_and_staff_approve(
            self, harness: ServiceHarness, customer: Customer, staff: Staff, platform: FakePlatform) -> None:
        order = await delivered_order(harness, customer, staff, platform, ("30.00", 1, "physical"))
        other = platform.product(price="20.00")
        response = await customer.client.post(f"/api/v1/orders/{order['id']}/exchanges",
                                               json=body(order, [(0, 1)], [(other["id"], 1)]),
                                               headers=customer.headers)
        assert response.status_code == 201, response.text
        asked = response.json()
        assert (asked["status"], asked["opened_by"], asked["replacement_order_id"]) == ("requested", "customer", None)
        assert_error(await receive(harness, staff, asked), 409, "RETURN_NOT_OPEN")  # approve first
        approved = await harness.client.post(f"/api/v1/staff/returns/{asked['id']}/approve", headers=staff.headers)
        assert approved.status_code == 200, approved.text
        assert approved.json()["status"] == "approved" and approved.json()["replacement_order_id"]
        await harness.drain()
        assert [e.data["action"] for e in harness.published("staff.action_recorded")
                if e.data["action"].startswith("exchange.")] == ["exchange.approve"]
        [requested] = published(harness, "exchange.requested", order["id"])
        assert requested["opened_by"] == "customer" and requested["exchange_order_id"] is None
        assert len(published(harness, "order.placed", approved.json()["replacement_order_id"])) == 1

    async def test_refusals_change_nothing(
            self, harness: ServiceHarness, customer: Customer, staff: Staff, platform: FakePlatform,
            other_customer: Customer) -> None:
        order = await delivered_order(harness, customer, staff, platform, ("30.00", 1, "physical"))
        digital = platform.product(price="5.00", kind="credit_pack", attributes={"credits": 10})
        assert_error(await exchange(harness, staff, order, [(0, 1)], [(digital["id"], 1)]), 400, "VALIDATION_ERROR")
        assert_error(await exchange(harness, staff, order, [(0, 1)], [(str(uuid.uuid4()), 1)]), 400,
                     "PRODUCT_UNAVAILABLE")
        other = platform.product(price="5.00")
        assert_error(await exchange(harness, staff, order, [(0, 2)], [(other["id"], 1)]), 409,
                     "RETURN_QUANTITY_EXCEEDED")
        stranger = await other_customer.client.post(f"/api/v1/orders/{order['id']}/exchanges",
                                                    json=body(order, [(0, 1)], [(other["id"], 1)]),
                                                    headers=other_customer.headers)
        assert_error(stranger, 404, "NOT_FOUND")
        assert (await customer.client.get(returns_url(order), headers=customer.headers)).json() == []

    async def test_out_of_stock_rejects_the_exchange_and_frees_its_units(
            self, harness: ServiceHarness, customer: Customer, staff: Staff, platform: FakePlatform) -> None:
        order = await delivered_order(harness, customer, staff, platform, ("30.00", 1, "physical"))
        ex = await exchanged(harness, staff, order, [(0, 1)], [(platform.product(price="9.00")["id"], 1)])
        await harness.deliver(StockRejected(order_id=ex["replacement_order_id"], reason="insufficient stock"))
        [seen] = (await customer.client.get(returns_url(order), headers=customer.headers)).json()
        assert seen["status"] == "rejected" and "insufficient stock" in seen["note"]
        again = await exchanged(harness, staff, order, [(0, 1)], [(platform.product(price="9.00")["id"], 1)])
        assert again["status"] == "approved"

    async def test_the_exchange_order_cancelled_before_the_lines_come_back_calls_the_exchange_off(
            self, harness: ServiceHarness, customer: Customer, staff: Staff, platform: FakePlatform) -> None:
        order = await delivered_order(harness, customer, staff, platform, ("30.00", 1, "physical"))
        ex = await exchanged(harness, staff, order, [(0, 1)], [(platform.product(price="50.00")["id"], 1)])
        await harness.deliver(StockReserved(order_id=ex["replacement_order_id"]))
        cancelled = await staff.moved(ex["replacement_order_id"], "cancelled")
        assert cancelled["status"] == "cancelled"
        [seen] = (await customer.client.get(returns_url(order), headers=customer.headers)).json()
        assert seen["status"] == "rejected" and "cancelled" in seen["note"]
        assert_error(await receive(harness, staff, ex), 409, "RETURN_NOT_OPEN")
        history = (await customer.order(order["id"]))["status_history"]
        assert history[-1]["note"].startswith(f"Exchange {ex['number']}: exchange order ")
