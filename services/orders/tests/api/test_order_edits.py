"""Order edits: staff lower quantities or remove lines of an order that has not shipped, previewed
then confirmed; re-priced by the same rules as at checkout, versioned, refunded once through
payments (`order.edited`, whose `payment.refunded` credits the refund) and refused once the order
has shipped, including when the shipment races the edit."""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qs, urlparse

import httpx
import pytest

from atelier_common import payment_links
from atelier_common.contracts.catalog import StockEditRejected, StockEditReserved, StockLine, StockReserved
from atelier_common.contracts.identity import CustomerGroupChanged, StorefrontPolicies
from atelier_common.contracts.payments import OrderEditPaid, PaymentRefunded
from atelier_orders.edits.service import OrderEdits
from atelier_orders.models import utcnow
from atelier_orders.settings import OrdersSettings
from atelier_testing import ServiceHarness, TestKeys
from atelier_testing.storefronts import add_storefront, make_storefront

from ..conftest import Customer, FakePlatform, Staff, assert_error
from ..events.test_saga import paid
from .test_invoices import _assert_pdf, _invoice
from .test_promotions import promotions
from .test_returns import opened, published, receive


def edits_url(order: dict[str, Any], *, preview: bool = False) -> str:
    return f"/api/v1/staff/orders/{order['id']}/edits" + ("/preview" if preview else "")


async def edit(harness: ServiceHarness, headers: dict[str, str], order: dict[str, Any], *lines: tuple[int, int],
               reason: str = "Customer asked by phone", preview: bool = False) -> httpx.Response:
    body = {"changes": [{"order_item_id": order["items"][i]["id"], "quantity": q} for i, q in lines],
            "reason": reason}
    return await harness.client.post(edits_url(order, preview=preview), json=body, headers=headers)


async def edited(harness: ServiceHarness, staff: Staff, order: dict[str, Any], *lines: tuple[int, int],
                 preview: bool = False) -> dict[str, Any]:
    response = await edit(harness, staff.headers, order, *lines, preview=preview)
    assert response.status_code == (200 if preview else 201), response.text
    body: dict[str, Any] = response.json()
    return body


async def paid_order(harness: ServiceHarness, customer: Customer, platform: FakePlatform,
                     *lines: tuple[str, int]) -> dict[str, Any]:
    """An order of (price, quantity) goods, its stock held and paid."""
    products = [platform.product(price=price) for price, _ in lines]
    order = await customer.placed(items=[{"product_id": p["id"], "quantity": q}
                                         for p, (_, q) in zip(products, lines, strict=True)],
                                  shipping_address_id=platform.address(customer.owner_id))
    await harness.deliver(StockReserved(order_id=order["id"]))
    await harness.deliver(paid(order))
    return await customer.order(order["id"])


def charged(line: dict[str, Any]) -> Decimal:
    """What an order line was charged (its price less its discount, plus its tax when added)."""
    tax = Decimal("0") if line["tax_inclusive"] else Decimal(line["tax_amount"])
    return Decimal(line["line_total"]) - Decimal(line["discount_amount"]) + tax


def refunded(order: dict[str, Any], edit_id: str, amount: str) -> PaymentRefunded:
    return PaymentRefunded(order_id=order["id"], payment_id=uuid.uuid4(), amount=Decimal(amount),
                           currency=order["currency"], refund_id=uuid.uuid4(), is_full=False,
                           reason="Order edit v1", return_id=edit_id)


