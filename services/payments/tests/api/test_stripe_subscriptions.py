"""Subscriptions through Stripe (S4): checkout in subscription mode, portal, cancel / reactivate,
and the lifecycle from signed Stripe events against the fake Stripe server — each event delivered
twice and in shuffled orders, with exactly one effect each."""

from __future__ import annotations

import itertools
import random
import uuid
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlmodel import select

from atelier_payments.models import ProcessedWebhook

from ..conftest import assert_error, money
from ..fake_subscription_services import PLANS

CHECKOUT = {"plan_id": "pro_monthly", "success_url": "http://shop.test/ok?s={CHECKOUT_SESSION_ID}",
            "cancel_url": "http://shop.test/no"}


async def _checkout(api, fake, headers: dict[str, str], plan: str = "pro_monthly") -> dict[str, Any]:
    response = await api.client.post("/api/v1/subscriptions/checkout", headers=headers,
                                     json={**CHECKOUT, "plan_id": plan})
    assert response.status_code == 200, response.text
    url = response.json()["checkout_url"]
    session = fake.sessions[url.rsplit("/", 1)[-1]]
    assert session["url"] == url
    return session


async def _subscribe(api, fake, headers: dict[str, str]) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Checkout, then the customer pays on Stripe's page: the session and the events Stripe sends."""
    session = await _checkout(api, fake, headers)
    events = fake.complete_subscription_session(session["id"])
    return fake.sessions[session["id"]], events


async def _deliver(api, events: list[dict[str, Any]], seed: int) -> list[str]:
    """Every event twice, in an order shuffled by `seed`; each answer 200; the statuses."""
    deliveries = [*events, *events]
    random.Random(seed).shuffle(deliveries)
    statuses = []
    for event in deliveries:
        response = await api.stripe_webhooks.send(event)
        assert response.status_code == 200, response.text
        statuses.append(response.json()["status"])
    assert statuses.count("duplicate") == len(events)
    return statuses


