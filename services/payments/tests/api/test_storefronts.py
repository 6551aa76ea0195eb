"""Payments per storefront: a payment is its order's storefront's, a subscription the
request's. The provider is sent that storefront's statement descriptor and pages; every row, event
and response names the storefront; the default storefront's calls are as before."""

from __future__ import annotations

import uuid
from typing import Any

from sqlmodel import col, select

from atelier_common.contracts.generation import CreditConsumed
from atelier_common.contracts.identity import Storefront
from atelier_common.settings import DEV_SECRET
from atelier_payments.models import CheckoutSession, LedgerEntry, Refund, Subscription, SubscriptionInvoice
from atelier_testing.fakes.stripe import FakeStripe
from atelier_testing.storefronts import add_storefront, make_storefront, on_storefront

from ..conftest import PUBLIC_URL

B_SUCCESS = "https://b.example/paid?session={CHECKOUT_SESSION_ID}"
B_CANCEL = "https://b.example/basket"
REQUEST_SUCCESS = "http://shop.test/ok?session={CHECKOUT_SESSION_ID}"
REQUEST_CANCEL = "http://shop.test/cancelled"


def _b(api, **overrides: Any) -> Storefront:
    """Storefront `b` (EUR) in the running service's copy, as identity's event would put it."""
    values: dict[str, Any] = {"statement_descriptor": "BSHOP", "success_url": B_SUCCESS, "cancel_url": B_CANCEL,
                              **overrides}
    return add_storefront(api.h.app, make_storefront("b", **values))


def _sent(fake: FakeStripe, path: str, order_id: str) -> dict[str, Any]:
    """What payments sent to Stripe's `path` for the order (the one request)."""
    [params] = [p for method, called, p, _ in fake.requests
                if method == "POST" and called == path and (p.get("metadata") or {}).get("order_id") == order_id]
    return params



async def _started(api, fake: FakeStripe, start: str,
                   **order: Any) -> tuple[Any, dict[str, Any], Any, dict[str, Any]]:
    """An anonymous buyer's order (`order`: the fields of orders' copy) paid through Stripe's `start`
    (`intent` or `checkout`), started: the buyer, the order, the answer, and what payments sent
    Stripe for it."""
    anon_id, headers = api.anon()
    placed = api.orders.add(anon_id, **order)
    response = await getattr(api, start)(placed["id"], headers)
    assert response.status_code == 200, response.text
    path = {"intent": "/v1/payment_intents", "checkout": "/v1/checkout/sessions"}[start]
    return anon_id, placed, response, _sent(fake, path, placed["id"])

async def _rows(api, model: Any, **where: Any) -> list[Any]:
    async with api.db.read_only() as s:
        stmt = select(model)
        for name, value in where.items():
            stmt = stmt.where(col(getattr(model, name)) == value)
        return list((await s.exec(stmt)).all())


class TestStripeIntents:
    async def test_an_order_of_b_is_charged_with_bs_descriptor_and_stays_bs(self, stripe_api, fake_stripe) -> None:
        _b(stripe_api)
        anon_id, order, response, sent = await _started(
            stripe_api, fake_stripe, "intent", total="42.00", currency="EUR", storefront="b")
        assert sent["statement_descriptor_suffix"] == "BSHOP"
        assert sent["currency"] == "eur" and sent["amount"] == "4200"  # the order's
        assert sent["metadata"]["storefront"] == "b"
        [payment] = await stripe_api.payments(order["id"])
        assert payment.storefront == "b"

        intent = fake_stripe.succeed_intent(response.json()["payment_intent_id"])
        assert (await stripe_api.stripe_webhooks.send(fake_stripe.event("payment_intent.succeeded", intent))
                ).json()["status"] == "processed"
        [paid] = await stripe_api.outbox("order.paid")
        assert paid["order_id"] == order["id"] and paid["storefront"] == "b"
        assert {e.storefront for e in await stripe_api.ledger(anon_id)} == {"b"}

    async def test_the_default_storefronts_intent_is_as_before(self, stripe_api, fake_stripe) -> None:
        _b(stripe_api)  # another storefront existing changes nothing for the default's orders
        # Orders names no storefront: the default's.
        _anon_id, order, response, sent = await _started(stripe_api, fake_stripe, "intent")
        assert "statement_descriptor_suffix" not in sent
        assert sent["metadata"] == {"order_id": order["id"], "payment_id": response.json()["payment_id"],
                                    "storefront": "default"}
        [payment] = await stripe_api.payments(order["id"])
        assert payment.storefront == "default"
        intent = fake_stripe.succeed_intent(response.json()["payment_intent_id"])
        await stripe_api.stripe_webhooks.send(fake_stripe.event("payment_intent.succeeded", intent))
        [paid] = await stripe_api.outbox("order.paid")
        assert paid["storefront"] == "default"

    async def test_a_descriptor_stripe_would_refuse_is_made_acceptable(self, stripe_api, fake_stripe) -> None:
        _b(stripe_api, statement_descriptor='B "Shop" <with> a name far too long*')
        anon_id, headers = stripe_api.anon()
        order = stripe_api.orders.add(anon_id, storefront="b")
        assert (await stripe_api.intent(order["id"], headers)).status_code == 200
        suffix = _sent(fake_stripe, "/v1/payment_intents", order["id"])["statement_descriptor_suffix"]
        assert suffix == "B Shop with a name far"
        assert len(suffix) <= 22

    async def test_an_unknown_storefront_is_charged_with_the_platforms_details(self, stripe_api,
                                                                               fake_stripe) -> None:
        # Deleted since the order was placed.
        _anon_id, order, _response, sent = await _started(stripe_api, fake_stripe, "intent", storefront="gone")
        assert "statement_descriptor_suffix" not in sent and sent["metadata"]["storefront"] == "gone"
        [payment] = await stripe_api.payments(order["id"])
        assert payment.storefront == "gone"


