"""The order saga through events: catalog's stock decision, payments' confirmations, identity's
ownership changes; each event applied once, late or repeated ones changing nothing."""

from __future__ import annotations

import uuid
from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import update
from sqlmodel import col

from atelier_common.columns import utcnow
from atelier_common.contracts.catalog import StockLine, StockRejected, StockReserved
from atelier_common.contracts.identity import AnonymousClaimed, UserDeleted
from atelier_common.contracts.payments import OrderPaid, PaymentFailed, PaymentRefunded
from atelier_common.housekeeping import Housekeeper
from atelier_orders.housekeeping import sweeps
from atelier_orders.models import Order
from atelier_testing import ServiceHarness, TestKeys

from ..conftest import Customer, FakePlatform, assert_error, statuses

# Handlers upsert and lock their aggregate's row (CONTRIBUTING.md, "Consumers commute").
pytestmark = pytest.mark.databases("sqlite", "postgres", why="handlers' upserts and locks are written per dialect")


def paid(order: dict, **fields) -> OrderPaid:
    return OrderPaid(**{"order_id": order["id"], "order_number": order["order_number"], "owner_id": uuid.uuid4(),
                        "amount": Decimal(order["total_amount"]), "currency": order["currency"],
                        "payment_id": uuid.uuid4(), "provider": "local", **fields})


async def physical_order(customer: Customer, platform: FakePlatform) -> dict:
    lamp = platform.product(price="30.00")
    return await customer.placed(items=[{"product_id": lamp["id"], "quantity": 2}],
                                 shipping_address_id=platform.address(customer.owner_id))


async def digital_order(customer: Customer, platform: FakePlatform) -> dict:
    pack = platform.product(kind="credit_pack", price="4.99", attributes={"credits": 5})
    return await customer.placed(items=[{"product_id": pack["id"]}])


def status_changes(harness: ServiceHarness, order: dict) -> list[tuple[str | None, str]]:
    return [(e.data["old_status"], e.data["new_status"]) for e in harness.published("order.status_changed")
            if e.data["order_id"] == order["id"]]


class TestTheHappyPath:
    async def test_placed_reserved_paid_with_every_step_in_history(self, harness: ServiceHarness,
                                                                   customer: Customer,
                                                                   platform: FakePlatform) -> None:
        order = await physical_order(customer, platform)
        await harness.deliver(StockReserved(order_id=order["id"]))
        assert (await customer.order(order["id"]))["status"] == "awaiting_payment"
        await harness.deliver(paid(order))
        final = await customer.order(order["id"])
        assert final["status"] == "paid"
        assert [(h["from_status"], h["status"], h["actor"]) for h in final["status_history"]] == [
            (None, "pending", "customer"), ("pending", "awaiting_payment", "catalog"),
            ("awaiting_payment", "paid", "payments")]
        assert final["paid_at"] is not None
        await harness.drain()
        assert status_changes(harness, order) == [(None, "pending"), ("pending", "awaiting_payment"),
                                                  ("awaiting_payment", "paid")]
        assert harness.bus.dead_letters == []

    async def test_a_digital_order_completes_once_paid(self, harness: ServiceHarness, customer: Customer,
                                                       platform: FakePlatform) -> None:
        order = await digital_order(customer, platform)
        await harness.deliver(StockReserved(order_id=order["id"]))
        await harness.deliver(paid(order))
        final = await customer.order(order["id"])
        assert final["status"] == "completed"
        assert statuses(final) == ["pending", "awaiting_payment", "paid", "completed"]

    async def test_payment_may_overtake_the_stock_decision(self, harness: ServiceHarness, customer: Customer,
                                                           platform: FakePlatform) -> None:
        order = await physical_order(customer, platform)
        await harness.deliver(paid(order))
        await harness.deliver(StockReserved(order_id=order["id"]))
        final = await customer.order(order["id"])
        # The late stock.reserved changes nothing and adds nothing to the history the customer reads.
        assert statuses(final) == ["pending", "paid"]
        assert final["status"] == "paid"