class TestPreviewAndConfirm:
    async def test_a_paid_order_is_edited_down_versioned_refunded_once_and_credited(
            self, harness: ServiceHarness, customer: Customer, staff: Staff, platform: FakePlatform) -> None:
        order = await paid_order(harness, customer, platform, ("30.00", 2), ("12.00", 1))
        preview = await edited(harness, staff, order, (0, 1), preview=True)
        # The refund is the removed unit's share of what its line was charged.
        share = charged(order["items"][0]) / 2
        assert Decimal(preview["refund"]) == pytest.approx(share, abs=Decimal("0.01"))
        assert Decimal(preview["total"]) == Decimal(order["total_amount"]) - Decimal(preview["refund"])
        assert Decimal(preview["difference"]) == -Decimal(preview["refund"])
        assert [(line["old_quantity"], line["new_quantity"]) for line in preview["lines"]] == [(2, 1), (1, 1)]
        assert preview["version"] == 1 and preview["promotions_lost"] == []
        assert (await customer.order(order["id"]))["total_amount"] == order["total_amount"]  # preview: no change

        confirmed = await edited(harness, staff, order, (0, 1))
        assert (confirmed["total"], confirmed["refund"]) == (preview["total"], preview["refund"])
        edit = confirmed["edit"]
        assert (edit["version"], edit["old_total"], edit["new_total"]) == (1, order["total_amount"], preview["total"])
        after = await customer.order(order["id"])
        assert after["total_amount"] == preview["total"] and after["status"] == "paid"
        assert [i["quantity"] for i in after["items"]] == [1, 1]
        assert after["status_history"][-1]["note"].startswith("Edit v1: ")
        await harness.drain()
        [event] = published(harness, "order.edited", order["id"])
        assert (event["edit_id"], event["edit_version"], event["refund"]) == (edit["id"], 1, preview["refund"])
        assert [(line["sku"], line["old_quantity"], line["new_quantity"]) for line in event["lines"]] == [
            (order["items"][0]["sku"], 2, 1)]
        assert [e.data["action"] for e in harness.published("staff.action_recorded")
                if e.data["action"].startswith("order.")] == ["order.edit"]

        # Payments refunds it and says so, naming the edit: the edit is refunded, the refund credited.
        await harness.deliver(refunded(order, edit["id"], preview["refund"]))
        [version] = (await harness.client.get(edits_url(order), headers=staff.headers)).json()
        assert version["refund_id"] is not None and version["refunded_at"] is not None
        assert version["changes"] == [{"order_item_id": order["items"][0]["id"], "sku": order["items"][0]["sku"],
                                       "product_id": order["items"][0]["product_id"], "variant_id": None,
                                       "name": order["items"][0]["name"], "old_quantity": 2, "new_quantity": 1}]
        assert (version["status"], version["note"]) == ("applied", None)
        invoice = await _invoice(customer, order["id"])
        assert invoice["credited"] == preview["refund"] and len(invoice["credit_notes"]) == 1
        # Staff's picture: its version, and a refund that is partial of what was charged (not of the new total).
        picture = (await harness.client.get(f"/api/v1/staff/orders/{order['id']}", headers=staff.headers)).json()
        assert (picture["edit_version"], picture["refund_state"]) == (1, "partial")

    async def test_removing_a_line_and_a_second_edit_make_version_two(
            self, harness: ServiceHarness, customer: Customer, staff: Staff, platform: FakePlatform) -> None:
        order = await paid_order(harness, customer, platform, ("30.00", 2), ("12.00", 1))
        first = await edited(harness, staff, order, (1, 0))
        assert [line["new_quantity"] for line in first["lines"]] == [2, 0]
        assert Decimal(first["refund"]) == pytest.approx(charged(order["items"][1]), abs=Decimal("0.01"))
        after = await customer.order(order["id"])
        assert [i["id"] for i in after["items"]] == [order["items"][0]["id"]]
        second = await edited(harness, staff, after, (0, 1))
        assert second["edit"]["version"] == 2 and second["edit"]["old_total"] == first["total"]
        versions = (await harness.client.get(edits_url(order), headers=staff.headers)).json()
        assert [(v["version"], v["old_total"], v["new_total"]) for v in versions] == [
            (1, order["total_amount"], first["total"]), (2, first["total"], second["total"])]
        # Never more than was paid, across versions.
        assert sum(Decimal(v["refund_amount"]) for v in versions) <= Decimal(order["total_amount"])

    async def test_an_unpaid_order_changes_its_lines_and_total_without_a_refund(
            self, harness: ServiceHarness, customer: Customer, staff: Staff, platform: FakePlatform) -> None:
        lamp = platform.product(price="30.00")
        order = await customer.placed(items=[{"product_id": lamp["id"], "quantity": 3}],
                                      shipping_address_id=platform.address(customer.owner_id))
        await harness.deliver(StockReserved(order_id=order["id"]))
        assert (await customer.order(order["id"]))["status"] == "awaiting_payment"
        confirmed = await edited(harness, staff, order, (0, 1))
        assert confirmed["refund"] == "0.00" and Decimal(confirmed["total"]) < Decimal(order["total_amount"])
        assert (await customer.order(order["id"]))["total_amount"] == confirmed["total"]
        await harness.drain()
        [event] = published(harness, "order.edited", order["id"])
        assert event["refund"] == "0.00" and event["lines"][0]["old_quantity"] - event["lines"][0]["new_quantity"] == 2


    async def test_a_return_after_an_edit_refunds_what_the_units_left_were_charged(
            self, harness: ServiceHarness, customer: Customer, staff: Staff, platform: FakePlatform) -> None:
        order = await paid_order(harness, customer, platform, ("30.00", 2), ("12.00", 1))
        confirmed = await edited(harness, staff, order, (0, 1))
        await harness.deliver(refunded(order, confirmed["edit"]["id"], confirmed["refund"]))
        delivered = await staff.moved(order["id"], "processing", "shipped", "delivered", tracking_number="TRK-1")
        ret = await opened(customer, delivered, (0, 1), (1, 1))
        response = await receive(harness, staff, ret, refund_shipping=True)
        assert response.status_code == 200, response.text
        # Everything left, shipping included: exactly the edited order's total (what is left of the payment).
        assert response.json()["amount"] == confirmed["total"]


class TestPricing:
    async def test_the_edited_order_costs_what_placing_its_lines_would_and_a_lost_minimum_drops_the_promotion(
            self, harness: ServiceHarness, test_keys: TestKeys, customer: Customer, staff: Staff,
            platform: FakePlatform) -> None:
        promotion = await promotions(harness, test_keys).create(name="10% from 50", value="10", min_subtotal="50")
        lamp = platform.product(price="30.00")
        address = platform.address(customer.owner_id)
        order = await customer.placed(items=[{"product_id": lamp["id"], "quantity": 2}], shipping_address_id=address)
        assert order["discount"] == "6.00"
        await harness.deliver(StockReserved(order_id=order["id"]))
        await harness.deliver(paid(order))
        preview = await edited(harness, staff, order, (0, 1), preview=True)
        assert preview["discount"] == "0.00"
        assert [p["promotion_id"] for p in preview["promotions_lost"]] == [promotion["id"]]
        # The same pricing function: an order of what remains, placed now, costs the same.
        fresh = await customer.placed(items=[{"product_id": lamp["id"], "quantity": 1}], shipping_address_id=address)
        assert (preview["subtotal"], preview["tax_amount"], preview["total"]) == (
            fresh["subtotal"], fresh["tax_amount"], fresh["total_amount"])
        assert Decimal(preview["refund"]) == Decimal(order["total_amount"]) - Decimal(fresh["total_amount"])
        confirmed = await edited(harness, staff, order, (0, 1))
        assert (await customer.order(order["id"]))["discounts"] == []
        assert confirmed["total"] == fresh["total_amount"]

    async def test_a_kept_promotion_is_shared_again_over_the_lines_left(
            self, harness: ServiceHarness, test_keys: TestKeys, customer: Customer, staff: Staff,
            platform: FakePlatform) -> None:
        await promotions(harness, test_keys).create(name="10% off", value="10")
        lamp, hat = platform.product(price="30.00"), platform.product(price="12.00")
        address = platform.address(customer.owner_id)
        order = await customer.placed(items=[{"product_id": lamp["id"], "quantity": 2}, {"product_id": hat["id"]}],
                                      shipping_address_id=address)
        await harness.deliver(StockReserved(order_id=order["id"]))
        await harness.deliver(paid(order))
        preview = await edited(harness, staff, order, (1, 0), preview=True)
        fresh = await customer.placed(items=[{"product_id": lamp["id"], "quantity": 2}], shipping_address_id=address)
        assert (preview["discount"], preview["total"]) == (fresh["discount"], fresh["total_amount"])


