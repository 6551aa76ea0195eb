"""Returns (#56): opened on a delivered order's shipped units (never more than delivered less what
other returns hold), received once by staff with the refund computed by orders and announced in
`return.received`, and settled by `payment.refunded` heard before or after the receipt."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

import httpx
import pytest

from atelier_common.contracts.payments import PaymentRefunded
from atelier_testing import ServiceHarness, TestKeys, deliver_in_every_order, redelivering

from ..conftest import Customer, FakePlatform, Staff, assert_error
from ..events.test_saga import paid


async def delivered_order(harness: ServiceHarness, customer: Customer, staff: Staff, platform: FakePlatform,
                          *lines: tuple[str, int, str]) -> dict[str, Any]:
    """An order of (price, quantity, kind) lines, paid, shipped and delivered."""
    products = [platform.product(price=price, kind=kind, attributes={"credits": 10} if kind == "credit_pack" else None)
                for price, _, kind in lines]
    order = await customer.placed(items=[{"product_id": p["id"], "quantity": q} for p, (_, q, _) in
                                         zip(products, lines, strict=True)],
                                  shipping_address_id=platform.address(customer.owner_id))
    await harness.deliver(paid(order))
    return await staff.moved(order["id"], "processing", "shipped", "delivered", tracking_number="TRK-1")


def returns_url(order: dict[str, Any]) -> str:
    return f"/api/v1/orders/{order['id']}/returns"


async def open_return(customer: Customer, order: dict[str, Any], *lines: tuple[int, int],
                      reason: str = "Too small") -> httpx.Response:
    body = {"items": [{"order_item_id": order["items"][i]["id"], "quantity": q} for i, q in lines], "reason": reason}
    return await customer.client.post(returns_url(order), json=body, headers=customer.headers)


async def opened(customer: Customer, order: dict[str, Any], *lines: tuple[int, int]) -> dict[str, Any]:
    response = await open_return(customer, order, *lines)
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


async def receive(harness: ServiceHarness, staff: Staff, ret: dict[str, Any], *, restock: Sequence[bool] = (),
                  refund_shipping: bool = False, quantities: Sequence[int] = ()) -> httpx.Response:
    """Receive every line of the return (all its units unless `quantities`), resaleable per `restock`."""
    flags = [*restock, *[False] * len(ret["items"])]
    counts = [*quantities, *[line["quantity"] for line in ret["items"]][len(quantities):]]
    items = [{"order_item_id": line["order_item_id"], "quantity": count, "resaleable": flag}
             for line, flag, count in zip(ret["items"], flags, counts, strict=False)]
    return await harness.client.post(f"/api/v1/staff/returns/{ret['id']}/receive", headers=staff.headers,
                                     json={"items": items, "refund_shipping": refund_shipping})


def published(harness: ServiceHarness, type_: str, order_id: str) -> list[dict[str, Any]]:
    return [e.data for e in harness.published(type_) if e.data["order_id"] == order_id]


def refunded(order: dict[str, Any], ret: dict[str, Any], amount: str) -> PaymentRefunded:
    return PaymentRefunded(order_id=order["id"], payment_id=uuid.uuid4(), amount=Decimal(amount),
                           currency=order["currency"], refund_id=uuid.uuid4(), is_full=False,
                           reason=f"Return {ret['number']}", return_id=ret["id"])


class TestOpening:
    async def test_a_customer_opens_a_return_and_staff_see_it(self, harness: ServiceHarness, customer: Customer,
                                                              staff: Staff, platform: FakePlatform) -> None:
        order = await delivered_order(harness, customer, staff, platform, ("30.00", 2, "physical"))
        ret = await opened(customer, order, (0, 1))
        assert ret["number"].startswith("RET-") and ret["status"] == "requested" and ret["opened_by"] == "customer"
        assert [(line["quantity"], line["resaleable"], line["amount"]) for line in ret["items"]] == [(1, None, None)]
        listed = (await customer.client.get(returns_url(order), headers=customer.headers)).json()
        assert [r["id"] for r in listed] == [ret["id"]]
        page = (await harness.client.get("/api/v1/staff/returns", params={"status": "requested",
                                                                          "storefront": "default"},
                                         headers=staff.headers)).json()
        assert ret["id"] in [r["id"] for r in page["results"]]
        await harness.drain()
        [event] = published(harness, "return.requested", order["id"])
        assert (event["number"], event["items"][0]["quantity"], event["opened_by"]) == (ret["number"], 1, "customer")
        # The contract's names only (#56): `items`, `order_item_id`, `resaleable`.
        assert "lines" not in event and set(event["items"][0]) == {
            "order_item_id", "product_id", "variant_id", "sku", "quantity", "resaleable"}
        assert event["items"][0]["order_item_id"] == ret["items"][0]["order_item_id"]
        history = (await customer.order(order["id"]))["status_history"]
        assert history[-1]["note"] == f"Return {ret['number']} requested: Too small"
        assert history[-1]["status"] == "delivered"

    async def test_refusals_change_nothing(self, harness: ServiceHarness, customer: Customer,
                                           other_customer: Customer, staff: Staff, platform: FakePlatform) -> None:
        order = await delivered_order(harness, customer, staff, platform, ("30.00", 2, "physical"),
                                      ("5.00", 1, "credit_pack"))
        assert_error(await open_return(other_customer, order, (0, 1)), 404, "NOT_FOUND")
        error = assert_error(await open_return(customer, order, (0, 3)), 409, "RETURN_QUANTITY_EXCEEDED")
        assert error["details"]["returnable"][order["items"][0]["id"]] == 2
        assert_error(await open_return(customer, order, (1, 1)), 400, "VALIDATION_ERROR")  # a credit pack: not shipped
        bad = await customer.client.post(returns_url(order), json={"items": [], "reason": "x"},
                                         headers=customer.headers)
        assert_error(bad, 400, "VALIDATION_ERROR")
        await opened(customer, order, (0, 2))
        assert_error(await open_return(customer, order, (0, 1)), 409, "RETURN_QUANTITY_EXCEEDED")
        undelivered = await customer.placed(items=[{"product_id": order["items"][0]["product_id"]}],
                                            shipping_address_id=platform.address(customer.owner_id))
        error = assert_error(await open_return(customer, undelivered, (0, 1)), 409, "ORDER_NOT_RETURNABLE")
        assert error["details"]["status"] == "pending"
        assert len((await customer.client.get(returns_url(order), headers=customer.headers)).json()) == 1

    @pytest.mark.databases("sqlite", "postgres", why="parallel requests against the database's locks")
    async def test_two_returns_at_once_never_take_the_same_unit(self, harness: ServiceHarness, customer: Customer,
                                                                staff: Staff, platform: FakePlatform) -> None:
        order = await delivered_order(harness, customer, staff, platform, ("30.00", 2, "physical"))
        answers = await asyncio.gather(*(open_return(customer, order, (0, 2)) for _ in range(3)))
        assert sorted(a.status_code for a in answers) == [201, 409, 409]

    async def test_staff_open_one_for_a_customer_and_a_rejected_one_frees_its_units(
            self, harness: ServiceHarness, customer: Customer, staff: Staff, platform: FakePlatform) -> None:
        order = await delivered_order(harness, customer, staff, platform, ("30.00", 1, "physical"))
        response = await harness.client.post(f"/api/v1/staff/orders/{order['id']}/returns", headers=staff.headers,
                                             json={"items": [{"order_item_id": order["items"][0]["id"]}],
                                                   "reason": "Called support"})
        assert response.status_code == 201, response.text
        ret = response.json()
        assert ret["opened_by"] == "staff"
        rejected = await harness.client.post(f"/api/v1/staff/returns/{ret['id']}/reject", headers=staff.headers,
                                             json={"reason": "Worn"})
        assert (rejected.status_code, rejected.json()["status"], rejected.json()["note"]) == (200, "rejected", "Worn")
        assert_error(await receive(harness, staff, ret), 409, "RETURN_NOT_OPEN")
        await opened(customer, order, (0, 1))  # the rejected return holds nothing
        await harness.drain()
        assert [e.data["action"] for e in harness.published("staff.action_recorded")
                if e.data["action"].startswith("return.")] == ["return.open", "return.reject"]


class TestReceiving:
    async def test_the_refund_is_the_lines_with_their_tax_and_shipping_on_request(
            self, harness: ServiceHarness, customer: Customer, staff: Staff, platform: FakePlatform) -> None:
        order = await delivered_order(harness, customer, staff, platform, ("30.00", 2, "physical"),
                                      ("10.00", 1, "physical"))
        ret = await opened(customer, order, (0, 1), (1, 1))
        response = await receive(harness, staff, ret, restock=[True, False], refund_shipping=True)
        assert response.status_code == 200, response.text
        received = response.json()
        subtotal, tax = Decimal(order["subtotal"]), Decimal(order["tax_amount"])
        line = Decimal("30.00") + (tax * Decimal("30.00") / subtotal).quantize(Decimal("0.01"))
        assert received["status"] == "received" and received["refund_shipping"] is True
        assert (received["items"][0]["resaleable"], received["items"][0]["amount"]) == (True, str(line))
        assert received["items"][1]["resaleable"] is False
        expected = sum((Decimal(x["amount"]) for x in received["items"]), Decimal(order["shipping_cost"]))
        assert Decimal(received["amount"]) == expected
        await harness.drain()
        [event] = published(harness, "return.received", order["id"])
        assert (event["amount"], event["return_id"]) == (received["amount"], ret["id"])
        assert [(x["order_item_id"], x["sku"], x["quantity"], x["resaleable"]) for x in event["items"]] == [
            (order["items"][0]["id"], order["items"][0]["sku"], 1, True),
            (order["items"][1]["id"], order["items"][1]["sku"], 1, False)]
        assert "lines" not in event
        # A second receipt is refused and asks for nothing more.
        assert_error(await receive(harness, staff, ret), 409, "RETURN_NOT_OPEN")
        await harness.drain()
        assert len(published(harness, "return.received", order["id"])) == 1

    @pytest.mark.databases("sqlite", "postgres", why="parallel requests against the database's locks")
    async def test_two_receipts_at_once_ask_for_one_refund(self, harness: ServiceHarness, customer: Customer,
                                                           staff: Staff, platform: FakePlatform) -> None:
        order = await delivered_order(harness, customer, staff, platform, ("30.00", 2, "physical"))
        ret = await opened(customer, order, (0, 2))
        answers = await asyncio.gather(*(receive(harness, staff, ret, restock=[True]) for _ in range(3)))
        assert sorted(a.status_code for a in answers) == [200, 409, 409]
        await harness.drain()
        assert len(published(harness, "return.received", order["id"])) == 1

    async def test_never_more_than_what_is_left_to_refund(self, harness: ServiceHarness, customer: Customer,
                                                          staff: Staff, platform: FakePlatform) -> None:
        order = await delivered_order(harness, customer, staff, platform, ("30.00", 1, "physical"))
        # Staff refunded most of it already (payments announced it).
        await harness.deliver(PaymentRefunded(order_id=order["id"], payment_id=uuid.uuid4(), amount=Decimal("30.00"),
                                              currency="USD", refund_id=uuid.uuid4(), is_full=False))
        ret = await opened(customer, order, (0, 1))
        received = (await receive(harness, staff, ret, refund_shipping=True)).json()
        assert Decimal(received["amount"]) == Decimal(order["total_amount"]) - Decimal("30.00")


class TestApprovalAndPartialReceipt:
    async def test_approve_then_receive_and_approve_only_once(self, harness: ServiceHarness, customer: Customer,
                                                              staff: Staff, platform: FakePlatform) -> None:
        order = await delivered_order(harness, customer, staff, platform, ("30.00", 2, "physical"))
        ret = await opened(customer, order, (0, 1))
        url = f"/api/v1/staff/returns/{ret['id']}/approve"
        approved = await harness.client.post(url, headers=staff.headers)
        assert (approved.status_code, approved.json()["status"]) == (200, "approved"), approved.text
        assert_error(await harness.client.post(url, headers=staff.headers), 409, "RETURN_NOT_OPEN")
        received = await receive(harness, staff, ret, restock=[True])
        assert (received.status_code, received.json()["status"]) == (200, "received"), received.text
        assert_error(await harness.client.post(url, headers=staff.headers), 409, "RETURN_NOT_OPEN")
        await harness.drain()
        assert [e.data["action"] for e in harness.published("staff.action_recorded")
                if e.data["action"].startswith("return.")] == ["return.approve", "return.receive"]

    async def test_an_approved_return_may_be_rejected(self, harness: ServiceHarness, customer: Customer,
                                                      staff: Staff, platform: FakePlatform) -> None:
        order = await delivered_order(harness, customer, staff, platform, ("30.00", 1, "physical"))
        ret = await opened(customer, order, (0, 1))
        await harness.client.post(f"/api/v1/staff/returns/{ret['id']}/approve", headers=staff.headers)
        rejected = await harness.client.post(f"/api/v1/staff/returns/{ret['id']}/reject", headers=staff.headers)
        assert (rejected.status_code, rejected.json()["status"]) == (200, "rejected")

    async def test_a_partial_receipt_refunds_what_came_back_and_frees_the_rest(
            self, harness: ServiceHarness, customer: Customer, staff: Staff, platform: FakePlatform) -> None:
        order = await delivered_order(harness, customer, staff, platform, ("30.00", 3, "physical"),
                                      ("10.00", 1, "physical"))
        ret = await opened(customer, order, (0, 3), (1, 1))
        whole = await receive(harness, staff, ret, quantities=[4])
        assert_error(whole, 400, "VALIDATION_ERROR")  # more than requested: nothing changed
        url = f"/api/v1/staff/returns/{ret['id']}/receive"
        response = await harness.client.post(url, headers=staff.headers, json={
            "items": [{"order_item_id": order["items"][0]["id"], "quantity": 2, "resaleable": True}]})
        assert response.status_code == 200, response.text
        received = response.json()
        assert [(x["order_item_id"], x["quantity"], x["resaleable"]) for x in received["items"]] == [
            (order["items"][0]["id"], 2, True)]
        subtotal, tax = Decimal(order["subtotal"]), Decimal(order["tax_amount"])
        assert Decimal(received["amount"]) == (Decimal("60.00") + tax * Decimal("60.00") / subtotal).quantize(
            Decimal("0.01"))
        # The units not received may be returned again: one of the first line, the second line.
        again = await opened(customer, order, (0, 1), (1, 1))
        assert again["status"] == "requested"
        assert_error(await open_return(customer, order, (0, 1)), 409, "RETURN_QUANTITY_EXCEEDED")


class TestRefund:
    async def test_the_refund_settles_the_return_and_a_whole_return_makes_the_order_returned(
            self, harness: ServiceHarness, customer: Customer, staff: Staff, platform: FakePlatform) -> None:
        order = await delivered_order(harness, customer, staff, platform, ("30.00", 2, "physical"))
        first = await opened(customer, order, (0, 1))
        first = (await receive(harness, staff, first)).json()
        await harness.deliver(refunded(order, first, first["amount"]))
        [settled] = (await customer.client.get(returns_url(order), headers=customer.headers)).json()
        assert (settled["status"], settled["refunded_amount"]) == ("refunded", first["amount"])
        assert (await customer.order(order["id"]))["status"] == "delivered"
        second = (await receive(harness, staff, await opened(customer, order, (0, 1)))).json()
        await harness.deliver(refunded(order, second, second["amount"]))
        final = await customer.order(order["id"])
        assert final["status"] == "returned"
        seen = (await harness.client.get(f"/api/v1/staff/orders/{order['id']}", headers=staff.headers)).json()
        assert Decimal(seen["refunded_amount"]) == Decimal(first["amount"]) + Decimal(second["amount"])
        assert final["refunded_amount"] == seen["refunded_amount"]
        assert final["status_history"][-1]["note"] == "Every shipped unit returned and refunded"
        assert_error(await open_return(customer, order, (0, 1)), 409, "ORDER_NOT_RETURNABLE")

    async def test_a_refund_heard_before_the_receipt_ends_the_same_in_every_order(
            self, harness: ServiceHarness, customer: Customer, staff: Staff, platform: FakePlatform,
            test_keys: TestKeys) -> None:
        """`payment.refunded` of the return, delivered before, after or twice around the receipt:
        the return ends refunded once, the order returned."""
        receipts: dict[str, dict[str, Any]] = {}

        class Receipt:
            """Staff's receipt as a step among the events (delivered by the test, not the bus)."""

            def __init__(self, ret: dict[str, Any]) -> None:
                self.ret = ret

        async def scenario() -> list[Any]:
            order = await delivered_order(harness, customer, staff, platform, ("30.00", 1, "physical"))
            ret = await opened(customer, order, (0, 1))
            receipts[ret["id"]] = order
            return [Receipt(ret), refunded(order, ret, "33.75")]

        inner = redelivering(harness, producer="payments")

        async def deliver(event: Any, nth: int) -> None:
            if isinstance(event, Receipt):
                response = await receive(harness, staff, event.ret)
                assert response.status_code in (200, 409), response.text
            else:
                await inner(event, nth)

        async def outcome(events: Sequence[Any]) -> tuple[str, str | None, str]:
            ret = events[0].ret if isinstance(events[0], Receipt) else events[1].ret
            order = receipts[ret["id"]]
            [now] = (await customer.client.get(returns_url(order), headers=customer.headers)).json()
            return now["status"], now["refunded_amount"], (await customer.order(order["id"]))["status"]

        await deliver_in_every_order(scenario, deliver, outcome, expected=("refunded", "33.75", "returned"))
