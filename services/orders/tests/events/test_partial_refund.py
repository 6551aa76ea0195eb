"""payment.refunded of a partial refund: noted on the order, never `refunded`."""

from __future__ import annotations

import uuid
from decimal import Decimal

import pytest

from atelier_common.contracts.payments import OrderPaid, PaymentRefunded
from atelier_testing import ServiceHarness

from ..conftest import Customer, FakePlatform

# Handlers upsert and lock their aggregate's row (CONTRIBUTING.md, "Consumers commute").
pytestmark = pytest.mark.databases("sqlite", "postgres", why="handlers' upserts and locks are written per dialect")


async def _cancelled_paid_order(harness: ServiceHarness, customer: Customer, platform: FakePlatform) -> dict:
    lamp = platform.product(price="30.00")
    order = await customer.placed(items=[{"product_id": lamp["id"], "quantity": 2}],
                                  shipping_address_id=platform.address(customer.owner_id))
    await harness.deliver(OrderPaid(order_id=order["id"], order_number=order["order_number"], owner_id=uuid.uuid4(),
                                    amount=Decimal(order["total_amount"]), currency=order["currency"],
                                    payment_id=uuid.uuid4(), provider="local"))
    assert (await customer.cancel(order["id"])).status_code == 200
    return order


def _refunded(order: dict, amount: str, total: str, *, is_full: bool) -> PaymentRefunded:
    return PaymentRefunded(order_id=order["id"], payment_id=uuid.uuid4(), amount=Decimal(amount), currency="USD",
                           refund_id=uuid.uuid4(), total_refunded=Decimal(total), is_full=is_full)


class TestPartialRefund:
    async def test_a_partial_refund_of_a_cancelled_order_leaves_it_cancelled_until_the_full_one(
            self, harness: ServiceHarness, customer: Customer, platform: FakePlatform) -> None:
        order = await _cancelled_paid_order(harness, customer, platform)
        total = Decimal(order["total_amount"])
        await harness.deliver(_refunded(order, "10.00", "10.00", is_full=False))
        final = await customer.order(order["id"])
        assert final["status"] == "cancelled"
        assert final["status_history"][-1]["note"] == "Refund of 10.00 USD confirmed"
        await harness.deliver(_refunded(order, str(total - 10), str(total), is_full=True))
        assert (await customer.order(order["id"]))["status"] == "refunded"
