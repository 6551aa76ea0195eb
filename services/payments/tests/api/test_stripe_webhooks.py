"""POST /payments/webhooks/stripe: verified on the raw body, each event id processed once."""

from __future__ import annotations

import time

import pytest
from sqlmodel import select

from atelier_payments.models import Payment, ProcessedWebhook
from atelier_testing.fakes.stripe import FakeStripe

from ..conftest import assert_error, line, money, whole_refund


async def _processed_ids(api) -> list[str]:
    async with api.db.read_only() as s:
        return [row.event_id for row in (await s.exec(select(ProcessedWebhook))).all()]


def _refunds_asked(fake: FakeStripe, intent_id: str) -> list[dict]:
    return [r for r in fake.refunds.values() if r["payment_intent"] == intent_id]


class TestSucceeded:
    async def test_payment_intent_succeeded_pays_the_order(self, stripe_api, fake_stripe) -> None:
        order, intent_id = await stripe_api.open_intent(fake_stripe)
        event = fake_stripe.event("payment_intent.succeeded", fake_stripe.succeed_intent(intent_id))
        response = await stripe_api.stripe_webhooks.send(event)
        assert response.status_code == 200, response.text
        assert response.json() == {"received": True, "status": "processed"}
        [payment] = await stripe_api.payments(order["id"])
        assert payment.status == "succeeded" and payment.pays_order
        assert payment.provider_charge_id == fake_stripe.intents[intent_id]["latest_charge"]
        [paid] = await stripe_api.outbox("order.paid")
        assert paid["payment_id"] == str(payment.id) and paid["order_number"] == order["order_number"]
        await stripe_api.h.drain()
        assert len(stripe_api.h.published("order.paid")) == 1

    async def test_a_replayed_event_has_no_second_effect(self, stripe_api, fake_stripe) -> None:
        _order, intent_id = await stripe_api.open_intent(fake_stripe)
        event = fake_stripe.event("payment_intent.succeeded", fake_stripe.succeed_intent(intent_id))
        first = await stripe_api.stripe_webhooks.send(event)
        again = await stripe_api.stripe_webhooks.send(event)
        assert first.json()["status"] == "processed" and again.status_code == 200
        assert again.json()["status"] == "duplicate"
        assert len(await stripe_api.outbox("order.paid")) == 1
        assert [e.kind for e in await stripe_api.ledger()] == ["payment"]

    async def test_a_second_event_for_the_same_success_has_no_second_effect(self, stripe_api, fake_stripe) -> None:
        _order, intent_id = await stripe_api.open_intent(fake_stripe)
        intent = fake_stripe.succeed_intent(intent_id)
        for _ in range(2):  # two distinct event ids about one intent (Stripe may send both)
            response = await stripe_api.stripe_webhooks.send(fake_stripe.event("payment_intent.succeeded", intent))
            assert response.status_code == 200
        assert len(await stripe_api.outbox("order.paid")) == 1
        assert len(await stripe_api.ledger()) == 1

    async def test_an_amount_other_than_the_orders_is_not_settled(self, stripe_api, fake_stripe) -> None:
        order, intent_id = await stripe_api.open_intent(fake_stripe)
        intent = {**fake_stripe.succeed_intent(intent_id), "amount": 1, "amount_received": 1}
        response = await stripe_api.stripe_webhooks.send(fake_stripe.event("payment_intent.succeeded", intent))
        assert response.json()["status"] == "ignored"
        [payment] = await stripe_api.payments(order["id"])
        assert payment.status == "requires_payment"
        assert await stripe_api.outbox("order.paid") == []