class TestStripeCheckout:
    async def test_bs_checkout_returns_to_bs_pages_with_bs_descriptor(self, stripe_api, fake_stripe) -> None:
        _b(stripe_api)
        _anon_id, order, response, sent = await _started(
            stripe_api, fake_stripe, "checkout", total="12.00", currency="EUR", storefront="b")
        assert sent["success_url"] == B_SUCCESS and sent["cancel_url"] == B_CANCEL
        assert sent["payment_intent_data"]["statement_descriptor_suffix"] == "BSHOP"
        assert sent["payment_intent_data"]["metadata"]["storefront"] == "b"
        assert sent["metadata"]["storefront"] == "b"
        assert sent["line_items"][0]["price_data"]["currency"] == "eur"

        completed = fake_stripe.complete_session(response.json()["session_id"])
        await stripe_api.stripe_webhooks.send(fake_stripe.event("checkout.session.completed", completed))
        [payment] = await stripe_api.payments(order["id"])
        assert payment.status == "succeeded" and payment.storefront == "b"
        [paid] = await stripe_api.outbox("order.paid")
        assert paid["storefront"] == "b"

    async def test_a_storefront_without_pages_returns_to_the_requests(self, stripe_api, fake_stripe) -> None:
        _b(stripe_api, success_url=None, cancel_url=None)
        _anon_id, _order, _response, sent = await _started(stripe_api, fake_stripe, "checkout", storefront="b")
        assert sent["success_url"] == REQUEST_SUCCESS and sent["cancel_url"] == REQUEST_CANCEL
        assert sent["payment_intent_data"]["statement_descriptor_suffix"] == "BSHOP"

    async def test_the_default_storefronts_checkout_is_as_before(self, stripe_api, fake_stripe) -> None:
        _b(stripe_api)
        _anon_id, _order, _response, sent = await _started(stripe_api, fake_stripe, "checkout")
        assert sent["success_url"] == REQUEST_SUCCESS and sent["cancel_url"] == REQUEST_CANCEL
        assert "statement_descriptor_suffix" not in sent["payment_intent_data"]
        assert sent["metadata"]["storefront"] == "default"