class TestRefusals:
    async def test_refusals_change_nothing(self, harness: ServiceHarness, customer: Customer, staff: Staff,
                                           platform: FakePlatform, test_keys: TestKeys) -> None:
        order = await paid_order(harness, customer, platform, ("30.00", 2), ("12.00", 1))
        assert_error(await edit(harness, customer.headers, order, (0, 1)), 403, "PERMISSION_DENIED")
        assert_error(await edit(harness, test_keys.staff_headers("merchandiser"), order, (0, 1)), 403,
                     "PERMISSION_DENIED")
        assert_error(await edit(harness, staff.headers, order, (0, 2)), 400, "VALIDATION_ERROR")  # nothing changes
        assert_error(await edit(harness, staff.headers, order, (0, 0), (1, 0)), 400, "VALIDATION_ERROR")
        stranger = {**order, "items": [{"id": str(uuid.uuid4())}]}
        assert_error(await edit(harness, staff.headers, stranger, (0, 1)), 400, "VALIDATION_ERROR")
        assert_error(await harness.client.post(f"/api/v1/staff/orders/{uuid.uuid4()}/edits", headers=staff.headers,
                                               json={"changes": [{"order_item_id": order["items"][0]["id"],
                                                                  "quantity": 1}], "reason": "x"}),
                     404, "NOT_FOUND")
        await staff.moved(order["id"], "processing", "shipped", tracking_number="TRK-1")
        error = assert_error(await edit(harness, staff.headers, order, (0, 1)), 409, "ORDER_NOT_EDITABLE")
        assert error["details"]["status"] == "shipped"
        assert_error(await edit(harness, staff.headers, order, (0, 1), preview=True), 409, "ORDER_NOT_EDITABLE")
        after = await customer.order(order["id"])
        assert after["total_amount"] == order["total_amount"] and [i["quantity"] for i in after["items"]] == [2, 1]
        assert (await harness.client.get(edits_url(order), headers=staff.headers)).json() == []
        await harness.drain()
        assert published(harness, "order.edited", order["id"]) == []

    async def test_a_pending_or_cancelled_order_is_not_editable(
            self, harness: ServiceHarness, customer: Customer, staff: Staff, platform: FakePlatform) -> None:
        lamp = platform.product(price="30.00")
        order = await customer.placed(items=[{"product_id": lamp["id"], "quantity": 2}],
                                      shipping_address_id=platform.address(customer.owner_id))
        error = assert_error(await edit(harness, staff.headers, order, (0, 1)), 409, "ORDER_NOT_EDITABLE")
        assert error["details"]["status"] == "pending"
        await staff.moved(order["id"], "cancelled")
        assert_error(await edit(harness, staff.headers, order, (0, 1)), 409, "ORDER_NOT_EDITABLE")


class TestRaces:
    @pytest.mark.databases("sqlite", "postgres", why="parallel requests against the order's row lock")
    async def test_an_edit_racing_the_shipment_either_edits_first_or_refunds_nothing(
            self, harness: ServiceHarness, customer: Customer, staff: Staff, platform: FakePlatform) -> None:
        order = await paid_order(harness, customer, platform, ("30.00", 2))
        await staff.moved(order["id"], "processing")
        editing, shipping = await asyncio.gather(
            edit(harness, staff.headers, order, (0, 1)),
            staff.set_status(order["id"], "shipped", tracking_number="TRK-1"))
        assert shipping.status_code == 200, shipping.text
        after = await customer.order(order["id"])
        await harness.drain()
        events = published(harness, "order.edited", order["id"])
        if editing.status_code == 201:  # the edit took the lock first: the order shipped as edited
            assert [i["quantity"] for i in after["items"]] == [1] and len(events) == 1
        else:
            assert_error(editing, 409, "ORDER_NOT_EDITABLE")
            assert [i["quantity"] for i in after["items"]] == [2] and events == []
            assert after["total_amount"] == order["total_amount"]

    @pytest.mark.databases("sqlite", "postgres", why="parallel requests against the order's row lock")
    async def test_two_edits_at_once_take_versions_in_turn_and_never_refund_more_than_paid(
            self, harness: ServiceHarness, customer: Customer, staff: Staff, platform: FakePlatform) -> None:
        order = await paid_order(harness, customer, platform, ("30.00", 3), ("12.00", 2))
        answers = await asyncio.gather(edit(harness, staff.headers, order, (0, 1)),
                                       edit(harness, staff.headers, order, (1, 1)))
        assert [a.status_code for a in answers] == [201, 201], [a.text for a in answers]
        versions = (await harness.client.get(edits_url(order), headers=staff.headers)).json()
        assert [v["version"] for v in versions] == [1, 2]
        assert versions[1]["old_total"] == versions[0]["new_total"]
        after = await customer.order(order["id"])
        assert [i["quantity"] for i in after["items"]] == [1, 1]
        refunds = sum(Decimal(v["refund_amount"]) for v in versions)
        assert refunds == Decimal(order["total_amount"]) - Decimal(after["total_amount"])
        assert refunds <= Decimal(order["total_amount"])


class TestRaisingAndAdding:
    """Raising a line and adding a catalog line are previewed, priced by the same function, with the
    amount they leave due; confirming them is refused until their stock is reserved and charged."""

    async def test_a_raised_paid_order_previews_the_difference_due(
            self, harness: ServiceHarness, customer: Customer, staff: Staff, platform: FakePlatform) -> None:
        order = await paid_order(harness, customer, platform, ("30.00", 1), ("12.00", 2))
        preview = await edited(harness, staff, order, (0, 3), (1, 1), preview=True)
        # The same pricing function: an order of these quantities, placed now, costs the same.
        lamp, hat = (line["product_id"] for line in order["items"])
        fresh = await customer.placed(items=[{"product_id": lamp, "quantity": 3}, {"product_id": hat, "quantity": 1}],
                                      shipping_address_id=platform.address(customer.owner_id))
        assert (preview["subtotal"], preview["tax_amount"], preview["total"]) == (
            fresh["subtotal"], fresh["tax_amount"], fresh["total_amount"])
        difference = Decimal(fresh["total_amount"]) - Decimal(order["total_amount"])
        assert difference > 0 and Decimal(preview["difference"]) == difference
        # A mixed edit: the net difference decides; here it is due, nothing refunded.
        assert Decimal(preview["amount_due"]) == difference and preview["refund"] == "0.00"
        assert [(line["old_quantity"], line["new_quantity"]) for line in preview["lines"]] == [(1, 3), (2, 1)]
        assert (await harness.client.get(edits_url(order), headers=staff.headers)).json() == []

    async def test_an_added_variant_is_priced_as_placing_it_and_an_unpaid_order_owes_nothing_more(
            self, harness: ServiceHarness, customer: Customer, staff: Staff, platform: FakePlatform) -> None:
        lamp = platform.product(price="30.00")
        shade = platform.product(price="9.00", variants=[{"sku": "SHADE-RED", "price": "11.00"}], tax_class="reduced")
        address = platform.address(customer.owner_id)
        order = await customer.placed(items=[{"product_id": lamp["id"], "quantity": 2}], shipping_address_id=address)
        await harness.deliver(StockReserved(order_id=order["id"]))
        variant = shade["variants"][0]["id"]
        body = {"changes": [], "additions": [{"product_id": shade["id"], "variant_id": variant, "quantity": 2}],
                "reason": "Customer wants the red shade too"}
        response = await harness.client.post(edits_url(order, preview=True), json=body, headers=staff.headers)
        assert response.status_code == 200, response.text
        preview = response.json()
        fresh = await customer.placed(items=[{"product_id": lamp["id"], "quantity": 2},
                                             {"product_id": shade["id"], "variant_id": variant, "quantity": 2}],
                                      shipping_address_id=address)
        assert (preview["subtotal"], preview["tax_amount"], preview["total"]) == (
            fresh["subtotal"], fresh["tax_amount"], fresh["total_amount"])
        added = preview["lines"][1]
        assert (added["order_item_id"], added["variant_id"], added["sku"], added["old_quantity"],
                added["new_quantity"], added["unit_price"]) == (None, variant, "SHADE-RED", 0, 2, "11.00")
        # Awaiting payment: the payment will charge the new total; nothing is due on top.
        assert Decimal(preview["difference"]) > 0 and preview["amount_due"] == "0.00"