class TestSignature:
    async def test_a_bad_signature_is_refused_and_changes_nothing(self, stripe_api, fake_stripe) -> None:
        order, intent_id = await stripe_api.open_intent(fake_stripe)
        event = fake_stripe.event("payment_intent.succeeded", fake_stripe.succeed_intent(intent_id))
        for response in (await stripe_api.stripe_webhooks.send(event, secret="whsec_someone_else"),
                         await stripe_api.stripe_webhooks.send(event, signature="t=1,v1=deadbeef"),
                         await stripe_api.stripe_webhooks.send(event, signature="")):
            assert_error(response, 400, "INVALID_SIGNATURE")
        # A body changed after signing: the signature is over the raw bytes.
        payload = '{"id": "evt_x", "type": "payment_intent.succeeded"}'
        header = stripe_api.stripe_webhooks.sign(payload, stripe_api.stripe_webhooks.secret)
        tampered = await stripe_api.client.post("/api/v1/payments/webhooks/stripe", content=payload + " ",
                                                headers={"Stripe-Signature": header})
        assert_error(tampered, 400, "INVALID_SIGNATURE")
        [payment] = await stripe_api.payments(order["id"])
        assert payment.status == "requires_payment"
        assert await _processed_ids(stripe_api) == []
        assert await stripe_api.outbox("order.paid") == []

    async def test_a_stale_timestamp_is_refused_and_changes_nothing(self, stripe_api, fake_stripe) -> None:
        order, intent_id = await stripe_api.open_intent(fake_stripe)
        event = fake_stripe.event("payment_intent.succeeded", fake_stripe.succeed_intent(intent_id))
        stale = int(time.time()) - 301  # Stripe's tolerance is 300 s
        assert_error(await stripe_api.stripe_webhooks.send(event, timestamp=stale), 400, "INVALID_SIGNATURE")
        assert await _processed_ids(stripe_api) == []
        assert (await stripe_api.payments(order["id"]))[0].status == "requires_payment"
        # The same event, freshly signed, is then processed: the refusal recorded nothing.
        assert (await stripe_api.stripe_webhooks.send(event)).json()["status"] == "processed"

    async def test_a_signed_body_that_is_not_json_is_a_validation_error(self, stripe_api) -> None:
        payload = "not json"
        header = stripe_api.stripe_webhooks.sign(payload, stripe_api.stripe_webhooks.secret)
        response = await stripe_api.client.post("/api/v1/payments/webhooks/stripe", content=payload,
                                                headers={"Stripe-Signature": header})
        assert_error(response, 400, "VALIDATION_ERROR")


class TestOutOfOrder:
    async def test_late_events_never_move_a_succeeded_payment_back(self, stripe_api, fake_stripe) -> None:
        order, intent_id = await stripe_api.open_intent(fake_stripe)
        early = dict(fake_stripe.intents[intent_id])
        succeeded = fake_stripe.succeed_intent(intent_id)
        await stripe_api.stripe_webhooks.send(fake_stripe.event("payment_intent.succeeded", succeeded))
        for type_ in ("payment_intent.created", "payment_intent.processing", "payment_intent.payment_failed"):
            response = await stripe_api.stripe_webhooks.send(fake_stripe.event(type_, early))
            assert response.status_code == 200, response.text
        [payment] = await stripe_api.payments(order["id"])
        assert payment.status == "succeeded"
        assert await stripe_api.outbox("payment.failed") == []
        assert len(await stripe_api.outbox("order.paid")) == 1

    async def test_a_failure_then_a_retry_that_succeeds(self, stripe_api, fake_stripe) -> None:
        order, intent_id = await stripe_api.open_intent(fake_stripe)
        failed = fake_stripe.fail_intent(intent_id)
        await stripe_api.stripe_webhooks.send(fake_stripe.event("payment_intent.payment_failed", failed))
        [payment] = await stripe_api.payments(order["id"])
        assert payment.status == "failed" and payment.failure_reason == "Your card was declined."
        [event] = await stripe_api.outbox("payment.failed")
        assert event == {"order_id": order["id"], "payment_id": str(payment.id), "reason": "Your card was declined."}
        await stripe_api.stripe_webhooks.send(
            fake_stripe.event("payment_intent.succeeded", fake_stripe.succeed_intent(intent_id)))
        assert (await stripe_api.payments(order["id"]))[0].status == "succeeded"
        assert len(await stripe_api.outbox("order.paid")) == 1

    async def test_other_event_types_are_acknowledged_and_ignored(self, stripe_api, fake_stripe) -> None:
        response = await stripe_api.stripe_webhooks.send(fake_stripe.event("customer.created", {"id": "cus_1"}))
        assert response.status_code == 200 and response.json()["status"] == "ignored"
        unknown = fake_stripe.event("payment_intent.succeeded", {"id": "pi_not_ours", "amount": 100,
                                                                  "currency": "usd", "metadata": {}})
        assert (await stripe_api.stripe_webhooks.send(unknown)).json()["status"] == "ignored"


