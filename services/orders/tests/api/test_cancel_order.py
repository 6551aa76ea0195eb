"""POST /api/v1/orders/{id}/cancel: only before shipping; stock released, paid orders refunded."""

from __future__ import annotations

import uuid
from decimal import Decimal

from atelier_common.contracts.payments import OrderPaid, PaymentRefunded
from atelier_testing import ServiceHarness

from ..conftest import Customer, FakePlatform, Staff, assert_error, statuses


async def _physical_order(customer: Customer, platform: FakePlatform) -> dict:
    lamp = platform.product(price="20.00")
    return await customer.placed(items=[{"product_id": lamp["id"]}],
                                 shipping_address_id=platform.address(customer.owner_id))


def _paid(order: dict) -> OrderPaid:
    return OrderPaid(order_id=order["id"], order_number=order["order_number"], owner_id=uuid.uuid4(),
                     amount=Decimal(order["total_amount"]), currency=order["currency"], payment_id=uuid.uuid4(),
                     provider="local")


class TestCancelOrder:
    async def test_a_pending_order_is_cancelled_and_its_stock_released(self, harness: ServiceHarness,
                                                                       customer: Customer,
                                                                       platform: FakePlatform) -> None:
        order = await _physical_order(customer, platform)
        response = await customer.cancel(order["id"], reason="changed my mind")
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["status"] == "cancelled"
        assert [(h["from_status"], h["status"], h["note"], h["actor"]) for h in body["status_history"]][-1] == (
            "pending", "cancelled", "changed my mind", "customer")
        await harness.drain()
        [cancelled] = [e.data for e in harness.published("order.cancelled")]
        assert (cancelled["order_id"], cancelled["owner_id"], cancelled["was_paid"], cancelled["reason"]) == (
            order["id"], str(customer.owner_id), False, "changed my mind")
        assert [e.data["new_status"] for e in harness.published("order.status_changed")] == ["pending", "cancelled"]

    async def test_without_a_body(self, customer: Customer, platform: FakePlatform) -> None:
        order = await _physical_order(customer, platform)
        response = await customer.client.post(f"/api/v1/orders/{order['id']}/cancel", headers=customer.headers)
        assert response.status_code == 200 and response.json()["status"] == "cancelled"

    async def test_a_shipped_order_cannot_be_cancelled_and_says_why(self, harness: ServiceHarness,
                                                                     customer: Customer, staff: Staff,
                                                                     platform: FakePlatform) -> None:
        order = await _physical_order(customer, platform)
        await harness.deliver(_paid(order))
        await staff.moved(order["id"], "processing", "shipped")
        error = assert_error(await customer.cancel(order["id"]), 400, "ORDER_NOT_CANCELLABLE")
        assert "shipped" in error["message"]
        assert error["details"]["status"] == "shipped"
        assert set(error["details"]["cancellable_from"]) == {"pending", "awaiting_payment", "paid", "processing"}
        assert (await customer.order(order["id"]))["status"] == "shipped"
        await harness.drain()
        assert harness.published("order.cancelled") == []

    async def test_a_cancelled_order_cannot_be_cancelled_again(self, harness: ServiceHarness, customer: Customer,
                                                               platform: FakePlatform) -> None:
        order = await _physical_order(customer, platform)
        assert (await customer.cancel(order["id"])).status_code == 200
        assert_error(await customer.cancel(order["id"]), 400, "ORDER_NOT_CANCELLABLE")
        await harness.drain()
        assert len(harness.published("order.cancelled")) == 1

    async def test_a_paid_order_is_refunded_after_payments_confirms(self, harness: ServiceHarness,
                                                                    customer: Customer,
                                                                    platform: FakePlatform) -> None:
        order = await _physical_order(customer, platform)
        await harness.deliver(_paid(order))
        assert (await customer.cancel(order["id"])).json()["status"] == "cancelled"
        await harness.drain()
        [cancelled] = [e.data for e in harness.published("order.cancelled")]
        assert cancelled["was_paid"] is True

        await harness.deliver(PaymentRefunded(order_id=order["id"], payment_id=uuid.uuid4(),
                                              amount=Decimal(order["total_amount"]), currency="USD"))
        refunded = await customer.order(order["id"])
        assert refunded["status"] == "refunded"
        assert statuses(refunded) == ["pending", "paid", "cancelled", "refunded"]
        assert refunded["status_history"][-1]["actor"] == "payments"

    async def test_another_owners_order_is_404(self, customer: Customer, other_customer: Customer,
                                               platform: FakePlatform) -> None:
        order = await _physical_order(customer, platform)
        assert_error(await other_customer.cancel(order["id"]), 404, "NOT_FOUND")
        assert (await customer.order(order["id"]))["status"] == "pending"

    async def test_an_anonymous_buyer_cancels_their_own_order(self, anonymous: Customer,
                                                              platform: FakePlatform) -> None:
        order = await _physical_order(anonymous, platform)
        assert (await anonymous.cancel(order["id"])).json()["status"] == "cancelled"