class TestAddingToAnUnpaidOrder:
    """An edit that adds units to an unpaid order waits for catalog to hold them (`pending`), then
    applies, priced as previewed, or is refused with the order unchanged; once either way."""

    @staticmethod
    async def unpaid(harness: ServiceHarness, customer: Customer, platform: FakePlatform) -> dict[str, Any]:
        lamp = platform.product(price="30.00")
        order = await customer.placed(items=[{"product_id": lamp["id"], "quantity": 2}],
                                      shipping_address_id=platform.address(customer.owner_id))
        await harness.deliver(StockReserved(order_id=order["id"]))
        return order

    @staticmethod
    async def requested(harness: ServiceHarness, staff: Staff, order: dict[str, Any],
                        *additions: dict[str, Any], lines: tuple[tuple[int, int], ...] = ((0, 3),)) -> dict[str, Any]:
        body = {"changes": [{"order_item_id": order["items"][i]["id"], "quantity": q} for i, q in lines],
                "additions": list(additions), "reason": "Customer called to add more"}
        response = await harness.client.post(edits_url(order), json=body, headers=staff.headers)
        assert response.status_code == 201, response.text
        answer: dict[str, Any] = response.json()
        assert answer["edit"]["status"] == "pending"
        return answer

    async def test_held_units_apply_the_edit_once_and_the_payment_charges_the_new_total(
            self, harness: ServiceHarness, customer: Customer, staff: Staff, platform: FakePlatform) -> None:
        order = await self.unpaid(harness, customer, platform)
        hat = platform.product(price="12.00")
        answer = await self.requested(harness, staff, order, {"product_id": hat["id"], "quantity": 1})
        edit_id = answer["edit"]["id"]
        # Nothing changes before catalog holds the units.
        waiting = await customer.order(order["id"])
        assert waiting["total_amount"] == order["total_amount"] and len(waiting["items"]) == 1
        await harness.drain()
        [asked] = published(harness, "order.edit_requested", order["id"])
        assert sorted((line["product_id"], line["quantity"]) for line in asked["lines"]) == sorted(
            [(order["items"][0]["product_id"], 1), (hat["id"], 1)])
        assert published(harness, "order.edited", order["id"]) == []
        held = StockEditReserved(order_id=order["id"], edit_id=edit_id)
        envelope = await harness.deliver(held)
        await harness.deliver(held, envelope_id=envelope.id)  # redelivered
        await harness.deliver(StockEditReserved(order_id=order["id"], edit_id=edit_id))  # said again
        after = await customer.order(order["id"])
        assert after["total_amount"] == answer["total"] and after["status"] == "awaiting_payment"
        assert [(i["sku"], i["quantity"]) for i in after["items"]] == [(order["items"][0]["sku"], 3), (hat["sku"], 1)]
        [version] = (await harness.client.get(edits_url(order), headers=staff.headers)).json()
        assert (version["status"], version["new_total"], version["refund_amount"]) == ("applied", answer["total"],
                                                                                       "0.00")
        await harness.drain()
        [edited_event] = published(harness, "order.edited", order["id"])
        assert edited_event["refund"] == "0.00" and {line["order_item_id"] for line in edited_event["lines"]} == {
            i["id"] for i in after["items"]}
        await harness.deliver(paid(after))
        assert (await customer.order(order["id"]))["status"] == "paid"

    async def test_stock_refused_keeps_the_order_and_says_why(
            self, harness: ServiceHarness, customer: Customer, staff: Staff, platform: FakePlatform) -> None:
        order = await self.unpaid(harness, customer, platform)
        answer = await self.requested(harness, staff, order)
        error = assert_error(await edit(harness, staff.headers, order, (0, 1)), 409, "ORDER_EDIT_UNSUPPORTED")
        assert error["details"]["reason"] == "edit_pending"
        await harness.deliver(StockEditRejected(
            order_id=order["id"], edit_id=answer["edit"]["id"], reason="insufficient_stock",
            lines=[StockLine(product_id=order["items"][0]["product_id"], requested=1, available=0)]))
        after = await customer.order(order["id"])
        assert after["total_amount"] == order["total_amount"] and [i["quantity"] for i in after["items"]] == [2]
        [version] = (await harness.client.get(edits_url(order), headers=staff.headers)).json()
        assert version["status"] == "refused" and "insufficient_stock" in version["note"]
        assert order["items"][0]["sku"] in version["note"]
        history = (await harness.client.get(f"/api/v1/staff/orders/{order['id']}", headers=staff.headers)).json()
        assert any("Edit v1 refused" in (h["note"] or "") for h in history["status_history"])
        await harness.drain()
        assert published(harness, "order.edited", order["id"]) == []
        assert published(harness, "order.edit_refused", order["id"]) == []  # catalog took nothing
        # The next edit may go ahead: a later version.
        assert (await edited(harness, staff, order, (0, 1)))["edit"]["version"] == 2

    async def test_an_order_paid_before_its_units_are_held_charges_the_difference(
            self, harness: ServiceHarness, customer: Customer, staff: Staff, platform: FakePlatform) -> None:
        order = await self.unpaid(harness, customer, platform)
        answer = await self.requested(harness, staff, order)
        await harness.deliver(paid(order))
        await harness.deliver(StockEditReserved(order_id=order["id"], edit_id=answer["edit"]["id"]))
        after = await customer.order(order["id"])
        assert after["status"] == "paid" and after["total_amount"] == order["total_amount"]
        assert [i["quantity"] for i in after["items"]] == [2]
        [version] = (await harness.client.get(edits_url(order), headers=staff.headers)).json()
        assert version["status"] == "awaiting_payment"
        assert Decimal(version["amount_due"]) == Decimal(answer["total"]) - Decimal(order["total_amount"])
        await harness.drain()
        assert published(harness, "order.edit_refused", order["id"]) == []
        assert published(harness, "order.edited", order["id"]) == []
        assert len(published(harness, "order.edit_awaiting_payment", order["id"])) == 1

    @pytest.mark.databases("sqlite", "postgres", why="parallel deliveries against the order's row lock")
    async def test_held_units_racing_the_payment_apply_first_or_go_back(
            self, harness: ServiceHarness, customer: Customer, staff: Staff, platform: FakePlatform) -> None:
        order = await self.unpaid(harness, customer, platform)
        answer = await self.requested(harness, staff, order)
        await asyncio.gather(harness.deliver(StockEditReserved(order_id=order["id"], edit_id=answer["edit"]["id"])),
                             harness.deliver(paid(order)))
        after = await customer.order(order["id"])
        [version] = (await harness.client.get(edits_url(order), headers=staff.headers)).json()
        await harness.drain()
        applied, refused = (published(harness, "order.edited", order["id"]),
                            published(harness, "order.edit_refused", order["id"]))
        assert after["status"] == "paid"
        assert refused == []
        if version["status"] == "applied":  # the edit took the lock first: the order was paid as edited
            assert [i["quantity"] for i in after["items"]] == [3] and len(applied) == 1
        else:  # paid first: the edit charges the difference
            assert version["status"] == "awaiting_payment" and [i["quantity"] for i in after["items"]] == [2]
            assert applied == [] and len(published(harness, "order.edit_awaiting_payment", order["id"])) == 1


    async def test_an_addition_must_be_new_goods_from_stock_on_sale(
            self, harness: ServiceHarness, customer: Customer, staff: Staff, platform: FakePlatform) -> None:
        order = await paid_order(harness, customer, platform, ("30.00", 1))

        async def add(product_id: str, *, times: int = 1) -> httpx.Response:
            body = {"additions": [{"product_id": product_id, "quantity": 1}] * times, "reason": "Phone order"}
            return await harness.client.post(edits_url(order, preview=True), json=body, headers=staff.headers)

        assert_error(await add(order["items"][0]["product_id"]), 400, "VALIDATION_ERROR")  # raise the line instead
        assert_error(await add(platform.product(kind="credit_pack", attributes={"credits": 5})["id"]), 400, "VALIDATION_ERROR")
        assert_error(await add(platform.product(is_active=False)["id"]), 400, "PRODUCT_UNAVAILABLE")
        assert_error(await add(str(uuid.uuid4())), 400, "PRODUCT_UNAVAILABLE")
        hat = platform.product(price="12.00")["id"]
        assert_error(await add(hat, times=2), 400, "VALIDATION_ERROR")
        assert (await add(hat)).status_code == 200
        empty = await harness.client.post(edits_url(order, preview=True), json={"reason": "Nothing"},
                                          headers=staff.headers)
        assert_error(empty, 400, "VALIDATION_ERROR")


