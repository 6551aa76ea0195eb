"""POST /credits/purchase (S2): orders creates the order, then a checkout session is opened."""

from __future__ import annotations

from ..conftest import PUBLIC_URL, assert_error


class TestPurchaseCredits:
    async def test_a_pack_becomes_an_order_and_a_checkout_url(self, api) -> None:
        user_id, headers = api.user()
        response = await api.client.post("/api/v1/credits/purchase", json={"sku": "PACK_5"}, headers=headers)
        assert response.status_code == 200, response.text
        body = response.json()
        assert api.orders.created == [{"owner_id": str(user_id), "user_id": str(user_id),
                                       "items": [{"sku": "PACK_5", "quantity": 1}], "storefront": "default"}]
        assert body["order_id"] in api.orders.orders
        assert body["checkout_url"] == f"{PUBLIC_URL}/api/dev/checkout/{body['session_id']}"
        # Paying it grants the pack's credits in the ledger and announces the paid order.
        paid = await api.client.post(f"/api/dev/checkout/{body['session_id']}/pay",
                                     headers={"Accept": "application/json"})
        assert paid.json()["redirect_url"] == f"http://localhost:3000/payment/success?session_id={body['session_id']}"
        [event] = await api.outbox("order.paid")
        assert event["user_id"] == str(user_id) and event["anon_id"] is None
        assert event["amount"] == "4.99" and event["lines"][0]["kind"] == "credit_pack"
        ledger = await api.client.get("/api/v1/billing/ledger", headers=headers)
        kinds = {(e["kind"], e["amount"], e["credits"]) for e in ledger.json()["results"]}
        assert kinds == {("payment", "4.99", None), ("credit_purchase", None, 5)}

    async def test_with_stripe_the_checkout_is_a_stripe_session(self, stripe_api, fake_stripe) -> None:
        _, headers = stripe_api.user()
        response = await stripe_api.client.post("/api/v1/credits/purchase", json={"sku": "PACK_10"}, headers=headers)
        assert response.status_code == 200, response.text
        session = fake_stripe.sessions[response.json()["session_id"]]
        assert response.json()["checkout_url"] == session["url"]
        assert session["amount_total"] == 899
        assert session["success_url"] == "http://localhost:3000/payment/success?session_id={CHECKOUT_SESSION_ID}"

    async def test_an_unknown_sku_is_invalid(self, api) -> None:
        _, headers = api.user()
        details = assert_error(await api.client.post("/api/v1/credits/purchase", json={"sku": "NOPE"},
                                                     headers=headers), 400, "INVALID_SKU")["details"]
        assert details == {"sku": "NOPE"}

    async def test_a_sold_out_sku_is_a_409_not_orders_being_down(self, api) -> None:
        """Orders' 409 was answered 503 SERVICE_UNAVAILABLE (schemathesis's stateful run found it)."""
        _, headers = api.user()
        api.orders.sold_out.add("PACK_5")
        details = assert_error(await api.client.post("/api/v1/credits/purchase", json={"sku": "PACK_5"},
                                                     headers=headers), 409, "INSUFFICIENT_STOCK")["details"]
        assert details == {"sku": "PACK_5"}

    async def test_anonymous_callers_must_sign_in(self, api) -> None:
        _, headers = api.anon()
        response = await api.client.post("/api/v1/credits/purchase", json={"sku": "PACK_5"}, headers=headers)
        assert_error(response, 401, "AUTHENTICATION_REQUIRED")
        assert api.orders.created == []

    async def test_a_missing_or_mistyped_sku_is_a_validation_error(self, api) -> None:
        _, headers = api.user()
        assert_error(await api.client.post("/api/v1/credits/purchase", json={}, headers=headers), 400,
                     "VALIDATION_ERROR")
        assert_error(await api.client.post("/api/v1/credits/purchase", json={"sku": 5}, headers=headers), 400,
                     "VALIDATION_ERROR")
