"""Real concurrent transactions on PostgreSQL: one effect however many deliveries race."""

from __future__ import annotations

import asyncio
import uuid

import pytest

from atelier_common.contracts.orders import OrderCancelled

from ..conftest import money

pytestmark = pytest.mark.databases("sqlite", "postgres", why="parallel transactions against the database's locks")


@pytest.fixture(autouse=True)
def _postgres_only(db_backend: str, postgres_server_url: str) -> None:
    if db_backend != "postgres":
        pytest.skip("needs PostgreSQL: concurrent transactions and row locks")


async def _open_intent(api) -> tuple[dict, str, dict[str, str]]:
    anon_id, headers = api.anon()
    order = api.orders.add(anon_id, total="25.00")
    intent_id = (await api.intent(order["id"], headers)).json()["payment_intent_id"]
    return order, intent_id, headers


class TestConcurrentWebhooks:
    async def test_one_event_delivered_five_times_at_once_has_one_effect(self, stripe_api, fake_stripe) -> None:
        _order, intent_id, _ = await _open_intent(stripe_api)
        event = fake_stripe.event("payment_intent.succeeded", fake_stripe.succeed_intent(intent_id))
        responses = await asyncio.gather(*(stripe_api.stripe_webhooks.send(event) for _ in range(5)))
        assert [r.status_code for r in responses] == [200] * 5
        assert sorted(r.json()["status"] for r in responses) == ["duplicate"] * 4 + ["processed"]
        assert len(await stripe_api.outbox("order.paid")) == 1
        assert [(e.kind, e.amount) for e in await stripe_api.ledger()] == [("payment", money("25.00"))]

    async def test_five_distinct_events_of_one_success_at_once_have_one_effect(self, stripe_api, fake_stripe) -> None:
        order, intent_id, headers = await _open_intent(stripe_api)
        intent = fake_stripe.succeed_intent(intent_id)
        sends = [stripe_api.stripe_webhooks.send(fake_stripe.event("payment_intent.succeeded", intent))
                 for _ in range(4)]
        responses = await asyncio.gather(*sends, stripe_api.confirm(order["id"], intent_id, headers))
        assert [r.status_code for r in responses] == [200] * 5
        assert len(await stripe_api.outbox("order.paid")) == 1
        assert len(await stripe_api.ledger()) == 1

    async def test_a_refund_raced_by_its_webhook_is_recorded_once(self, stripe_api, fake_stripe) -> None:
        order, intent_id, _ = await _open_intent(stripe_api)
        await stripe_api.stripe_webhooks.send(
            fake_stripe.event("payment_intent.succeeded", fake_stripe.succeed_intent(intent_id)))
        await asyncio.gather(
            stripe_api.h.deliver(OrderCancelled(order_id=order["id"], owner_id=order["owner_id"], was_paid=True)),
            *(stripe_api.stripe_webhooks.send(fake_stripe.event("charge.refunded", fake_stripe.charge_of(intent_id)))
              for _ in range(3)))
        assert len(await stripe_api.outbox("payment.refunded")) == 1
        assert sum(e.amount for e in await stripe_api.ledger()) == 0


    async def test_a_refund_and_its_payments_success_at_once_settle_the_same_every_time(
            self, stripe_api, fake_stripe) -> None:
        for _ in range(8):
            order, intent_id, _ = await _open_intent(stripe_api)
            succeeded = fake_stripe.event("payment_intent.succeeded", fake_stripe.succeed_intent(intent_id))
            refunded = fake_stripe.event("charge.refunded", fake_stripe.charge_of(intent_id))
            responses = await asyncio.gather(*(stripe_api.stripe_webhooks.send(e)
                                               for e in (refunded, succeeded, refunded, succeeded)))
            assert [r.status_code for r in responses] == [200] * 4, [r.text for r in responses]
            [payment] = await stripe_api.payments(order["id"])
            assert payment.status == "refunded"
            ledger = [e.amount for e in await stripe_api.ledger() if e.order_id == payment.order_id]
            assert ledger == [money("25.00"), money("-25.00")]
        assert len(await stripe_api.outbox("order.paid")) == 8
        assert len(await stripe_api.outbox("payment.refunded")) == 8