def edit_paid(order: dict[str, Any], version: dict[str, Any], **fields: Any) -> OrderEditPaid:
    return OrderEditPaid(**{"order_id": order["id"], "order_number": order["order_number"], "edit_id": version["id"],
                            "owner_id": uuid.uuid4(), "amount": Decimal(version["amount_due"]),
                            "currency": order["currency"], "payment_id": uuid.uuid4(), "provider": "local", **fields})


class TestChargingTheDifference:
    """An edit that raises a paid order's total waits for the customer to pay the difference through a
    payment link (`awaiting_payment`); paid, it applies once and gets a supplementary invoice; not paid
    in time, or overtaken by the shipment, it is refused and its units go back."""

    @staticmethod
    async def awaiting(harness: ServiceHarness, staff: Staff, order: dict[str, Any], *lines: tuple[int, int],
                       additions: tuple[dict[str, Any], ...] = ()) -> dict[str, Any]:
        body = {"changes": [{"order_item_id": order["items"][i]["id"], "quantity": q} for i, q in lines],
                "additions": list(additions), "reason": "Customer wants more"}
        response = await harness.client.post(edits_url(order), json=body, headers=staff.headers)
        assert response.status_code == 201, response.text
        assert response.json()["edit"]["status"] == "pending"
        await harness.deliver(StockEditReserved(order_id=order["id"], edit_id=response.json()["edit"]["id"]))
        version: dict[str, Any] = (await harness.client.get(edits_url(order), headers=staff.headers)).json()[-1]
        assert version["status"] == "awaiting_payment", version
        return version

    async def test_a_paid_order_gains_units_pays_the_difference_once_and_gets_a_supplementary_invoice(
            self, harness: ServiceHarness, customer: Customer, staff: Staff, platform: FakePlatform,
            orders_settings: OrdersSettings, service_headers: dict[str, str], other_customer: Customer) -> None:
        order = await paid_order(harness, customer, platform, ("30.00", 1))
        original = await _invoice(customer, order["id"])
        hat = platform.product(price="12.00")
        preview = await harness.client.post(edits_url(order, preview=True), headers=staff.headers, json={
            "changes": [{"order_item_id": order["items"][0]["id"], "quantity": 2}],
            "additions": [{"product_id": hat["id"], "quantity": 1}], "reason": "x"})
        version = await self.awaiting(harness, staff, order, (0, 2),
                                      additions=({"product_id": hat["id"], "quantity": 1},))
        due = Decimal(version["amount_due"])
        assert due == Decimal(preview.json()["amount_due"]) > 0
        assert due == Decimal(version["new_total"]) - Decimal(order["total_amount"])
        # The link pays this edit's difference: its token is signed for the edit, not the order.
        url = urlparse(version["payment_url"])
        query = parse_qs(url.query)
        assert query["order_id"] == [order["id"]] and query["edit_id"] == [version["id"]]
        assert payment_links.verify(orders_settings.service_token, uuid.UUID(version["id"]), query["token"][0])
        assert not payment_links.verify(orders_settings.service_token, uuid.UUID(order["id"]), query["token"][0])
        # Nothing changes until it is paid, and no other edit goes meanwhile.
        waiting = await customer.order(order["id"])
        assert waiting["total_amount"] == order["total_amount"] and [i["quantity"] for i in waiting["items"]] == [1]
        error = assert_error(await edit(harness, staff.headers, order, (0, 1)), 409, "ORDER_EDIT_UNSUPPORTED")
        assert (error["details"]["reason"], error["details"]["status"]) == ("edit_pending", "awaiting_payment")
        await harness.drain()
        [mail] = published(harness, "order.edit_awaiting_payment", order["id"])
        assert (Decimal(mail["amount_due"]), mail["payment_url"]) == (due, version["payment_url"])
        assert sorted((line["sku"], line["old_quantity"], line["new_quantity"]) for line in mail["lines"]) == sorted(
            [(order["items"][0]["sku"], 1, 2), (hat["sku"], 0, 1)])
        # Payments reads what it charges from orders.
        internal = await harness.client.get(f"/internal/orders/{order['id']}/edits/{version['id']}",
                                            headers=service_headers)
        assert internal.status_code == 200, internal.text
        assert (internal.json()["status"], Decimal(internal.json()["amount_due"])) == ("awaiting_payment", due)
        assert internal.json()["order"]["id"] == order["id"]
        # Paid: applied once, whatever redelivers or repeats the payment.
        event = edit_paid(order, version)
        envelope = await harness.deliver(event)
        await harness.deliver(event, envelope_id=envelope.id)
        await harness.deliver(edit_paid(order, version))
        after = await customer.order(order["id"])
        assert Decimal(after["total_amount"]) == Decimal(version["new_total"]) and after["status"] == "paid"
        assert [(i["sku"], i["quantity"]) for i in after["items"]] == [(order["items"][0]["sku"], 2), (hat["sku"], 1)]
        [applied] = (await harness.client.get(edits_url(order), headers=staff.headers)).json()
        assert (applied["status"], applied["payment_id"], applied["payment_url"]) == (
            "applied", str(event.payment_id), None)
        await harness.drain()
        [edited_event] = published(harness, "order.edited", order["id"])
        assert (edited_event["refund"], Decimal(edited_event["paid"])) == ("0.00", due)
        # The supplementary invoice: the next number of the storefront's invoices, the difference.
        invoice = await _invoice(customer, order["id"])
        assert invoice["number"] == original["number"] and invoice["total_amount"] == original["total_amount"]
        [supplementary] = invoice["supplementary"]
        assert supplementary["number"] == "INV-DEFAULT-000002" and Decimal(supplementary["total_amount"]) == due
        issued = [e for e in published(harness, "invoice.issued", order["id"]) if e["kind"] == "supplementary"]
        assert [(e["number"], e["original_number"]) for e in issued] == [("INV-DEFAULT-000002", original["number"])]
        pdf = await customer.client.get(supplementary["url"], headers=customer.headers)
        _assert_pdf(pdf, supplementary["number"])
        assert b"Supplementary invoice" in pdf.content and original["number"].encode() in pdf.content
        staff_pdf = await harness.client.get(
            f"/api/v1/staff/orders/{order['id']}/supplementary-invoices/{supplementary['number']}.pdf",
            headers=staff.headers)
        assert staff_pdf.status_code == 200
        # Accounting's list has it as any invoice, with its own PDF.
        listed = (await harness.client.get("/api/v1/staff/invoices", headers=staff.headers)).json()["results"]
        [row] = [r for r in listed if r["number"] == supplementary["number"]]
        assert row["pdf_url"].endswith(f"/supplementary-invoices/{supplementary['number']}.pdf")
        assert Decimal(row["total_amount"]) == due
        # The next order's invoice keeps the sequence gap-free.
        other = await paid_order(harness, customer, platform, ("5.00", 1))
        assert (await _invoice(customer, other["id"]))["number"] == "INV-DEFAULT-000003"
        # Another customer sees none of it.
        assert (await other_customer.client.get(supplementary["url"], headers=other_customer.headers)).status_code == 404

    async def test_a_mixed_edit_nets_out_to_a_refund_applied_once_its_units_are_held(
            self, harness: ServiceHarness, customer: Customer, staff: Staff, platform: FakePlatform) -> None:
        order = await paid_order(harness, customer, platform, ("30.00", 2), ("12.00", 1))
        response = await edit(harness, staff.headers, order, (0, 1), (1, 2))
        assert response.status_code == 201 and response.json()["edit"]["status"] == "pending"
        expected = Decimal(order["total_amount"]) - Decimal(response.json()["total"])
        assert expected > 0 and response.json()["amount_due"] == "0.00"
        await harness.deliver(StockEditReserved(order_id=order["id"], edit_id=response.json()["edit"]["id"]))
        [version] = (await harness.client.get(edits_url(order), headers=staff.headers)).json()
        assert (version["status"], Decimal(version["refund_amount"]), version["amount_due"]) == (
            "applied", expected, "0.00")
        await harness.drain()
        [edited_event] = published(harness, "order.edited", order["id"])
        assert Decimal(edited_event["refund"]) == expected and edited_event["paid"] == "0.00"
        assert published(harness, "order.edit_awaiting_payment", order["id"]) == []

    async def test_an_edit_not_paid_in_time_is_refused_and_gives_its_units_back(
            self, harness: ServiceHarness, customer: Customer, staff: Staff, platform: FakePlatform) -> None:
        order = await paid_order(harness, customer, platform, ("30.00", 1))
        version = await self.awaiting(harness, staff, order, (0, 3))
        runtime = harness.runtime
        async with runtime.db.transaction() as session:
            assert await OrderEdits(session, runtime.context).expire_waiting(utcnow(), 10) == 0  # not yet
        later = utcnow() + timedelta(hours=49)
        async with runtime.db.transaction() as session:
            assert await OrderEdits(session, runtime.context).expire_waiting(later, 10) == 1
        async with runtime.db.transaction() as session:
            assert await OrderEdits(session, runtime.context).expire_waiting(later, 10) == 0  # once
        [refused] = (await harness.client.get(edits_url(order), headers=staff.headers)).json()
        assert refused["status"] == "refused" and "in time" in refused["note"]
        await harness.drain()
        [back] = published(harness, "order.edit_refused", order["id"])
        assert back["edit_id"] == version["id"] and back["lines"][0]["quantity"] == 2
        # A payment arriving after that changes nothing here (payments gives it back).
        await harness.deliver(edit_paid(order, version))
        after = await customer.order(order["id"])
        assert after["total_amount"] == order["total_amount"] and [i["quantity"] for i in after["items"]] == [1]
        assert (await _invoice(customer, order["id"]))["supplementary"] == []

    @pytest.mark.databases("sqlite", "postgres", why="parallel deliveries against the order's row lock")
    async def test_the_payment_racing_the_shipment_applies_first_or_is_given_back(
            self, harness: ServiceHarness, customer: Customer, staff: Staff, platform: FakePlatform) -> None:
        order = await paid_order(harness, customer, platform, ("30.00", 1))
        await staff.moved(order["id"], "processing")
        version = await self.awaiting(harness, staff, order, (0, 2))
        _, shipping = await asyncio.gather(harness.deliver(edit_paid(order, version)),
                                           staff.set_status(order["id"], "shipped", tracking_number="TRK-1"))
        assert shipping.status_code == 200, shipping.text
        after = await customer.order(order["id"])
        [final] = (await harness.client.get(edits_url(order), headers=staff.headers)).json()
        await harness.drain()
        applied, refused = (published(harness, "order.edited", order["id"]),
                            published(harness, "order.edit_refused", order["id"]))
        assert after["status"] == "shipped"
        if final["status"] == "applied":  # paid first: the order shipped as edited
            assert [i["quantity"] for i in after["items"]] == [2] and len(applied) == 1 and refused == []
        else:  # shipped first: the edit is refused, its units and its payment given back
            assert final["status"] == "refused" and [i["quantity"] for i in after["items"]] == [1]
            assert applied == [] and len(refused) == 1
            assert after["total_amount"] == order["total_amount"]