class TestStockRefused:
    async def test_a_pending_order_is_rejected_with_the_reason(self, harness: ServiceHarness, customer: Customer,
                                                               platform: FakePlatform) -> None:
        order = await physical_order(customer, platform)
        line = StockLine(product_id=order["items"][0]["product_id"], requested=2, available=1)
        await harness.deliver(StockRejected(order_id=order["id"], reason="insufficient stock", lines=[line]))
        final = await customer.order(order["id"])
        assert final["status"] == "rejected"
        assert final["status_history"][-1]["note"] == "Stock refused: insufficient stock"
        assert final["status_history"][-1]["actor"] == "catalog"
        await harness.drain()
        assert harness.published("order.cancelled") == []  # nothing was reserved, nothing was paid

    async def test_a_paid_order_is_cancelled_so_that_payments_refunds_it(self, harness: ServiceHarness,
                                                                          customer: Customer,
                                                                          platform: FakePlatform) -> None:
        order = await physical_order(customer, platform)
        await harness.deliver(paid(order))
        await harness.deliver(StockRejected(order_id=order["id"], reason="insufficient stock"))
        assert (await customer.order(order["id"]))["status"] == "cancelled"
        await harness.drain()
        [cancelled] = [e.data for e in harness.published("order.cancelled")]
        assert cancelled["was_paid"] is True and "insufficient stock" in cancelled["reason"]
        await harness.deliver(PaymentRefunded(order_id=order["id"], payment_id=uuid.uuid4(),
                                              amount=Decimal(order["total_amount"]), currency="USD"))
        assert statuses(await customer.order(order["id"])) == ["pending", "paid", "cancelled", "refunded"]


class TestPaymentEvents:
    async def test_a_redelivered_payment_has_one_effect(self, harness: ServiceHarness, customer: Customer,
                                                        platform: FakePlatform) -> None:
        order = await physical_order(customer, platform)
        event = paid(order)
        envelope = await harness.deliver(event)
        await harness.deliver(event, envelope_id=envelope.id)  # the bus redelivers the same message
        await harness.deliver(paid(order))  # a second, different confirmation of the same order
        final = await customer.order(order["id"])
        assert statuses(final) == ["pending", "paid"]
        await harness.drain()
        assert status_changes(harness, order) == [(None, "pending"), ("pending", "paid")]

    async def test_a_failed_payment_is_noted_and_the_status_stays(self, harness: ServiceHarness,
                                                                  customer: Customer,
                                                                  platform: FakePlatform) -> None:
        order = await physical_order(customer, platform)
        await harness.deliver(StockReserved(order_id=order["id"]))
        await harness.deliver(PaymentFailed(order_id=order["id"], payment_id=uuid.uuid4(), reason="card_declined"))
        final = await customer.order(order["id"])
        assert final["status"] == "awaiting_payment"
        last = final["status_history"][-1]
        assert (last["from_status"], last["status"], last["note"], last["actor"]) == (
            "awaiting_payment", "awaiting_payment", "Payment failed: card_declined", "payments")
        await harness.drain()
        assert status_changes(harness, order)[-1] == ("pending", "awaiting_payment")
        # The customer may still pay.
        await harness.deliver(paid(order))
        assert (await customer.order(order["id"]))["status"] == "paid"

    async def test_money_for_a_cancelled_order_is_sent_back(self, harness: ServiceHarness, customer: Customer,
                                                            platform: FakePlatform) -> None:
        order = await physical_order(customer, platform)
        assert (await customer.cancel(order["id"])).status_code == 200
        await harness.deliver(paid(order))
        await harness.drain()
        assert [e.data["was_paid"] for e in harness.published("order.cancelled")] == [False, True]
        assert (await customer.order(order["id"]))["status"] == "cancelled"
        await harness.deliver(PaymentRefunded(order_id=order["id"], payment_id=uuid.uuid4(),
                                              amount=Decimal(order["total_amount"]), currency="USD"))
        assert (await customer.order(order["id"]))["status"] == "refunded"

    async def test_a_refund_of_a_live_order_is_only_noted(self, harness: ServiceHarness, customer: Customer,
                                                          platform: FakePlatform) -> None:
        order = await physical_order(customer, platform)
        await harness.deliver(paid(order))
        await harness.deliver(PaymentRefunded(order_id=order["id"], payment_id=uuid.uuid4(),
                                              amount=Decimal("10.00"), currency="USD"))
        final = await customer.order(order["id"])
        assert final["status"] == "paid"
        assert final["status_history"][-1]["note"] == "Refund of 10.00 USD confirmed"

    async def test_events_for_unknown_orders_are_acknowledged(self, harness: ServiceHarness) -> None:
        unknown = {"id": str(uuid.uuid4()), "order_number": "ORD-20261121-AAAAAA", "total_amount": "1.00",
                   "currency": "USD"}
        for event in (StockReserved(order_id=unknown["id"]), paid(unknown),
                      StockRejected(order_id=unknown["id"], reason="x"),
                      PaymentFailed(order_id=unknown["id"], payment_id=uuid.uuid4()),
                      PaymentRefunded(order_id=unknown["id"], payment_id=uuid.uuid4(), amount=Decimal("1"),
                                      currency="USD")):
            await harness.deliver(event)
        assert harness.bus.dead_letters == []


