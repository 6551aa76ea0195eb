"""Claims: staff settle damaged or missing units of a shipped or delivered order at once, by a
refund (as a received return's, through `return.received`, nothing restocked) or by a replacement
order at no charge (`order.placed` settled; paid, never invoiced, once catalog holds its stock).
A claimed unit is held as a returned one: never claimed or returned twice."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest

from atelier_common.contracts.catalog import StockRejected, StockReserved
from atelier_testing import ServiceHarness, TestKeys

from ..conftest import Customer, FakePlatform, Staff, assert_error
from ..events.test_saga import paid
from .test_returns import delivered_order, open_return, published, refunded, returns_url


async def claim(harness: ServiceHarness, headers: dict[str, str], order: dict[str, Any], *lines: tuple[int, int],
                resolution: str, reason: str = "Arrived cracked") -> httpx.Response:
    body = {"items": [{"order_item_id": order["items"][i]["id"], "quantity": q} for i, q in lines],
            "reason": reason, "resolution": resolution}
    return await harness.client.post(f"/api/v1/staff/orders/{order['id']}/claims", json=body, headers=headers)


async def claimed(harness: ServiceHarness, staff: Staff, order: dict[str, Any], *lines: tuple[int, int],
                  resolution: str) -> dict[str, Any]:
    response = await claim(harness, staff.headers, order, *lines, resolution=resolution)
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


class TestRefund:
    async def test_a_refund_claim_is_refunded_once_like_a_received_return_and_restocks_nothing(
            self, harness: ServiceHarness, customer: Customer, staff: Staff, platform: FakePlatform) -> None:
        order = await delivered_order(harness, customer, staff, platform, ("30.00", 2, "physical"))
        settled = await claimed(harness, staff, order, (0, 1), resolution="refund")
        assert (settled["kind"], settled["resolution"], settled["status"]) == ("claim", "refund", "received")
        # One of two units: half of what the line was charged (its tax included).
        line = order["items"][0]
        charged = float(line["line_total"]) - float(line["discount_amount"]) + float(line["tax_amount"])
        assert float(settled["amount"]) == pytest.approx(charged / 2, abs=0.01)
        assert settled["replacement_order_id"] is None
        await harness.drain()
        [requested] = published(harness, "return.requested", order["id"])
        [received] = published(harness, "return.received", order["id"])
        assert (requested["kind"], requested["resolution"]) == ("claim", "refund")
        assert received["kind"] == "claim" and received["amount"] == settled["amount"]
        assert [item["resaleable"] for item in received["items"]] == [False]  # nothing back on the shelf
        await harness.deliver(refunded(order, settled, settled["amount"]))
        [seen] = (await customer.client.get(returns_url(order), headers=customer.headers)).json()
        assert (seen["status"], seen["refunded_amount"]) == ("refunded", settled["amount"])
        notes = [entry["note"] for entry in (await customer.order(order["id"]))["status_history"]]
        assert notes[-3:-1] == [f"Claim {settled['number']} requested: Arrived cracked",
                                f"Claim {settled['number']} settled; refund of {settled['amount']} USD"]
        assert [e.data["action"] for e in harness.published("staff.action_recorded")
                if e.data["action"].startswith(("claim.", "return."))] == ["claim.open"]


class TestReplacement:
    async def test_a_replacement_is_an_order_at_no_charge_paid_when_its_stock_is_held_and_never_invoiced(
            self, harness: ServiceHarness, customer: Customer, staff: Staff, platform: FakePlatform,
            service_headers: dict[str, str]) -> None:
        order = await delivered_order(harness, customer, staff, platform, ("30.00", 2, "physical"),
                                      ("12.00", 1, "physical"))
        settled = await claimed(harness, staff, order, (0, 1), (1, 1), resolution="replace")
        assert (settled["kind"], settled["resolution"], settled["status"]) == ("claim", "replace", "replaced")
        assert settled["amount"] is None
        replacement = await customer.order(settled["replacement_order_id"])  # the customer's own order
        assert replacement["replaces_order_id"] == order["id"] and replacement["status"] == "pending"
        assert replacement["total_amount"] == "0.00" and replacement["tax_amount"] == "0.00"
        assert [(i["product_id"], i["quantity"], i["unit_price"]) for i in replacement["items"]] == [
            (order["items"][0]["product_id"], 1, "0.00"), (order["items"][1]["product_id"], 1, "0.00")]
        assert replacement["shipping_address"] == order["shipping_address"]
        await harness.drain()
        [placed] = published(harness, "order.placed", replacement["id"])
        assert placed["settled"] is True and [line["quantity"] for line in placed["lines"]] == [1, 1]
        internal = (await harness.client.get(f"/internal/orders/{replacement['id']}", headers=service_headers)).json()
        assert internal["is_payable"] is False  # nothing to pay, even before catalog answers
        await harness.deliver(StockReserved(order_id=replacement["id"]))
        ready = await customer.order(replacement["id"])
        assert ready["status"] == "paid"
        await harness.drain()
        assert published(harness, "invoice.issued", replacement["id"]) == []
        # Shipped like any order.
        shipped = await staff.moved(replacement["id"], "processing", "shipped", tracking_number="TRK-2")
        assert shipped["status"] == "shipped"
        history = (await customer.order(order["id"]))["status_history"]
        assert history[-1]["note"] == f"Claim {settled['number']}: replacement {replacement['order_number']} at no charge"
        assert not published(harness, "return.received", order["id"])  # no refund asked


    async def test_a_replacement_out_of_stock_frees_the_claims_units_for_a_refund(
            self, harness: ServiceHarness, customer: Customer, staff: Staff, platform: FakePlatform) -> None:
        order = await delivered_order(harness, customer, staff, platform, ("30.00", 1, "physical"))
        settled = await claimed(harness, staff, order, (0, 1), resolution="replace")
        await harness.deliver(StockRejected(order_id=settled["replacement_order_id"], reason="insufficient stock"))
        assert (await customer.order(settled["replacement_order_id"]))["status"] == "rejected"
        [seen] = (await customer.client.get(returns_url(order), headers=customer.headers)).json()
        assert seen["status"] == "rejected" and "refused" in seen["note"]
        history = (await customer.order(order["id"]))["status_history"]
        assert history[-1]["note"].startswith(f"Claim {settled['number']}: replacement ")
        await harness.drain()
        assert [e["number"] for e in published(harness, "return.rejected", order["id"])] == [settled["number"]]
        refund = await claimed(harness, staff, order, (0, 1), resolution="refund")  # the unit is free again
        assert refund["status"] == "received"


class TestRules:
    async def test_refusals_change_nothing(self, harness: ServiceHarness, customer: Customer, staff: Staff,
                                           platform: FakePlatform, test_keys: TestKeys) -> None:
        order = await delivered_order(harness, customer, staff, platform, ("30.00", 2, "physical"),
                                      ("5.00", 1, "credit_pack"))
        assert_error(await claim(harness, customer.headers, order, (0, 1), resolution="refund"), 403,
                     "PERMISSION_DENIED")
        merchandiser = test_keys.staff_headers("merchandiser")
        assert_error(await claim(harness, merchandiser, order, (0, 1), resolution="refund"), 403, "PERMISSION_DENIED")
        assert_error(await claim(harness, staff.headers, order, (1, 1), resolution="refund"), 400,
                     "VALIDATION_ERROR")  # a credit pack was never shipped: a plain refund
        bad = await harness.client.post(f"/api/v1/staff/orders/{order['id']}/claims", headers=staff.headers,
                                        json={"items": [{"order_item_id": order["items"][0]["id"]}],
                                              "reason": "x", "resolution": "store_credit"})
        assert_error(bad, 400, "VALIDATION_ERROR")
        missing = await harness.client.post("/api/v1/staff/orders/8c1f4e3a-0000-4000-8000-000000000000/claims",
                                            headers=staff.headers, json={
                                                "items": [{"order_item_id": order["items"][0]["id"]}],
                                                "reason": "x", "resolution": "refund"})
        assert_error(missing, 404, "NOT_FOUND")
        unshipped = await customer.placed(items=[{"product_id": order["items"][0]["product_id"]}],
                                          shipping_address_id=platform.address(customer.owner_id))
        await harness.deliver(paid(unshipped))
        error = assert_error(await claim(harness, staff.headers, unshipped, (0, 1), resolution="replace"), 409,
                             "ORDER_NOT_RETURNABLE")
        assert error["details"]["status"] == "paid"
        assert (await customer.client.get(returns_url(order), headers=customer.headers)).json() == []

    async def test_a_claimed_unit_is_never_returned_or_claimed_again(
            self, harness: ServiceHarness, customer: Customer, staff: Staff, platform: FakePlatform) -> None:
        order = await delivered_order(harness, customer, staff, platform, ("30.00", 2, "physical"))
        await claimed(harness, staff, order, (0, 1), resolution="replace")
        error = assert_error(await open_return(customer, order, (0, 2)), 409, "RETURN_QUANTITY_EXCEEDED")
        assert error["details"]["returnable"][order["items"][0]["id"]] == 1
        assert_error(await claim(harness, staff.headers, order, (0, 2), resolution="refund"), 409,
                     "RETURN_QUANTITY_EXCEEDED")
        await claimed(harness, staff, order, (0, 1), resolution="refund")
        assert_error(await claim(harness, staff.headers, order, (0, 1), resolution="replace"), 409,
                     "RETURN_QUANTITY_EXCEEDED")

    @pytest.mark.databases("sqlite", "postgres", why="parallel requests against the database's locks")
    async def test_claims_at_once_for_the_last_unit_settle_one(
            self, harness: ServiceHarness, customer: Customer, staff: Staff, platform: FakePlatform) -> None:
        order = await delivered_order(harness, customer, staff, platform, ("30.00", 1, "physical"))
        answers = await asyncio.gather(
            claim(harness, staff.headers, order, (0, 1), resolution="replace"),
            claim(harness, staff.headers, order, (0, 1), resolution="refund"),
            claim(harness, staff.headers, order, (0, 1), resolution="replace"))
        assert sorted(a.status_code for a in answers) == [201, 409, 409]
        await harness.drain()
        # One settlement: either one replacement order or one refund asked, never both.
        replacements = [e for e in harness.published("order.placed") if e.data.get("settled")]
        refunds = published(harness, "return.received", order["id"])
        assert len(replacements) + len(refunds) == 1