class TestCreditPurchase:
    async def test_a_pack_bought_on_b_is_an_order_of_b(self, stripe_api, fake_stripe) -> None:
        _b(stripe_api)
        user_id, headers = stripe_api.user()
        response = await stripe_api.client.post("/api/v1/credits/purchase", json={"sku": "PACK_5"},
                                                 headers={**headers, **on_storefront("b")})
        assert response.status_code == 200, response.text
        assert stripe_api.orders.created[-1]["storefront"] == "b"
        order_id = response.json()["order_id"]
        sent = _sent(fake_stripe, "/v1/checkout/sessions", order_id)
        # B's pages replace the settings' credit pages.
        assert sent["success_url"] == B_SUCCESS and sent["cancel_url"] == B_CANCEL
        assert sent["payment_intent_data"]["statement_descriptor_suffix"] == "BSHOP"
        completed = fake_stripe.complete_session(response.json()["session_id"])
        await stripe_api.stripe_webhooks.send(fake_stripe.event("checkout.session.completed", completed))
        [paid] = await stripe_api.outbox("order.paid")
        assert paid["storefront"] == "b"
        entries = await stripe_api.ledger(user_id)
        assert {(e.kind, e.storefront) for e in entries} == {("payment", "b"), ("credit_purchase", "b")}

    async def test_an_orders_answer_without_the_storefront_keeps_the_requests(self, api) -> None:
        _b(api)
        api.orders.echo_storefront = False
        _, headers = api.user()
        response = await api.client.post("/api/v1/credits/purchase", json={"sku": "PACK_5"},
                                          headers={**headers, **on_storefront("b")})
        assert response.status_code == 200, response.text
        [payment] = await api.payments(response.json()["order_id"])
        assert payment.storefront == "b"

    async def test_an_unknown_storefront_header_is_refused_and_orders_not_called(self, api) -> None:
        _, headers = api.user()
        response = await api.client.post("/api/v1/credits/purchase", json={"sku": "PACK_5"},
                                          headers={**headers, **on_storefront("nope")})
        assert response.status_code == 400 and response.json()["error"]["code"] == "UNKNOWN_STOREFRONT"
        assert api.orders.created == []


class TestLocalCheckout:
    async def test_the_page_shows_bs_name_and_returns_to_bs_pages(self, api) -> None:
        _b(api)
        anon_id, headers = api.anon()
        order = api.orders.add(anon_id, total="30.00", currency="EUR", storefront="b")
        body = (await api.checkout(order["id"], headers)).json()
        session_id = body["session_id"]
        assert body["checkout_url"] == f"{PUBLIC_URL}/api/dev/checkout/{session_id}"
        page = await api.client.get(f"/api/dev/checkout/{session_id}")
        assert page.status_code == 200 and "Storefront B" in page.text and "30.00 EUR" in page.text
        assert f'href="{B_CANCEL}"' in page.text
        [checkout] = await _rows(api, CheckoutSession, id=session_id)
        assert checkout.storefront == "b"
        paid = await api.client.post(f"/api/dev/checkout/{session_id}/pay")
        assert paid.status_code == 303
        assert paid.headers["location"] == B_SUCCESS.replace("{CHECKOUT_SESSION_ID}", session_id)
        [event] = await api.outbox("order.paid")
        assert event["storefront"] == "b"

    async def test_the_default_storefronts_page_is_as_before(self, api) -> None:
        anon_id, headers = api.anon()
        order = api.orders.add(anon_id)
        session_id = (await api.checkout(order["id"], headers)).json()["session_id"]
        page = await api.client.get(f"/api/dev/checkout/{session_id}")
        assert "Atelier" in page.text and 'href="http://shop.test/cancelled"' in page.text
        paid = await api.client.post(f"/api/dev/checkout/{session_id}/pay")
        assert paid.headers["location"] == f"http://shop.test/ok?session={session_id}"


class TestRefunds:
    async def test_a_refund_of_bs_payment_is_bs(self, api) -> None:
        _b(api)
        anon_id, headers = api.anon()
        order = api.orders.add(anon_id, total="20.00", currency="EUR", storefront="b")
        session_id = (await api.checkout(order["id"], headers)).json()["session_id"]
        assert (await api.client.post(f"/api/dev/checkout/{session_id}/pay")).status_code == 303
        response = await api.client.post("/api/v1/payments/refunds", headers=api.keys.staff_headers(),
                                         json={"order_id": order["id"], "amount": "5.00", "reason": "late"})
        assert response.status_code == 201, response.text
        assert response.json()["storefront"] == "b"
        [refund] = await _rows(api, Refund, order_id=uuid.UUID(order["id"]))
        assert refund.storefront == "b"
        [event] = await api.outbox("payment.refunded")
        assert event["storefront"] == "b" and event["amount"] == "5.00"
        assert {e.storefront for e in await api.ledger(anon_id)} == {"b"}