class TestOwnership:
    async def test_anonymous_orders_move_to_the_user_who_claims_them(self, harness: ServiceHarness,
                                                                     anonymous: Customer, other_customer: Customer,
                                                                     test_keys: TestKeys,
                                                                     platform: FakePlatform) -> None:
        first = await digital_order(anonymous, platform)
        second = await physical_order(anonymous, platform)
        someone_elses = await digital_order(other_customer, platform)
        user_id = uuid.uuid4()
        await harness.deliver(AnonymousClaimed(anon_id=anonymous.owner_id, user_id=user_id))
        user = test_keys.user_headers(user_id)
        listed = (await harness.client.get("/api/v1/orders", headers=user)).json()
        assert sorted(o["id"] for o in listed["results"]) == sorted([first["id"], second["id"]])
        assert (await other_customer.get(someone_elses["id"])).status_code == 200
        assert (await harness.client.post(f"/api/v1/orders/{second['id']}/cancel", headers=user)).status_code == 200
        await harness.drain()
        assert harness.published("order.cancelled")[-1].data["owner_id"] == str(user_id)

    async def test_the_guest_token_still_reads_its_orders_after_the_claim(self, harness: ServiceHarness,
                                                                         anonymous: Customer, test_keys: TestKeys,
                                                                         platform: FakePlatform) -> None:
        """The automatic registration of a guest who paid claims its anonymous id: the guest's
        token keeps reading (not changing) what it bought until that token must have expired."""
        order = await physical_order(anonymous, platform)
        await harness.deliver(paid(order))
        user_id = uuid.uuid4()
        await harness.deliver(AnonymousClaimed(anon_id=anonymous.owner_id, user_id=user_id))
        user = test_keys.user_headers(user_id)
        assert (await harness.client.get(f"/api/v1/orders/{order['id']}", headers=user)).status_code == 200

        seen = await anonymous.order(order["id"])
        assert (seen["id"], seen["status"]) == (order["id"], "paid")
        listed = (await harness.client.get("/api/v1/orders", headers=anonymous.headers)).json()
        assert [o["id"] for o in listed["results"]] == [order["id"]]
        assert_error(await anonymous.cancel(order["id"]), 404, "NOT_FOUND")
        stranger = test_keys.anon_headers(uuid.uuid4())
        assert_error(await harness.client.get(f"/api/v1/orders/{order['id']}", headers=stranger), 404, "NOT_FOUND")

        async with harness.runtime.db.transaction() as session:
            await session.execute(update(Order).where(col(Order.id) == uuid.UUID(order["id"]))
                                  .values(claimed_at=utcnow() - timedelta(days=31)))
        keeper = Housekeeper(harness.runtime.db, sweeps(harness.runtime.context), service="orders", batch_size=10)
        assert (await keeper.run_once()).removed["claimed_order_readers"] == 1
        assert_error(await anonymous.get(order["id"]), 404, "NOT_FOUND")
        assert (await harness.client.get("/api/v1/orders", headers=anonymous.headers)).json()["count"] == 0
        assert (await harness.client.get(f"/api/v1/orders/{order['id']}", headers=user)).status_code == 200

    async def test_a_deleted_users_orders_are_kept_without_personal_data(self, harness: ServiceHarness,
                                                                         customer: Customer,
                                                                         other_customer: Customer,
                                                                         service_headers: dict[str, str],
                                                                         platform: FakePlatform) -> None:
        order = await physical_order(customer, platform)
        unrelated = await physical_order(other_customer, platform)
        await harness.deliver(UserDeleted(user_id=customer.owner_id))
        kept = (await harness.client.get(f"/internal/orders/{unrelated['id']}", headers=service_headers)).json()
        assert (kept["email"], kept["shipping_address"]) == (unrelated["email"], unrelated["shipping_address"])
        body = (await harness.client.get(f"/internal/orders/{order['id']}", headers=service_headers)).json()
        assert body["email"] is None
        assert body["shipping_address"] == {"city": "Tbilisi", "state": "", "postal_code": "0108", "country": "GE",
                                            "type": "shipping"}
        assert body["billing_address"] == body["shipping_address"]
        assert (body["total_amount"], body["order_number"]) == (order["total_amount"], order["order_number"])


class TestIllegalEventDrivenMoves:
    async def test_a_stock_refusal_for_a_completed_order_is_noted_not_applied(
            self, harness: ServiceHarness, customer: Customer, platform: FakePlatform) -> None:
        order = await digital_order(customer, platform)
        await harness.deliver(StockReserved(order_id=order["id"]))
        await harness.deliver(paid(order))
        await harness.deliver(StockRejected(order_id=order["id"], reason="unavailable"))
        final = await customer.order(order["id"])
        assert final["status"] == "completed"
        assert statuses(final) == ["pending", "awaiting_payment", "paid", "completed", "completed"]
        assert final["status_history"][-1]["note"] == (
            "Not applied: Stock refused: unavailable (Cannot change an order from completed to rejected)")
        assert status_changes(harness, order)[-1] == ("paid", "completed")  # no announcement of the note
