"""Idempotency-Key on the routes that start payments: a retry is the first answer, never a second charge."""

from __future__ import annotations

import uuid

from ..conftest import assert_error

CHECKOUT = {"success_url": "http://shop.test/ok", "cancel_url": "http://shop.test/cancelled"}


class TestIntents:
    async def test_the_same_key_answers_the_first_intent(self, stripe_api, fake_stripe) -> None:
        anon_id, headers = stripe_api.anon()
        order = stripe_api.orders.add(anon_id)
        keyed = {**headers, "Idempotency-Key": str(uuid.uuid4())}
        first = await stripe_api.intent(order["id"], keyed)
        again = await stripe_api.intent(order["id"], keyed)
        assert first.status_code == again.status_code == 200, first.text
        assert again.content == first.content and again.headers["idempotent-replayed"] == "true"
        assert len(await stripe_api.payments(order["id"])) == 1

    async def test_the_same_key_for_another_order_is_refused(self, api) -> None:
        anon_id, headers = api.anon()
        first, second = api.orders.add(anon_id), api.orders.add(anon_id)
        keyed = {**headers, "Idempotency-Key": "pay-1"}
        assert (await api.intent(first["id"], keyed)).status_code == 200
        assert_error(await api.intent(second["id"], keyed), 409, "IDEMPOTENCY_KEY_REUSED")
        assert await api.payments(second["id"]) == []


class TestCheckout:
    async def test_a_retried_checkout_makes_one_payment(self, api) -> None:
        anon_id, headers = api.anon()
        order = api.orders.add(anon_id)
        keyed = {**headers, "Idempotency-Key": str(uuid.uuid4())}
        body = {"order_id": order["id"], **CHECKOUT}
        responses = [await api.client.post("/api/v1/payments/checkout", json=body, headers=keyed) for _ in range(3)]
        assert {r.status_code for r in responses} == {200}
        assert len({r.content for r in responses}) == 1
        assert len(await api.payments(order["id"])) == 1

    async def test_without_a_key_each_checkout_is_new(self, api) -> None:
        anon_id, headers = api.anon()
        order = api.orders.add(anon_id)
        for _ in range(2):
            assert (await api.checkout(order["id"], headers)).status_code == 200
        assert len(await api.payments(order["id"])) == 2


class TestCreditPurchase:
    async def test_a_retried_purchase_creates_one_order(self, api) -> None:
        _, headers = api.user()
        keyed = {**headers, "Idempotency-Key": str(uuid.uuid4())}
        first = await api.client.post("/api/v1/credits/purchase", json={"sku": "PACK_5"}, headers=keyed)
        again = await api.client.post("/api/v1/credits/purchase", json={"sku": "PACK_5"}, headers=keyed)
        assert first.status_code == again.status_code == 200, first.text
        assert again.content == first.content
        assert len(api.orders.created) == 1
        assert_error(await api.client.post("/api/v1/credits/purchase", json={"sku": "PACK_10"}, headers=keyed),
                     409, "IDEMPOTENCY_KEY_REUSED")
        assert len(api.orders.created) == 1