class TestCheckoutSession:
    async def test_checkout_session_completed_pays_the_order(self, stripe_api, fake_stripe) -> None:
        anon_id, headers = stripe_api.anon()
        order = stripe_api.orders.add(anon_id, total="12.34", currency="USD",
                                      items=[line("PACK_10", kind="credit_pack", quantity=2, unit_price="6.17",
                                                  attributes={"credits": 10})])
        response = await stripe_api.checkout(order["id"], headers)
        assert response.status_code == 200, response.text
        body = response.json()
        session = fake_stripe.sessions[body["session_id"]]
        assert body["checkout_url"] == session["url"]
        assert session["amount_total"] == 1234 and session["currency"] == "usd"
        assert session["metadata"]["order_id"] == order["id"]
        assert session["success_url"] == "http://shop.test/ok?session={CHECKOUT_SESSION_ID}"

        completed = fake_stripe.complete_session(body["session_id"])
        response = await stripe_api.stripe_webhooks.send(fake_stripe.event("checkout.session.completed", completed))
        assert response.json()["status"] == "processed"
        # Stripe also reports the session's intent; it is the same payment.
        intent = fake_stripe.intents[completed["payment_intent"]]
        await stripe_api.stripe_webhooks.send(fake_stripe.event("payment_intent.succeeded", intent))

        [payment] = await stripe_api.payments(order["id"])
        assert payment.status == "succeeded" and payment.provider_intent_id == completed["payment_intent"]
        [paid] = await stripe_api.outbox("order.paid")
        assert paid["amount"] == "12.34" and paid["lines"][0]["quantity"] == 2
        credits = [e.credits for e in await stripe_api.ledger(anon_id) if e.kind == "credit_purchase"]
        assert credits == [20]

    async def test_an_unpaid_completion_waits_for_the_async_payment(self, stripe_api, fake_stripe) -> None:
        anon_id, headers = stripe_api.anon()
        order = stripe_api.orders.add(anon_id)
        session_id = (await stripe_api.checkout(order["id"], headers)).json()["session_id"]
        session = {**fake_stripe.sessions[session_id], "status": "complete", "payment_status": "unpaid"}
        await stripe_api.stripe_webhooks.send(fake_stripe.event("checkout.session.completed", session))
        assert (await stripe_api.payments(order["id"]))[0].status == "processing"
        assert await stripe_api.outbox("order.paid") == []
        paid = {**session, "payment_status": "paid"}
        await stripe_api.stripe_webhooks.send(fake_stripe.event("checkout.session.async_payment_succeeded", paid))
        assert len(await stripe_api.outbox("order.paid")) == 1


class TestChargeRefunded:
    async def test_a_refund_made_at_stripe_refunds_the_payment(self, stripe_api, fake_stripe) -> None:
        order, intent_id = await stripe_api.open_intent(fake_stripe, total="20.00")
        await stripe_api.stripe_webhooks.send(
            fake_stripe.event("payment_intent.succeeded", fake_stripe.succeed_intent(intent_id)))
        charge = fake_stripe.charge_of(intent_id)
        for _ in range(2):
            response = await stripe_api.stripe_webhooks.send(fake_stripe.event("charge.refunded", charge))
            assert response.status_code == 200
        [payment] = await stripe_api.payments(order["id"])
        assert payment.status == "refunded"
        [refunded] = await stripe_api.outbox("payment.refunded")
        assert refunded == whole_refund(order, payment, refunded["refund_id"], reason="Refunded at the provider")
        amounts = [e.amount for e in await stripe_api.ledger()]
        assert amounts == [money("20.00"), money("-20.00")]

    async def test_a_partial_refund_is_left_to_staff(self, stripe_api, fake_stripe) -> None:
        order, intent_id = await stripe_api.open_intent(fake_stripe)
        await stripe_api.stripe_webhooks.send(
            fake_stripe.event("payment_intent.succeeded", fake_stripe.succeed_intent(intent_id)))
        partial = {**fake_stripe.charge_of(intent_id), "refunded": False, "amount_refunded": 100}
        assert (await stripe_api.stripe_webhooks.send(fake_stripe.event("charge.refunded", partial))).status_code == 200
        assert (await stripe_api.payments(order["id"]))[0].status == "succeeded"
        assert await stripe_api.outbox("payment.refunded") == []


