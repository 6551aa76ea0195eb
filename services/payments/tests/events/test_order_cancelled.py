"""order.cancelled: a paid order is refunded through its provider; open payments are closed."""

from __future__ import annotations

import pytest

from atelier_common.contracts.orders import OrderCancelled

from ..conftest import money, whole_refund

# Handlers upsert and lock their aggregate's row (CONTRIBUTING.md, "Consumers commute").
pytestmark = pytest.mark.databases("sqlite", "postgres", why="handlers' upserts and locks are written per dialect")


def _cancelled(order: dict, *, was_paid: bool) -> OrderCancelled:
    return OrderCancelled(order_id=order["id"], owner_id=order["owner_id"], was_paid=was_paid, reason="customer")


class TestRefundOnCancel:
    async def test_a_paid_stripe_order_is_refunded_once(self, stripe_api, fake_stripe) -> None:
        order, intent_id = await stripe_api.paid_by_stripe(fake_stripe, total="40.00")
        envelope = await stripe_api.h.deliver(_cancelled(order, was_paid=True))
        await stripe_api.h.deliver(_cancelled(order, was_paid=True), envelope_id=envelope.id)  # redelivered
        await stripe_api.h.deliver(_cancelled(order, was_paid=True))  # a second, distinct event
        refunds = [r for r in fake_stripe.refunds.values() if r["payment_intent"] == intent_id]
        assert len(refunds) == 1 and refunds[0]["amount"] == 4000
        keys = {key for method, path, _, key in fake_stripe.requests if path == "/v1/refunds"}
        assert all(key and key.startswith("payment-refund-") for key in keys)
        [payment] = await stripe_api.payments(order["id"])
        assert payment.status == "refunded" and payment.provider_refund_id == refunds[0]["id"]
        [refunded] = await stripe_api.outbox("payment.refunded")
        assert refunded["amount"] == "40.00" and refunded["order_id"] == order["id"]
        assert [(e.kind, e.amount) for e in await stripe_api.ledger()] == [("payment", money("40.00")),
                                                                             ("refund", money("-40.00"))]
        # Stripe then reports the refund it made: no second effect.
        await stripe_api.stripe_webhooks.send(fake_stripe.event("charge.refunded", fake_stripe.charge_of(intent_id)))
        assert len(await stripe_api.outbox("payment.refunded")) == 1
        assert len(await stripe_api.ledger()) == 2
        assert stripe_api.h.bus.dead_letters == []

    async def test_a_pending_refund_is_finished_by_charge_refunded(self, stripe_api, fake_stripe) -> None:
        order, intent_id = await stripe_api.paid_by_stripe(fake_stripe, total="40.00")
        fake_stripe.refund_status = "pending"
        await stripe_api.h.deliver(_cancelled(order, was_paid=True))
        [payment] = await stripe_api.payments(order["id"])
        assert payment.status == "succeeded" and payment.provider_refund_id
        assert await stripe_api.outbox("payment.refunded") == []
        await stripe_api.stripe_webhooks.send(fake_stripe.event("charge.refunded", fake_stripe.charge_of(intent_id)))
        assert (await stripe_api.payments(order["id"]))[0].status == "refunded"
        assert len(await stripe_api.outbox("payment.refunded")) == 1

    async def test_a_paid_local_order_is_refunded_at_once(self, api) -> None:
        order, anon_id = await api.paid_locally(total="85.50")
        await api.h.deliver(_cancelled(order, was_paid=True))
        [payment] = await api.payments(order["id"])
        assert payment.status == "refunded"
        [refunded] = await api.outbox("payment.refunded")
        assert refunded == whole_refund(order, payment, refunded["refund_id"], reason="The order was cancelled")
        assert sorted(e.amount for e in await api.ledger(anon_id)) == [money("-85.50"), money("85.50")]

    async def test_an_unpaid_cancelled_order_closes_its_open_payments(self, stripe_api, fake_stripe) -> None:
        anon_id, headers = stripe_api.anon()
        order = stripe_api.orders.add(anon_id)
        intent_id = (await stripe_api.intent(order["id"], headers)).json()["payment_intent_id"]
        await stripe_api.h.deliver(_cancelled(order, was_paid=False))
        [payment] = await stripe_api.payments(order["id"])
        assert payment.status == "canceled" and fake_stripe.intents[intent_id]["status"] == "canceled"
        assert await stripe_api.outbox("payment.refunded") == []


class TestUnwantedMoney:
    async def test_money_for_a_cancelled_order_is_refunded_without_paying_it(self, stripe_api, fake_stripe) -> None:
        anon_id, headers = stripe_api.anon()
        order = stripe_api.orders.add(anon_id)
        session_id = (await stripe_api.checkout(order["id"], headers)).json()["session_id"]
        await stripe_api.h.deliver(_cancelled(order, was_paid=False))
        # The customer had the Stripe page open and paid anyway.
        fake_stripe.sessions[session_id]["status"] = "open"
        completed = fake_stripe.complete_session(session_id)
        await stripe_api.stripe_webhooks.send(fake_stripe.event("checkout.session.completed", completed))
        [payment] = await stripe_api.payments(order["id"])
        assert payment.status == "refunded" and not payment.pays_order
        assert await stripe_api.outbox("order.paid") == []
        assert await stripe_api.outbox("payment.refunded") == []  # the order itself was never paid
        assert len(fake_stripe.refunds) >= 1
        [returned] = await stripe_api.outbox("payment.returned")  # orders notes it in the history
        assert returned == {"order_id": order["id"], "payment_id": str(payment.id), "amount": order["total_amount"],
                            "currency": "USD", "refund_id": returned["refund_id"], "is_full": True}

    async def test_a_second_payment_of_a_paid_order_is_refunded(self, stripe_api, fake_stripe) -> None:
        anon_id, headers = stripe_api.anon()
        order = stripe_api.orders.add(anon_id, total="10.00")
        intent_id = (await stripe_api.intent(order["id"], headers)).json()["payment_intent_id"]
        session_id = (await stripe_api.checkout(order["id"], headers)).json()["session_id"]
        await stripe_api.stripe_webhooks.send(
            fake_stripe.event("payment_intent.succeeded", fake_stripe.succeed_intent(intent_id)))
        completed = fake_stripe.complete_session(session_id)
        await stripe_api.stripe_webhooks.send(fake_stripe.event("checkout.session.completed", completed))
        statuses = sorted((p.kind, p.status, p.pays_order) for p in await stripe_api.payments(order["id"]))
        assert statuses == [("checkout", "refunded", False), ("intent", "succeeded", True)]
        assert len(await stripe_api.outbox("order.paid")) == 1
        assert await stripe_api.outbox("payment.refunded") == []
        [returned] = await stripe_api.outbox("payment.returned")
        assert (returned["amount"], returned["is_full"]) == ("10.00", True)
        assert sum(e.amount for e in await stripe_api.ledger()) == money("10.00")