class TestConcurrentIntents:
    async def test_five_pay_clicks_at_once_make_one_intent(self, stripe_api, fake_stripe) -> None:
        anon_id, headers = stripe_api.anon()
        order = stripe_api.orders.add(anon_id)
        responses = await asyncio.gather(*(stripe_api.intent(order["id"], headers) for _ in range(5)))
        assert [r.status_code for r in responses] == [200] * 5, [r.text for r in responses]
        assert len({r.json()["payment_intent_id"] for r in responses}) == 1
        assert len(await stripe_api.payments(order["id"])) == 1


class TestConcurrentRefunds:
    async def test_refunds_at_once_never_exceed_what_was_paid(self, api) -> None:
        anon_id, headers = api.anon()
        order = api.orders.add(anon_id, total="59.48")
        session_id = (await api.checkout(order["id"], headers)).json()["session_id"]
        await api.client.post(f"/api/dev/checkout/{session_id}/pay")
        responses = await asyncio.gather(*(
            api.client.post("/api/v1/payments/refunds", headers=api.keys.staff_headers(),
                            json={"order_id": order["id"], "amount": "20.00", "reason": "race"})
            for _ in range(5)))
        assert sorted(r.status_code for r in responses) == [201, 201, 400, 400, 400], [r.text for r in responses]
        assert {r.json()["error"]["code"] for r in responses if r.status_code == 400} == {"REFUND_EXCEEDS_PAYMENT"}
        assert sorted(e.amount for e in await api.ledger(anon_id)) == [money("-20.00"), money("-20.00"),
                                                                       money("59.48")]
        assert len(await api.outbox("payment.refunded")) == 2

    async def test_ten_intents_at_once_with_one_key_answer_the_same(self, stripe_api, fake_stripe) -> None:
        anon_id, headers = stripe_api.anon()
        order = stripe_api.orders.add(anon_id)
        keyed = {**headers, "Idempotency-Key": "same-key"}
        responses = await asyncio.gather(*(stripe_api.intent(order["id"], keyed) for _ in range(10)))
        assert {r.status_code for r in responses} == {200}, [r.text for r in responses]
        assert len({r.content for r in responses}) == 1
        assert len(await stripe_api.payments(order["id"])) == 1


def _outside_subscription(fake, user_id) -> list[dict]:
    """A subscription made at Stripe without our checkout (so no row of ours yet): its events."""
    customer = fake._customer({"metadata": {"user_id": str(user_id)}})
    session = fake._session({"mode": "subscription", "customer": customer["id"],
                             "line_items": [{"price": "price_pro_monthly", "quantity": "1"}],
                             "subscription_data": {"metadata": {"user_id": str(user_id)}}})
    events = fake.complete_subscription_session(session["id"])
    fake.take_events()
    return events