class TestCustomersOwnEdits:
    """Where the storefront allows it (`customer_order_edits`), a customer lowers their own order before
    it is processing, through the native API, with the same preview and confirmation as staff's."""

    @staticmethod
    async def own_order(harness: ServiceHarness, customer: Customer, platform: FakePlatform, *, allowed: bool,
                        paid_too: bool = True) -> tuple[Customer, dict[str, Any]]:
        slug = f"edits{'on' if allowed else 'off'}"
        add_storefront(harness.app, make_storefront(slug, currency="USD", policies=StorefrontPolicies(
            customer_order_edits=allowed or None)))
        buyer = customer.on(slug)
        lamp, hat = platform.product(price="30.00"), platform.product(price="12.00")
        order = await buyer.placed(items=[{"product_id": lamp["id"], "quantity": 2}, {"product_id": hat["id"]}],
                                   shipping_address_id=platform.address(customer.owner_id))
        await harness.deliver(StockReserved(order_id=order["id"]))
        if paid_too:
            await harness.deliver(paid(order))
        return buyer, await buyer.order(order["id"])

    @staticmethod
    async def own_edit(buyer: Customer, order: dict[str, Any], *lines: tuple[int, int],
                       preview: bool = False) -> httpx.Response:
        body = {"changes": [{"order_item_id": order["items"][i]["id"], "quantity": q} for i, q in lines]}
        url = f"/api/v1/orders/{order['id']}/edits" + ("/preview" if preview else "")
        return await buyer.client.post(url, json=body, headers=buyer.headers)

    async def test_a_customer_lowers_their_paid_order_and_is_refunded_the_difference(
            self, harness: ServiceHarness, customer: Customer, staff: Staff, platform: FakePlatform) -> None:
        buyer, order = await self.own_order(harness, customer, platform, allowed=True)
        shown = await self.own_edit(buyer, order, (0, 1), (1, 0), preview=True)
        assert shown.status_code == 200, shown.text
        assert Decimal(shown.json()["refund"]) == Decimal(order["total_amount"]) - Decimal(shown.json()["total"]) > 0
        assert (await buyer.order(order["id"]))["total_amount"] == order["total_amount"]  # nothing yet
        done = await self.own_edit(buyer, order, (0, 1), (1, 0))
        assert done.status_code == 201, done.text
        assert (done.json()["edit"]["status"], done.json()["edit"]["staff_id"]) == ("applied", None)
        after = await buyer.order(order["id"])
        assert after["total_amount"] == shown.json()["total"] and [i["quantity"] for i in after["items"]] == [1]
        assert after["status_history"][-1]["actor"] == "customer"
        await harness.drain()
        [event] = published(harness, "order.edited", order["id"])
        assert event["refund"] == shown.json()["refund"]
        [version] = (await harness.client.get(edits_url(order), headers=staff.headers)).json()
        assert version["reason"] == "Changed by the customer"

    async def test_refusals(self, harness: ServiceHarness, customer: Customer, other_customer: Customer,
                            staff: Staff, platform: FakePlatform) -> None:
        buyer, order = await self.own_order(harness, customer, platform, allowed=True)
        # Another customer's order is not found; raising a line is staff's (it needs stock and money).
        stranger = other_customer.on("editson")
        assert_error(await self.own_edit(stranger, order, (0, 1)), 404, "NOT_FOUND")
        assert_error(await self.own_edit(stranger, order, (0, 1), preview=True), 404, "NOT_FOUND")
        assert_error(await self.own_edit(buyer, order, (0, 3)), 400, "VALIDATION_ERROR")
        assert_error(await self.own_edit(buyer, order, (0, 0), (1, 0)), 400, "VALIDATION_ERROR")
        # Too far along: processing.
        await staff.moved(order["id"], "processing")
        error = assert_error(await self.own_edit(buyer, order, (0, 1)), 409, "ORDER_NOT_EDITABLE")
        assert (error["details"]["reason"], error["details"]["status"]) == ("status", "processing")
        # The policy off (the default): refused, even for an unpaid order.
        off_buyer, off = await self.own_order(harness, customer, platform, allowed=False, paid_too=False)
        error = assert_error(await self.own_edit(off_buyer, off, (0, 1)), 409, "ORDER_NOT_EDITABLE")
        assert error["details"]["reason"] == "policy"
        assert_error(await self.own_edit(off_buyer, off, (0, 1), preview=True), 409, "ORDER_NOT_EDITABLE")
        assert [i["quantity"] for i in (await off_buyer.order(off["id"]))["items"]] == [2, 1]
        await harness.drain()
        assert published(harness, "order.edited", order["id"]) == []

    async def test_an_unpaid_order_lowered_by_its_customer_costs_its_new_total(
            self, harness: ServiceHarness, customer: Customer, platform: FakePlatform) -> None:
        buyer, order = await self.own_order(harness, customer, platform, allowed=True, paid_too=False)
        done = await self.own_edit(buyer, order, (1, 0))
        assert done.status_code == 201, done.text
        assert done.json()["refund"] == "0.00"
        after = await buyer.order(order["id"])
        assert (after["status"], after["total_amount"]) == ("awaiting_payment", done.json()["total"])


