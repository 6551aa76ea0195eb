"""payment.returned: money the order did not take (paid after its cancellation, or paid twice)
was given back by payments; the order's history says so and its status stays."""

from __future__ import annotations

import uuid
from decimal import Decimal

import pytest

from atelier_common.contracts.catalog import StockRejected
from atelier_common.contracts.payments import PaymentReturned
from atelier_testing import ServiceHarness

from ..conftest import Customer, FakePlatform, statuses
from .test_saga import paid, physical_order

# Handlers upsert and lock their aggregate's row (CONTRIBUTING.md, "Consumers commute").
pytestmark = pytest.mark.databases("sqlite", "postgres", why="handlers' upserts and locks are written per dialect")


def returned(order: dict, *, amount: str | None = None) -> PaymentReturned:
    return PaymentReturned(order_id=order["id"], payment_id=uuid.uuid4(),
                           amount=Decimal(amount or order["total_amount"]), currency=order["currency"],
                           refund_id=uuid.uuid4())


def notes(order: dict) -> list[str]:
    return [h["note"] for h in order["status_history"]]


class TestMoneyTheOrderDidNotTake:
    async def test_a_payment_after_cancellation_is_in_the_history_once(self, harness: ServiceHarness,
                                                                       customer: Customer,
                                                                       platform: FakePlatform) -> None:
        order = await physical_order(customer, platform)
        assert (await customer.cancel(order["id"])).status_code == 200
        event = returned(order)

        envelope = await harness.deliver(event)
        await harness.deliver(event, envelope_id=envelope.id)  # the bus redelivers it

        final = await customer.order(order["id"])
        assert final["status"] == "cancelled" and final["paid_at"] is None
        total = f"{Decimal(order['total_amount']):.2f} {order['currency']}"
        assert notes(final).count(f"Payment of {total} received after cancellation; refunded") == 1
        last = final["status_history"][-1]
        assert (last["from_status"], last["status"], last["actor"]) == ("cancelled", "cancelled", "payments")
        await harness.drain()
        assert [e.data["new_status"] for e in harness.published("order.status_changed")
                if e.data["order_id"] == order["id"]] == ["pending", "cancelled"]
        assert [e.data["was_paid"] for e in harness.published("order.cancelled")] == [False]  # nothing to refund

    async def test_a_payment_after_rejection_says_rejection(self, harness: ServiceHarness, customer: Customer,
                                                            platform: FakePlatform) -> None:
        order = await physical_order(customer, platform)
        await harness.deliver(StockRejected(order_id=order["id"], reason="insufficient_stock"))
        await harness.deliver(returned(order, amount="5"))

        final = await customer.order(order["id"])
        assert final["status"] == "rejected"
        assert notes(final)[-1] == f"Payment of 5.00 {order['currency']} received after rejection; refunded"

    async def test_a_second_payment_of_a_paid_order_is_noted_and_the_order_stays_paid(
            self, harness: ServiceHarness, customer: Customer, platform: FakePlatform) -> None:
        order = await physical_order(customer, platform)
        await harness.deliver(paid(order))
        await harness.deliver(returned(order))

        final = await customer.order(order["id"])
        assert final["status"] == "paid"
        assert statuses(final) == ["pending", "paid", "paid"]
        assert notes(final)[-1].startswith("Second payment of ") and notes(final)[-1].endswith("received; refunded")

    async def test_an_unknown_order_is_acknowledged(self, harness: ServiceHarness) -> None:
        unknown = {"id": str(uuid.uuid4()), "total_amount": "1.00", "currency": "USD"}
        await harness.deliver(returned(unknown))
        assert harness.bus.dead_letters == []
