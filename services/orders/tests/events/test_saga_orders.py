"""Orders' steps of the checkout saga in every delivery order (`atelier_testing.permutations`):
catalog's decision, payments' confirmation and the customer's cancel, each also redelivered, end
the same way — and money that arrives is given back exactly once when the order cannot keep it."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from decimal import Decimal

import pytest

from atelier_common.contracts.catalog import StockRejected, StockReserved
from atelier_common.contracts.identity import AnonymousClaimed, UserDeleted
from atelier_common.contracts.payments import PaymentRefunded
from atelier_testing import ServiceHarness, TestKeys, deliver_in_every_order, redelivering

from ..conftest import Customer, FakePlatform
from .test_saga import paid, physical_order

# Handlers upsert and lock their aggregate's row (CONTRIBUTING.md, "Consumers commute").
pytestmark = pytest.mark.databases("sqlite", "postgres", why="handlers' upserts and locks are written per dialect")


class CustomerCancels:
    """Not an event: the customer's cancel request, delivered among the events."""

    def __init__(self, order_id: str) -> None:
        self.order_id = order_id


def _order_id(events: Sequence[object]) -> str:
    return str(next(e for e in events if isinstance(e, CustomerCancels | StockReserved | StockRejected)).order_id)


class TestCheckoutSagaInEveryOrder:
    def _cancellations(self, harness: ServiceHarness, order_id: str) -> list[bool]:
        return [e.data["was_paid"] for e in harness.published("order.cancelled") if e.data["order_id"] == order_id]

    async def test_stock_reserved_and_paid_in_any_order_end_paid(self, harness: ServiceHarness,
                                                                 customer: Customer, platform: FakePlatform) -> None:
        async def scenario() -> list[object]:
            order = await physical_order(customer, platform)
            return [StockReserved(order_id=order["id"]), paid(order)]

        async def outcome(events: Sequence[object]) -> tuple[str, bool, list[bool]]:
            order = await customer.order(_order_id(events))
            await harness.drain()
            return order["status"], order["paid_at"] is not None, self._cancellations(harness, order["id"])

        await deliver_in_every_order(scenario, redelivering(harness), outcome, expected=("paid", True, []))

    async def test_stock_refused_and_paid_in_any_order_refund_once(self, harness: ServiceHarness,
                                                                   customer: Customer,
                                                                   platform: FakePlatform) -> None:
        orders: dict[str, dict] = {}

        async def scenario() -> list[object]:
            order = await physical_order(customer, platform)
            orders[order["id"]] = order
            return [StockRejected(order_id=order["id"], reason="insufficient_stock"), paid(order)]

        async def outcome(events: Sequence[object]) -> tuple[list[bool], str]:
            order = orders[_order_id(events)]
            await harness.drain()
            cancellations = self._cancellations(harness, order["id"])
            # payments refunds on the paid cancellation; its confirmation always comes after it.
            await harness.deliver(PaymentRefunded(order_id=order["id"], payment_id=uuid.uuid4(),
                                                  amount=Decimal(order["total_amount"]), currency=order["currency"]))
            return cancellations, (await customer.order(order["id"]))["status"]

        await deliver_in_every_order(scenario, redelivering(harness), outcome, expected=([True], "refunded"))

    async def test_a_cancel_and_the_payment_in_any_order_refund_once(self, harness: ServiceHarness,
                                                                     customer: Customer,
                                                                     platform: FakePlatform) -> None:
        events_of = redelivering(harness)

        async def scenario() -> list[object]:
            order = await physical_order(customer, platform)
            return [CustomerCancels(order["id"]), paid(order)]

        async def deliver(event: object, nth: int) -> None:
            if isinstance(event, CustomerCancels):
                response = await customer.cancel(event.order_id)
                assert response.status_code == (200 if nth == 0 else 400), response.text
            else:
                await events_of(event, nth)  # type: ignore[arg-type]  # the other events are integration events

        async def outcome(events: Sequence[object]) -> tuple[str, int]:
            order = await customer.order(_order_id(events))
            await harness.drain()
            # Whatever came first, the order ends cancelled and payments is asked to refund once.
            return order["status"], self._cancellations(harness, order["id"]).count(True)

        await deliver_in_every_order(scenario, deliver, outcome, expected=("cancelled", 1))


class TestOwnershipInEveryOrder:
    async def test_a_claim_and_the_users_erasure_in_any_order_leave_no_personal_data(
            self, harness: ServiceHarness, platform: FakePlatform, test_keys: TestKeys,
            service_headers: dict[str, str]) -> None:
        orders: dict[uuid.UUID, str] = {}

        async def scenario() -> list[object]:
            anon_id, user_id = uuid.uuid4(), uuid.uuid4()
            guest = Customer(harness, test_keys.anon_headers(anon_id), anon_id)
            orders[anon_id] = (await physical_order(guest, platform))["id"]
            return [AnonymousClaimed(anon_id=anon_id, user_id=user_id), UserDeleted(user_id=user_id)]

        async def outcome(events: Sequence[object]) -> tuple[str | None, str | None]:
            claim = next(e for e in events if isinstance(e, AnonymousClaimed))
            body = (await harness.client.get(f"/internal/orders/{orders[claim.anon_id]}",
                                             headers=service_headers)).json()
            return body["email"], body["shipping_address"].get("street_address") or None

        await deliver_in_every_order(scenario, redelivering(harness, producer="identity"), outcome,
                                     expected=(None, None))