class TestConcurrentSubscriptionEvents:
    async def test_a_subscriptions_events_at_once_each_twice_have_one_effect(self, stripe_api, fake_stripe) -> None:
        user_id, headers = stripe_api.user()
        url = (await stripe_api.client.post("/api/v1/subscriptions/checkout", headers=headers, json={
            "plan_id": "pro_monthly", "success_url": "http://shop.test/ok", "cancel_url": "http://shop.test/no",
        })).json()["checkout_url"]
        events = fake_stripe.complete_subscription_session(url.rsplit("/", 1)[-1])
        events += fake_stripe.renew_subscription(fake_stripe.sessions[url.rsplit("/", 1)[-1]]["subscription"])
        fake_stripe.take_events()
        responses = await asyncio.gather(*(stripe_api.stripe_webhooks.send(e) for e in [*events, *events]))
        assert [r.status_code for r in responses] == [200] * len(responses), [r.text for r in responses]
        assert [r.json()["status"] for r in responses].count("duplicate") == len(events)
        assert len(await stripe_api.outbox("subscription.changed")) == 1
        assert len(await stripe_api.ledger(user_id)) == 2
        history = (await stripe_api.client.get("/api/v1/subscriptions/history", headers=headers)).json()
        assert history["count"] == 2

    async def test_the_first_row_of_a_user_is_made_once(self, stripe_api, fake_stripe) -> None:
        user_id, headers = stripe_api.user()
        events = _outside_subscription(fake_stripe, user_id)
        responses = await asyncio.gather(*(stripe_api.stripe_webhooks.send(e) for e in [*events, *events]))
        assert [r.status_code for r in responses] == [200] * len(responses), [r.text for r in responses]
        current = (await stripe_api.client.get("/api/v1/subscriptions/current", headers=headers)).json()
        assert (current["plan_id"], current["status"]) == ("pro_monthly", "active")
        assert len(await stripe_api.outbox("subscription.changed")) == 1
        assert len(await stripe_api.ledger(user_id)) == 1

    async def test_ten_checkouts_at_once_with_one_key_make_one_session(self, stripe_api, fake_stripe) -> None:
        _, headers = stripe_api.user()
        keyed = {**headers, "Idempotency-Key": "subscribe-once"}
        before = len(fake_stripe.sessions)
        responses = await asyncio.gather(*(stripe_api.client.post("/api/v1/subscriptions/checkout", headers=keyed, json={
            "plan_id": "pro_monthly", "success_url": "http://shop.test/ok", "cancel_url": "http://shop.test/no",
        }) for _ in range(10)))
        assert {r.status_code for r in responses} == {200}, [r.text for r in responses]
        assert len({r.content for r in responses}) == 1
        assert len(fake_stripe.sessions) == before + 1


class TestConcurrentSimpleNotifications:
    async def test_five_reserialised_notifications_at_once_are_one_payment(self, api) -> None:
        """S0's provider (no event id, no transaction id) sends one payment five times at once."""
        from atelier_common.settings import DEV_SECRET

        from ..api.test_simple_webhooks import _refunds, _reserialised

        for _ in range(3):
            order = api.orders.add(uuid.uuid4(), total="30.00", currency="GEL")
            body = {"order_id": order["id"], "status": "paid", "customer_id": None}
            assert len({_reserialised(body, v) for v in range(5)}) == 5
            responses = await asyncio.gather(*(
                api.client.post("/api/v1/payments/webhooks/local", content=_reserialised(body, v),
                                headers={"X-Webhook-Secret": DEV_SECRET}) for v in range(5)))
            assert [r.status_code for r in responses] == [200] * 5, [r.text for r in responses]
            assert sorted(r.json()["status"] for r in responses) == ["duplicate"] * 4 + ["processed"]
            [payment] = await api.payments(order["id"])
            assert payment.status == "succeeded" and payment.pays_order
            assert await _refunds(api, order["id"]) == []
        assert len(await api.outbox("order.paid")) == 3

    async def test_one_payment_told_in_five_ways_at_once_is_one_payment(self, api) -> None:
        """Different keys (with or without the amount, the transaction id) race: the order's
        notifications are serialised, so the second finds the payment the first recorded."""
        import json

        from atelier_common.settings import DEV_SECRET

        from ..api.test_simple_webhooks import _refunds

        for _ in range(3):
            order = api.orders.add(uuid.uuid4(), total="30.00", currency="GEL")
            base = {"order_id": order["id"], "status": "paid"}
            bodies = [base, {**base, "amount": "30.00", "currency": "GEL"}, {**base, "amount": "30", "currency": "gel"},
                      {**base, "transaction_id": "tx-1"}, {**base, "customer_id": None, "transaction_id": "tx-1"}]
            responses = await asyncio.gather(*(
                api.client.post("/api/v1/payments/webhooks/local", content=json.dumps(body).encode(),
                                headers={"X-Webhook-Secret": DEV_SECRET}) for body in bodies))
            assert [r.status_code for r in responses] == [200] * 5, [r.text for r in responses]
            [payment] = await api.payments(order["id"])
            assert payment.status == "succeeded" and payment.pays_order
            assert await _refunds(api, order["id"]) == []
        assert len(await api.outbox("order.paid")) == 3