class TestCustomerGroupPrices:
    """A line an edit adds is priced at the price list of the customer group the order was placed at
    (kept on the order: the buyer's token then, or a draft's `customer_group`), whoever edits it and
    whatever the request says; an order placed without a group adds lines at list price."""

    @staticmethod
    async def added(harness: ServiceHarness, staff: Staff, order: dict[str, Any], product: dict[str, Any],
                    **extra: Any) -> tuple[dict[str, Any], dict[str, Any]]:
        """The edit adding one unit of `product`, previewed then confirmed: (preview, confirmation)."""
        body = {"changes": [], "additions": [{"product_id": product["id"], "quantity": 1}],
                "reason": "Customer called to add one", **extra}
        preview = await harness.client.post(edits_url(order, preview=True), json=body, headers=staff.headers)
        assert preview.status_code == 200, preview.text
        confirmed = await harness.client.post(edits_url(order), json=body, headers=staff.headers)
        assert confirmed.status_code == 201, confirmed.text
        return preview.json(), confirmed.json()

    async def test_a_business_order_adds_at_its_group_price_charged_as_previewed(
            self, harness: ServiceHarness, test_keys: TestKeys, staff: Staff, platform: FakePlatform) -> None:
        user_id = uuid.uuid4()
        business = Customer(harness, test_keys.group_headers("business", user_id), user_id)
        slab, lamp = platform.product(price="100.00"), platform.product(price="30.00")
        platform.group_prices[(slab["id"], "default", "business")] = "80.00"
        platform.group_prices[(lamp["id"], "default", "business")] = "24.00"
        placed = await business.placed(items=[{"product_id": slab["id"], "quantity": 1}],
                                       shipping_address_id=platform.address(user_id))
        await harness.deliver(StockReserved(order_id=placed["id"]))
        await harness.deliver(paid(placed))
        order = await business.order(placed["id"])
        assert order["items"][0]["unit_price"] == "80.00" and "customer_group" not in order
        read = await harness.client.get(f"/api/v1/staff/orders/{order['id']}", headers=staff.headers)
        assert read.json()["customer_group"] == "business"
        # Staff's own token names no group: the order's is asked for.
        preview, confirmed = await self.added(harness, staff, order, lamp)
        assert platform.lookups[-1]["customer_group"] == "business"
        assert [line["unit_price"] for line in preview["lines"]] == ["80.00", "24.00"]
        assert (confirmed["total"], confirmed["amount_due"]) == (preview["total"], preview["amount_due"])
        assert Decimal(preview["amount_due"]) > 0
        await harness.deliver(StockEditReserved(order_id=order["id"], edit_id=confirmed["edit"]["id"]))
        version = (await harness.client.get(edits_url(order), headers=staff.headers)).json()[-1]
        assert (version["status"], version["amount_due"], version["new_total"]) == (
            "awaiting_payment", preview["amount_due"], preview["total"])
        await harness.deliver(edit_paid(order, version))
        after = await business.order(order["id"])
        assert after["total_amount"] == preview["total"]
        assert [(i["sku"], i["unit_price"]) for i in after["items"]] == [(slab["sku"], "80.00"), (lamp["sku"], "24.00")]

    async def test_an_ordinary_order_adds_at_list_price_whatever_the_request_says(
            self, harness: ServiceHarness, customer: Customer, staff: Staff, platform: FakePlatform) -> None:
        lamp = platform.product(price="30.00")
        platform.group_prices[(lamp["id"], "default", "business")] = "24.00"
        order = await paid_order(harness, customer, platform, ("100.00", 1))
        read = await harness.client.get(f"/api/v1/staff/orders/{order['id']}", headers=staff.headers)
        assert read.json()["customer_group"] is None
        preview, confirmed = await self.added(harness, staff, order, lamp, customer_group="business")
        assert "customer_group" not in platform.lookups[-1]
        assert preview["lines"][1]["unit_price"] == "30.00"
        assert (confirmed["total"], confirmed["amount_due"]) == (preview["total"], preview["amount_due"])

    async def test_a_draft_orders_group_prices_what_an_edit_adds(
            self, harness: ServiceHarness, test_keys: TestKeys, staff: Staff, platform: FakePlatform) -> None:
        await harness.deliver(CustomerGroupChanged(storefront="default", code="business", name="Business",
                                                   revision=1), producer="identity")
        slab, lamp = platform.product(price="100.00"), platform.product(price="30.00")
        platform.group_prices[(slab["id"], "default", "business")] = "80.00"
        platform.group_prices[(lamp["id"], "default", "business")] = "24.00"
        drafts = test_keys.staff_headers("support")
        draft = (await harness.client.post("/api/v1/staff/draft-orders", headers=drafts, json={
            "email": "buyer@acme.example", "customer_group": "business"})).json()
        url = f"/api/v1/staff/draft-orders/{draft['id']}"
        assert (await harness.client.post(f"{url}/lines", headers=drafts,
                                          json={"product_id": slab["id"], "quantity": 1})).status_code == 201
        assert (await harness.client.patch(url, headers=drafts, json={"shipping_address": {
            "full_name": "Grace Hopper", "street_address": "1 Main St", "city": "Arlington", "postal_code": "22201",
            "country": "US", "email": "buyer@acme.example"}})).status_code == 200
        sent = await harness.client.post(f"{url}/send", headers=drafts)
        assert sent.status_code == 200, sent.text
        await harness.deliver(StockReserved(order_id=sent.json()["order_id"]))
        order = (await harness.client.get(f"/api/v1/staff/orders/{sent.json()['order_id']}",
                                          headers=staff.headers)).json()
        preview, confirmed = await self.added(harness, staff, order, lamp)
        assert order["customer_group"] == "business"
        assert [line["unit_price"] for line in preview["lines"]] == ["80.00", "24.00"]
        assert confirmed["total"] == preview["total"]