class TestRefundBeforeSuccess:
    """Stripe sends events in no particular order: a refund reported before the payment's success
    is kept and applied when the success arrives (`order.paid`, then `payment.refunded`)."""

    @staticmethod
    async def _deliver(api, events: list[dict], *, replay: bool) -> None:
        for event in events:
            for n in range(2):  # each event twice: the same event replayed, or Stripe sending it again
                again = event if replay or n == 0 else {**event, "id": f"{event['id']}_again"}
                response = await api.stripe_webhooks.send(again)
                assert response.status_code == 200, response.text

    @pytest.mark.parametrize("replay", [True, False], ids=["replayed", "resent"])
    @pytest.mark.parametrize("refund_first", [True, False], ids=["refund_first", "success_first"])
    async def test_a_full_refund_in_either_order_is_applied_once(self, stripe_api, fake_stripe,
                                                                 refund_first: bool, replay: bool) -> None:
        order, intent_id = await stripe_api.open_intent(fake_stripe, total="20.00")
        succeeded = fake_stripe.event("payment_intent.succeeded", fake_stripe.succeed_intent(intent_id))
        refunded = fake_stripe.event("charge.refunded", fake_stripe.charge_of(intent_id))

        await self._deliver(stripe_api, [refunded, succeeded] if refund_first else [succeeded, refunded],
                            replay=replay)

        [payment] = await stripe_api.payments(order["id"])
        assert payment.status == "refunded" and payment.pays_order
        assert len(await stripe_api.outbox("order.paid")) == 1
        [event] = await stripe_api.outbox("payment.refunded")
        assert (event["amount"], event["is_full"], event["total_refunded"]) == ("20.00", True, "20.00")
        assert [(e.kind, e.amount) for e in await stripe_api.ledger()] == [
            ("payment", money("20.00")), ("refund", money("-20.00"))]
        assert _refunds_asked(fake_stripe, intent_id) == []  # refunded at Stripe already: never asked again

    @pytest.mark.parametrize("replay", [True, False], ids=["replayed", "resent"])
    @pytest.mark.parametrize("refund_first", [True, False], ids=["refund_first", "success_first"])
    async def test_a_partial_refund_object_in_either_order_is_applied_once(self, stripe_api, fake_stripe,
                                                                           refund_first: bool, replay: bool) -> None:
        order, intent_id = await stripe_api.open_intent(fake_stripe, total="20.00")
        intent = fake_stripe.succeed_intent(intent_id)
        succeeded = fake_stripe.event("payment_intent.succeeded", intent)
        refund = {"id": "re_made_at_stripe", "object": "refund", "amount": 500, "currency": "usd",
                  "charge": intent["latest_charge"], "payment_intent": intent_id, "status": "succeeded",
                  "metadata": {}}
        settled = fake_stripe.event("charge.refund.updated", refund)

        await self._deliver(stripe_api, [settled, succeeded] if refund_first else [succeeded, settled],
                            replay=replay)

        [payment] = await stripe_api.payments(order["id"])
        assert payment.status == "succeeded"
        assert len(await stripe_api.outbox("order.paid")) == 1
        [event] = await stripe_api.outbox("payment.refunded")
        assert (event["amount"], event["is_full"], event["total_refunded"]) == ("5.00", False, "5.00")
        assert [(e.kind, e.amount) for e in await stripe_api.ledger()] == [
            ("payment", money("20.00")), ("refund", money("-5.00"))]

    async def test_a_refund_for_a_payment_of_a_cancelled_order_is_not_asked_twice(
            self, stripe_api, fake_stripe) -> None:
        order, intent_id = await stripe_api.open_intent(fake_stripe, total="20.00")
        [payment] = await stripe_api.payments(order["id"])
        async with stripe_api.db.transaction() as s:  # the order was cancelled meanwhile
            row = await s.get(Payment, payment.id)
            assert row is not None
            row.status = "canceled"
        await stripe_api.stripe_webhooks.send(fake_stripe.event("charge.refunded", fake_stripe.charge_of(intent_id)))
        await stripe_api.stripe_webhooks.send(
            fake_stripe.event("payment_intent.succeeded", fake_stripe.succeed_intent(intent_id)))

        [payment] = await stripe_api.payments(order["id"])
        assert payment.status == "refunded" and not payment.pays_order
        assert await stripe_api.outbox("order.paid") == []
        assert len(await stripe_api.outbox("payment.returned")) == 1  # orders notes it in the history
        assert [(e.kind, e.amount) for e in await stripe_api.ledger()] == [
            ("payment", money("20.00")), ("refund", money("-20.00"))]
        assert _refunds_asked(fake_stripe, intent_id) == []