def _fresh(fake, events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The same snapshots again under new event ids (Stripe sending old news late)."""
    return [fake.event(e["type"], e["data"]["object"]) for e in events]


async def _current(api, headers: dict[str, str]) -> dict[str, Any]:
    response = await api.client.get("/api/v1/subscriptions/current", headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


async def _changes(api, user_id: uuid.UUID) -> list[dict[str, Any]]:
    return [e for e in await api.outbox("subscription.changed") if e["user_id"] == str(user_id)]


async def _history(api, headers: dict[str, str]) -> list[dict[str, Any]]:
    response = await api.client.get("/api/v1/subscriptions/history", headers=headers)
    assert response.status_code == 200, response.text
    return response.json()["results"]


def _at(epoch: int) -> datetime:
    return datetime.fromtimestamp(epoch, UTC)


def _when(value: str) -> datetime:
    return datetime.fromisoformat(value)


class TestCheckout:
    async def test_a_subscription_mode_session_with_the_plans_price(self, stripe_api, fake_stripe) -> None:
        user_id, headers = stripe_api.user()
        session = await _checkout(stripe_api, fake_stripe, headers)
        assert session["mode"] == "subscription" and session["prices"] == ["price_pro_monthly"]
        assert session["amount_total"] == 1999 and session["currency"] == "usd"
        assert session["client_reference_id"] == str(user_id)
        assert session["metadata"] == {"user_id": str(user_id), "plan_id": PLANS["pro_monthly"]["id"],
                                       "plan_sku": "pro_monthly", "storefront": "default"}
        assert session["subscription_data"]["metadata"] == session["metadata"]
        assert session["success_url"] == CHECKOUT["success_url"] and session["cancel_url"] == CHECKOUT["cancel_url"]
        customer = fake_stripe.customers[session["customer"]]
        assert customer["metadata"] == {"user_id": str(user_id)}
        # A second checkout (the first was abandoned) reuses the user's customer.
        again = await _checkout(stripe_api, fake_stripe, headers, plan="studio_monthly")
        assert again["customer"] == session["customer"] and again["prices"] == ["price_studio_monthly"]
        # Nothing is held until Stripe says so.
        current = await _current(stripe_api, headers)
        assert current["tier"] == "free" and current["plan_id"] is None and current["status"] is None
        assert await _changes(stripe_api, user_id) == []
        assert_error(await stripe_api.client.post("/api/v1/subscriptions/portal", headers=headers), 404, "NOT_FOUND")

    async def test_a_plan_without_a_stripe_price_is_sold_at_its_catalog_price(self, stripe_api, fake_stripe,
                                                                            monkeypatch) -> None:
        monkeypatch.setitem(PLANS["pro_monthly"], "attributes",
                            {**PLANS["pro_monthly"]["attributes"], "provider_price_id": None})
        _, headers = stripe_api.user()
        session = await _checkout(stripe_api, fake_stripe, headers)
        [item] = session["line_items_sent"]
        assert item["price_data"]["unit_amount"] == "1999" and item["price_data"]["recurring"] == {"interval": "month"}
        assert session["amount_total"] == 1999

    async def test_the_idempotency_key_answers_the_first_session(self, stripe_api, fake_stripe) -> None:
        _, headers = stripe_api.user()
        keyed = {**headers, "Idempotency-Key": str(uuid.uuid4())}
        before = len(fake_stripe.sessions)
        first = await stripe_api.client.post("/api/v1/subscriptions/checkout", headers=keyed, json=CHECKOUT)
        again = await stripe_api.client.post("/api/v1/subscriptions/checkout", headers=keyed, json=CHECKOUT)
        assert first.status_code == again.status_code == 200, first.text
        assert again.content == first.content and again.headers["idempotent-replayed"] == "true"
        assert len(fake_stripe.sessions) == before + 1
        other = await stripe_api.client.post("/api/v1/subscriptions/checkout", headers=keyed,
                                             json={**CHECKOUT, "plan_id": "studio_monthly"})
        assert_error(other, 409, "IDEMPOTENCY_KEY_REUSED")
        assert len(fake_stripe.sessions) == before + 1

    async def test_the_local_checkout_takes_an_idempotency_key_too(self, api) -> None:
        _, headers = api.user()
        keyed = {**headers, "Idempotency-Key": "sub-1"}
        first = await api.client.post("/api/v1/subscriptions/checkout", headers=keyed, json=CHECKOUT)
        again = await api.client.post("/api/v1/subscriptions/checkout", headers=keyed, json=CHECKOUT)
        assert first.status_code == 200 and again.content == first.content


class TestEventsInAnyOrder:
    async def test_the_first_events_in_every_order_each_twice(self, stripe_api, fake_stripe) -> None:
        """created (incomplete) / invoice.paid / updated (active) / checkout.session.completed, in
        all 24 orders, each delivered twice: one change, one invoice, one ledger entry."""
        for number, order in enumerate(itertools.permutations(range(4))):
            user_id, headers = stripe_api.user()
            session, events = await _subscribe(stripe_api, fake_stripe, headers)
            fake_stripe.take_events()
            statuses = await _deliver(stripe_api, [events[i] for i in order], seed=number)
            assert statuses.count("processed") == 4, (order, statuses)
            current = await _current(stripe_api, headers)
            subscription = fake_stripe.subscriptions[session["subscription"]]
            assert (current["plan_id"], current["tier"], current["status"]) == ("pro_monthly", "pro", "active"), order
            assert _when(current["current_period_end"]) == _at(subscription["current_period_end"])
            [change] = await _changes(stripe_api, user_id)
            assert (change["tier"], change["status"], change["monthly_quota"]) == ("pro", "active", 200)
            [invoice] = await _history(stripe_api, headers)
            assert invoice["provider_invoice_id"] == subscription["latest_invoice"] and invoice["status"] == "paid"
            assert [e.amount for e in await stripe_api.ledger(user_id)] == [money("19.99")]

    async def test_a_renewal_delivered_before_the_subscription_is_known(self, stripe_api, fake_stripe) -> None:
        """Two periods' events arrive together, shuffled: the renewal's invoice.paid may come
        first of all. Stripe's current state is applied once; both invoices are recorded."""
        for seed in range(3):
            user_id, headers = stripe_api.user()
            session, events = await _subscribe(stripe_api, fake_stripe, headers)
            events += fake_stripe.renew_subscription(session["subscription"])
            fake_stripe.take_events()
            await _deliver(stripe_api, events, seed=seed)
            subscription = fake_stripe.subscriptions[session["subscription"]]
            current = await _current(stripe_api, headers)
            assert current["status"] == "active"
            assert _when(current["current_period_start"]) == _at(subscription["current_period_start"])
            assert len(await _changes(stripe_api, user_id)) == 1
            assert [i["status"] for i in await _history(stripe_api, headers)] == ["paid", "paid"]
            assert len(await stripe_api.ledger(user_id)) == 2

    async def test_a_subscription_made_outside_our_checkout_is_taken_from_its_metadata(
            self, stripe_api, fake_stripe) -> None:
        user_id, headers = stripe_api.user()
        customer = fake_stripe._customer({"metadata": {"user_id": str(user_id)}})
        session = fake_stripe._session({"mode": "subscription", "customer": customer["id"],
                                        "line_items": [{"price": "price_studio_monthly", "quantity": "1"}],
                                        "subscription_data": {"metadata": {"user_id": str(user_id)}}})
        events = fake_stripe.complete_subscription_session(session["id"])
        fake_stripe.take_events()
        await _deliver(stripe_api, events, seed=3)
        current = await _current(stripe_api, headers)
        assert (current["plan_id"], current["tier"], current["status"]) == ("studio_monthly", "studio", "active")
        [change] = await _changes(stripe_api, user_id)
        assert change["monthly_quota"] == 1000
        assert [e.amount for e in await stripe_api.ledger(user_id)] == [money("49.99")]

    async def test_events_of_a_subscription_that_is_not_ours_are_ignored(self, stripe_api, fake_stripe) -> None:
        sub = {"id": "sub_unknown", "object": "subscription", "customer": "cus_unknown", "status": "active",
               "metadata": {}, "items": {"data": []}}
        response = await stripe_api.stripe_webhooks.send(fake_stripe.event("customer.subscription.updated", sub))
        assert response.status_code == 200 and response.json()["status"] == "ignored"


@pytest.mark.parametrize("seed", [1, 7])
async def test_the_whole_lifecycle_from_signed_events(stripe_api, fake_stripe, seed: int) -> None:
    """Subscribe → renew → a failed renewal → its retry paid → cancel / reactivate / cancel through
    the API → the period ends → subscribe again; every step's events twice and shuffled, and old
    news (earlier snapshots under new event ids) delivered late changes nothing."""
    api, fake = stripe_api, fake_stripe
    user_id, headers = api.user()
    api.others.quota[user_id] = {"monthly": 200, "used": 5, "remaining": 195}
    old_news: list[dict[str, Any]] = []

    async def step(changes: int) -> dict[str, Any]:
        """Deliver what Stripe sent since the last step, then old news; count the changes."""
        nonlocal seed
        seed += 1
        events = fake.take_events()
        await _deliver(api, events, seed)
        await _deliver(api, _fresh(fake, old_news), seed)  # stale snapshots, new ids: no effect
        old_news.extend(events)
        assert len(await _changes(api, user_id)) == changes
        return await _current(api, headers)

    # 1. Subscribe.
    session, _ = await _subscribe(api, fake, headers)
    sub_id = session["subscription"]
    current = await step(changes=1)
    assert (current["plan_id"], current["tier"], current["status"]) == ("pro_monthly", "pro", "active")
    assert current["quota"] == {"monthly": 200, "used": 5, "remaining": 195}
    assert_error(await api.client.post("/api/v1/subscriptions/checkout", headers=headers, json=CHECKOUT),
                 409, "ALREADY_SUBSCRIBED")
    # 2. Renewal paid: the next period, a second invoice, a second ledger entry.
    first_end = current["current_period_end"]
    fake.renew_subscription(sub_id)
    current = await step(changes=2)
    assert current["current_period_start"] == first_end and current["status"] == "active"
    assert [i["status"] for i in await _history(api, headers)] == ["paid", "paid"]
    # 3. A failed renewal: past due, the tier kept; the failed invoice in the history.
    failed_invoice = fake.renew_subscription(sub_id, paid=False)[0]["data"]["object"]["id"]
    current = await step(changes=3)
    assert (current["status"], current["tier"]) == ("past_due", "pro")
    history = await _history(api, headers)
    assert [i["status"] for i in history] == ["failed", "paid", "paid"]
    assert history[0]["provider_invoice_id"] == failed_invoice
    assert len(await api.ledger(user_id)) == 2
    # 4. Stripe's retry pays it: active again, the same invoice now paid, its ledger entry once.
    fake.pay_invoice(failed_invoice)
    current = await step(changes=4)
    assert current["status"] == "active"
    assert [i["status"] for i in await _history(api, headers)] == ["paid", "paid", "paid"]
    assert [e.amount for e in await api.ledger(user_id)] == [money("19.99")] * 3
    # 5. Cancel, reactivate, change the card, cancel again through the API: Stripe is updated, the
    #    row follows at once, and Stripe's own customer.subscription.updated changes nothing more.
    cancelled = (await api.client.post("/api/v1/subscriptions/cancel", headers=headers)).json()
    assert cancelled["cancel_at_period_end"] is True and cancelled["tier"] == "pro"
    assert fake.subscriptions[sub_id]["cancel_at_period_end"] is True
    await step(changes=5)
    kept = (await api.client.post("/api/v1/subscriptions/reactivate", headers=headers)).json()
    assert kept["cancel_at_period_end"] is False and fake.subscriptions[sub_id]["cancel_at_period_end"] is False
    assert_error(await api.client.post("/api/v1/subscriptions/reactivate", headers=headers), 400, "INVALID_STATE")
    await step(changes=6)
    card = await api.client.post("/api/v1/subscriptions/payment-method", headers=headers,
                                 json={"payment_method_id": "pm_card_mastercard"})
    assert card.status_code == 200, card.text
    assert fake.subscriptions[sub_id]["default_payment_method"] == "pm_card_mastercard"
    await step(changes=6)
    portal = (await api.client.post("/api/v1/subscriptions/portal", headers=headers)).json()
    portal_session = fake.portal_sessions[portal["portal_url"].rsplit("/", 1)[-1]]
    assert portal_session["customer"] == session["customer"]
    assert portal_session["return_url"] == api.h.runtime.settings.subscription_portal_return_url
    await api.client.post("/api/v1/subscriptions/cancel", headers=headers)
    current = await step(changes=7)
    assert current["cancel_at_period_end"] is True and current["tier"] == "pro"
    # 6. The period ends: free.
    fake.end_subscription(sub_id)
    current = await step(changes=8)
    assert (current["plan_id"], current["tier"], current["status"]) == (None, "free", "canceled")
    last = (await _changes(api, user_id))[-1]
    assert (last["status"], last["tier"]) == ("canceled", "pro")  # status canceled: generation gives free
    assert_error(await api.client.post("/api/v1/subscriptions/reactivate", headers=headers), 400, "INVALID_STATE")
    # 7. Subscribe again (a new Stripe subscription, the same customer); the old one's news stays old.
    session, _ = await _subscribe(api, fake, headers)
    assert session["customer"] == fake.subscriptions[sub_id]["customer"]
    current = await step(changes=9)
    assert (current["tier"], current["status"]) == ("pro", "active")
    await _deliver(api, _fresh(fake, fake.end_subscription(sub_id)), seed)  # the old one's deletion again
    fake.take_events()
    assert (await _current(api, headers))["status"] == "active"
    assert len(await _changes(api, user_id)) == 9
    history = await _history(api, headers)
    # Four invoices: the first, two renewals (one failed, then paid), the new subscription's first.
    assert len(history) == 4 and len({i["provider_invoice_id"] for i in history}) == 4
    assert {i["status"] for i in history} == {"paid"} and len(await api.ledger(user_id)) == 4


async def test_an_unreadable_subscription_event_is_refused_and_not_claimed(stripe_api, fake_stripe) -> None:
    event = fake_stripe.event("invoice.paid", {"object": "invoice", "subscription": "sub_x", "amount_paid": "many"})
    assert_error(await stripe_api.stripe_webhooks.send(event), 400, "VALIDATION_ERROR")
    async with stripe_api.db.read_only() as session:
        assert (await session.exec(select(ProcessedWebhook))).all() == []
