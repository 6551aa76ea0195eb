"""Stripe's events of one payment in every delivery order (`atelier_testing.permutations`), each
also replayed: the payment, its events and its ledger end the same (Stripe does not order them)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from atelier_testing import deliver_in_every_order
from atelier_testing.fakes.stripe import FakeStripe

from ..conftest import money

Event = dict[str, Any]


async def _deliver(api, event: Event, nth: int) -> None:
    response = await api.stripe_webhooks.send(event)  # nth > 0: the same event id again, a replay
    assert response.status_code == 200, response.text
    assert (response.json()["status"] == "duplicate") == (nth > 0), (event["type"], response.json())


class TestStripeEventsInEveryOrder:
    async def _outcome(self, api, order: dict) -> tuple[str, int, list[tuple[bool, str]], list]:
        [payment] = await api.payments(order["id"])
        paid = [e for e in await api.outbox("order.paid") if e["order_id"] == order["id"]]
        refunded = [(e["is_full"], e["amount"]) for e in await api.outbox("payment.refunded")
                    if e["order_id"] == order["id"]]
        ledger = [(e.kind, e.amount) for e in await api.ledger() if e.payment_id == payment.id]
        return payment.status, len(paid), refunded, ledger

    async def test_processing_success_and_a_full_refund(self, stripe_api, fake_stripe: FakeStripe) -> None:
        orders: dict[str, dict] = {}

        async def scenario() -> list[Event]:
            order, intent_id = await stripe_api.open_intent(fake_stripe, total="20.00")
            early = dict(fake_stripe.intents[intent_id])
            succeeded = fake_stripe.succeed_intent(intent_id)
            orders[intent_id] = order
            return [fake_stripe.event("payment_intent.processing", early),
                    fake_stripe.event("payment_intent.succeeded", succeeded),
                    fake_stripe.event("charge.refunded", fake_stripe.charge_of(intent_id))]

        async def outcome(events: Sequence[Event]) -> Any:
            return await self._outcome(stripe_api, orders[events[0]["data"]["object"]["id"]])

        await deliver_in_every_order(
            scenario, lambda event, nth: _deliver(stripe_api, event, nth), outcome,
            expected=("refunded", 1, [(True, "20.00")], [("payment", money("20.00")), ("refund", money("-20.00"))]))

    async def test_success_and_a_partial_refund_made_at_stripe(self, stripe_api, fake_stripe: FakeStripe) -> None:
        orders: dict[str, dict] = {}

        async def scenario() -> list[Event]:
            order, intent_id = await stripe_api.open_intent(fake_stripe, total="20.00")
            intent = fake_stripe.succeed_intent(intent_id)
            orders[intent_id] = order
            refund = {"id": f"re_{intent_id}", "object": "refund", "amount": 750, "currency": "usd",
                      "charge": intent["latest_charge"], "payment_intent": intent_id, "status": "succeeded",
                      "metadata": {}}
            return [fake_stripe.event("payment_intent.succeeded", intent),
                    fake_stripe.event("refund.created", refund)]

        async def outcome(events: Sequence[Event]) -> Any:
            return await self._outcome(stripe_api, orders[events[0]["data"]["object"]["id"]])

        await deliver_in_every_order(
            scenario, lambda event, nth: _deliver(stripe_api, event, nth), outcome,
            expected=("succeeded", 1, [(False, "7.50")], [("payment", money("20.00")), ("refund", money("-7.50"))]))
