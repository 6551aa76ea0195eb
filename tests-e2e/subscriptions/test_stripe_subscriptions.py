"""The S4 subscription lifecycle with the Stripe provider, through the gateway in both modes:
signed events from the fake Stripe server, each delivered twice and out of order, one effect each."""

from __future__ import annotations

import random
from typing import Any

import httpx
import pytest
from infra.journeys import customer, poll
from infra.stripe import fake_stripe

from atelier_testing.platform import Platform

pytestmark = pytest.mark.e2e



async def deliver_twice_shuffled(api: httpx.AsyncClient, events: list[dict[str, Any]], seed: int) -> None:
    webhooks = fake_stripe().StripeWebhooks(api)
    deliveries = [*events, *events]
    random.Random(seed).shuffle(deliveries)
    for event in deliveries:
        response = await webhooks.send(event)
        assert response.status_code == 200, response.text


async def test_stripe_lifecycle_from_signed_events(stripe_platform: Platform, stripe_server: Any) -> None:
    fake = stripe_server.fake
    async with httpx.AsyncClient(base_url=stripe_platform.url, timeout=30) as api:
        auth = await customer(api)

        async def current() -> dict[str, Any]:
            response = await api.get("/api/v1/subscriptions/current", headers=auth)
            assert response.status_code == 200, response.text
            return response.json()

        async def history() -> list[dict[str, Any]]:
            return (await api.get("/api/v1/subscriptions/history", headers=auth)).json()["results"]

        r = await api.post("/api/v1/subscriptions/checkout", headers=auth, json={
            "plan_id": "pro_monthly", "success_url": "http://localhost:3000/ok",
            "cancel_url": "http://localhost:3000/no"})
        assert r.status_code == 200, r.text
        session_id = r.json()["checkout_url"].rsplit("/", 1)[-1]
        assert fake.sessions[session_id]["mode"] == "subscription"
        assert (await current())["tier"] == "free"  # nothing until Stripe says it is paid

        await deliver_twice_shuffled(api, fake.complete_subscription_session(session_id), seed=1)

        async def pro_with_quota() -> dict[str, Any] | None:
            body = await current()
            return body if body["tier"] == "pro" and body["quota"]["monthly"] == 200 else None

        first = await poll(pro_with_quota, timeout=60, message="pro from Stripe's events")
        assert first["status"] == "active" and first["plan_id"] == "pro_monthly"
        assert len(await history()) == 1
        subscription_id = fake.sessions[session_id]["subscription"]

        # A renewal, its events twice and shuffled: one new invoice, a later period.
        await deliver_twice_shuffled(api, fake.renew_subscription(subscription_id, paid=True), seed=2)

        async def renewed() -> dict[str, Any] | None:
            body = await current()
            return body if body["current_period_end"] > first["current_period_end"] else None

        await poll(renewed, timeout=60, message="the renewed period")
        assert len(await history()) == 2

        # Cancel at period end, then reactivate: Stripe holds the flag, our answer follows it.
        assert (await api.post("/api/v1/subscriptions/cancel", headers=auth)).json()["cancel_at_period_end"] is True
        assert (await api.post("/api/v1/subscriptions/reactivate", headers=auth)).json()[
            "cancel_at_period_end"] is False
        await deliver_twice_shuffled(api, fake.take_events(), seed=3)
        assert (await current())["tier"] == "pro"

        # The subscription ends at Stripe: back to free, once, however the events arrive.
        await deliver_twice_shuffled(api, fake.end_subscription(subscription_id), seed=4)

        async def free_again() -> dict[str, Any] | None:
            body = await current()
            return body if body["tier"] == "free" and body["quota"]["monthly"] == 0 else None

        await poll(free_again, timeout=60, message="free after the subscription ended")
        assert len(await history()) == 2