class TestInternalAndLedger:
    async def test_an_orders_payments_name_their_storefront(self, api) -> None:
        _b(api)
        anon_id, headers = api.anon()
        order = api.orders.add(anon_id, storefront="b")
        assert (await api.checkout(order["id"], headers)).status_code == 200
        response = await api.client.get(f"/internal/orders/{order['id']}/payments",
                                        headers={"X-Service-Token": DEV_SECRET})
        assert response.status_code == 200, response.text
        assert [p["storefront"] for p in response.json()["results"]] == ["b"]

    async def test_credits_used_on_b_are_bs_entries(self, api) -> None:
        user_id, headers = api.user()
        await api.h.deliver(CreditConsumed(user_id=user_id, credits=2, reason="job", balance_after=3, storefront="b"))
        await api.h.deliver(CreditConsumed(user_id=user_id, credits=1, reason="job", balance_after=2))
        results = (await api.client.get("/api/v1/billing/ledger", headers=headers)).json()["results"]
        assert [(e["credits"], e["storefront"]) for e in results] == [(-1, "default"), (-2, "b")]


class TestSubscriptions:
    async def test_a_local_plan_subscribed_on_b_is_bs_through_its_lifecycle(self, api) -> None:
        _b(api)
        user_id, headers = api.user()
        response = await api.client.post("/api/v1/subscriptions/checkout", headers={**headers, **on_storefront("b")},
                                         json={"plan_id": "pro_monthly", "success_url": "http://shop.test/ok",
                                               "cancel_url": "http://shop.test/no"})
        assert response.status_code == 200, response.text
        path = response.json()["checkout_url"].removeprefix(PUBLIC_URL)
        page = await api.client.get(path)
        assert "Storefront B" in page.text and f'href="{B_CANCEL}"' in page.text
        paid = await api.client.post(path + "/pay", headers={"Accept": "application/json"})
        assert paid.json()["checkout_url"] == B_SUCCESS.replace("{CHECKOUT_SESSION_ID}", path.rsplit("/", 1)[-1])
        await api.client.post("/api/dev/subscriptions/advance", json={"user_id": str(user_id), "outcome": "paid"})

        changes = [e for e in await api.outbox("subscription.changed") if e["user_id"] == str(user_id)]
        assert len(changes) == 2 and {e["storefront"] for e in changes} == {"b"}
        [subscription] = await _rows(api, Subscription, user_id=user_id)
        assert subscription.storefront == "b"
        history = (await api.client.get("/api/v1/subscriptions/history", headers=headers)).json()["results"]
        assert len(history) == 2 and {i["storefront"] for i in history} == {"b"}
        assert {i.storefront for i in await _rows(api, SubscriptionInvoice, user_id=user_id)} == {"b"}
        assert {e.storefront for e in await _rows(api, LedgerEntry, owner_id=user_id)} == {"b"}

    async def test_a_local_plan_without_a_storefront_is_the_defaults(self, api) -> None:
        _b(api)
        _, headers = api.user()
        response = await api.client.post("/api/v1/subscriptions/checkout", headers=headers,
                                         json={"plan_id": "pro_monthly", "success_url": "http://shop.test/ok",
                                               "cancel_url": "http://shop.test/no"})
        path = response.json()["checkout_url"].removeprefix(PUBLIC_URL)
        paid = await api.client.post(path + "/pay", headers={"Accept": "application/json"})
        assert paid.json()["checkout_url"] == "http://shop.test/ok"
        [change] = await api.outbox("subscription.changed")
        assert change["storefront"] == "default"

    async def test_a_stripe_plan_subscribed_on_b_carries_b_to_subscription_changed(self, stripe_api,
                                                                                    fake_stripe) -> None:
        _b(stripe_api)
        user_id, headers = stripe_api.user()
        response = await stripe_api.client.post(
            "/api/v1/subscriptions/checkout", headers={**headers, **on_storefront("b")},
            json={"plan_id": "pro_monthly", "success_url": "http://shop.test/ok", "cancel_url": "http://shop.test/no"})
        assert response.status_code == 200, response.text
        session = fake_stripe.sessions[response.json()["checkout_url"].rsplit("/", 1)[-1]]
        assert session["success_url"] == B_SUCCESS and session["cancel_url"] == B_CANCEL
        assert session["metadata"]["storefront"] == "b"
        assert session["subscription_data"]["metadata"]["storefront"] == "b"
        for event in fake_stripe.complete_subscription_session(session["id"]):
            assert (await stripe_api.stripe_webhooks.send(event)).status_code == 200
        changes = [e for e in await stripe_api.outbox("subscription.changed") if e["user_id"] == str(user_id)]
        assert changes and {e["storefront"] for e in changes} == {"b"}
        assert changes[-1]["status"] == "active"
        history = (await stripe_api.client.get("/api/v1/subscriptions/history", headers=headers)).json()["results"]
        assert history and {i["storefront"] for i in history} == {"b"}
