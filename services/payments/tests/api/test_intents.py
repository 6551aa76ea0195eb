"""POST /payments/intents and /payments/confirm (S3): the amount always comes from the order."""

from __future__ import annotations

import uuid

from ..conftest import assert_error, line, money


class TestCreateIntent:
    async def test_amount_and_currency_come_from_the_order(self, stripe_api, fake_stripe) -> None:
        anon_id, headers = stripe_api.anon()
        order = stripe_api.orders.add(anon_id, total="85.50", currency="GEL")
        # A tampered amount and currency in the request change nothing.
        response = await stripe_api.intent(order["id"], headers, amount="0.01", currency="USD")
        assert response.status_code == 200, response.text
        body = response.json()
        intent = fake_stripe.intents[body["payment_intent_id"]]
        assert intent["amount"] == 8550 and intent["currency"] == "gel"
        assert intent["metadata"] == {"order_id": order["id"], "payment_id": body["payment_id"],
                                      "storefront": "default"}
        assert body["client_secret"] == intent["client_secret"]
        [(_, _, _params, key)] = [r for r in fake_stripe.requests if r[2].get("metadata", {}).get("order_id") == order["id"]]
        assert key == f"payment-intent-{body['payment_id']}"  # a retried create makes no second intent
        assert body["amount"] == "85.50" and body["currency"] == "GEL"
        [payment] = await stripe_api.payments(order["id"])
        assert payment.amount == money("85.50") and payment.status == "requires_payment"
        assert payment.anon_id == anon_id and payment.order_snapshot["buyer"]["email"] == "buyer@example.com"

    async def test_the_open_intent_of_the_order_is_reused(self, stripe_api, fake_stripe) -> None:
        anon_id, headers = stripe_api.anon()
        order = stripe_api.orders.add(anon_id)
        first = (await stripe_api.intent(order["id"], headers)).json()
        second = (await stripe_api.intent(order["id"], headers)).json()
        assert second["payment_intent_id"] == first["payment_intent_id"]
        assert second["client_secret"] == first["client_secret"]
        assert len(await stripe_api.payments(order["id"])) == 1

    async def test_another_owners_order_is_not_found(self, stripe_api, fake_stripe) -> None:
        order = stripe_api.orders.add(uuid.uuid4())
        _, headers = stripe_api.anon()
        assert_error(await stripe_api.intent(order["id"], headers), 404, "NOT_FOUND")
        _, user_headers = stripe_api.user()
        assert_error(await stripe_api.intent(order["id"], user_headers), 404, "NOT_FOUND")
        assert await stripe_api.payments(order["id"]) == []

    async def test_unknown_order_is_not_found(self, stripe_api) -> None:
        _, headers = stripe_api.anon()
        assert_error(await stripe_api.intent(str(uuid.uuid4()), headers), 404, "NOT_FOUND")

    async def test_an_order_that_is_not_pending_or_awaiting_payment_is_not_payable(self, stripe_api) -> None:
        anon_id, headers = stripe_api.anon()
        for status in ("paid", "cancelled", "shipped", "rejected"):
            order = stripe_api.orders.add(anon_id, status=status)
            details = assert_error(await stripe_api.intent(order["id"], headers), 409, "ORDER_NOT_PAYABLE")["details"]
            assert details == {"status": status}

    async def test_a_caller_without_any_token_is_refused(self, stripe_api) -> None:
        order = stripe_api.orders.add(uuid.uuid4())
        assert_error(await stripe_api.intent(order["id"], {}), 401, "AUTHENTICATION_REQUIRED")

    async def test_a_malformed_order_id_is_a_validation_error(self, stripe_api) -> None:
        _, headers = stripe_api.anon()
        assert_error(await stripe_api.intent("not-a-uuid", headers), 400, "VALIDATION_ERROR")
        response = await stripe_api.client.post("/api/v1/payments/intents", json={"order_id": 12}, headers=headers)
        assert_error(response, 400, "VALIDATION_ERROR")

    async def test_an_order_the_user_placed_anonymously_can_be_paid_after_login(self, stripe_api) -> None:
        anon_id, user_id = uuid.uuid4(), uuid.uuid4()
        order = stripe_api.orders.add(anon_id)
        headers = {**stripe_api.keys.user_headers(user_id), **stripe_api.keys.anon_headers(anon_id)}
        assert (await stripe_api.intent(order["id"], headers)).status_code == 200


class TestConfirm:
    async def test_a_succeeded_intent_pays_the_order_once(self, stripe_api, fake_stripe) -> None:
        anon_id, headers = stripe_api.anon()
        order = stripe_api.orders.add(anon_id, items=[line("PACK_5", kind="credit_pack", unit_price="85.50",
                                                           attributes={"credits": 5})])
        intent_id = (await stripe_api.intent(order["id"], headers)).json()["payment_intent_id"]
        fake_stripe.succeed_intent(intent_id)
        for _ in range(2):
            response = await stripe_api.confirm(order["id"], intent_id, headers)
            assert response.status_code == 200, response.text
            assert response.json()["status"] == "succeeded"
        [paid] = await stripe_api.outbox("order.paid")
        assert paid["order_id"] == order["id"] and paid["anon_id"] == str(anon_id) and paid["amount"] == "85.50"
        assert paid["provider"] == "stripe" and paid["lines"][0]["sku"] == "PACK_5"
        assert paid["buyer"] == {"email": "buyer@example.com", "first_name": "Ada", "last_name": "Lovelace",
                                 "phone": "+15550100"}
        kinds = sorted((e.kind, e.amount, e.credits) for e in await stripe_api.ledger(anon_id))
        assert kinds == [("credit_purchase", None, 5), ("payment", money("85.50"), None)]

    async def test_an_unfinished_intent_is_not_completed_with_its_status(self, stripe_api, fake_stripe) -> None:
        anon_id, headers = stripe_api.anon()
        order = stripe_api.orders.add(anon_id)
        intent_id = (await stripe_api.intent(order["id"], headers)).json()["payment_intent_id"]
        details = assert_error(await stripe_api.confirm(order["id"], intent_id, headers), 400, "PAYMENT_NOT_COMPLETED")["details"]
        assert details == {"status": "requires_payment_method"}
        assert await stripe_api.outbox("order.paid") == []

    async def test_someone_elses_intent_is_not_found(self, stripe_api, fake_stripe) -> None:
        anon_id, headers = stripe_api.anon()
        order = stripe_api.orders.add(anon_id)
        intent_id = (await stripe_api.intent(order["id"], headers)).json()["payment_intent_id"]
        fake_stripe.succeed_intent(intent_id)
        _, other = stripe_api.anon()
        assert_error(await stripe_api.confirm(order["id"], intent_id, other), 404, "NOT_FOUND")
        assert await stripe_api.outbox("order.paid") == []
