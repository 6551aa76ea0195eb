"""Subscriptions with the local provider (S4): plans, checkout, the lifecycle, history, ledger."""

from __future__ import annotations

from datetime import datetime

from ..conftest import assert_error

CHECKOUT = {"plan_id": "pro_monthly", "success_url": "http://shop.test/ok", "cancel_url": "http://shop.test/no"}


async def _subscribe(api, headers, plan: str = "pro_monthly") -> dict:
    response = await api.client.post("/api/v1/subscriptions/checkout", headers=headers,
                                     json={**CHECKOUT, "plan_id": plan})
    assert response.status_code == 200, response.text
    url = response.json()["checkout_url"]
    assert url.startswith("http://shop.test/api/dev/subscriptions/checkout/lsub_")
    path = url.removeprefix("http://shop.test")
    page = await api.client.get(path)
    assert page.status_code == 200 and "19.99 USD" in page.text and "every 30 days" in page.text
    paid = await api.client.post(path + "/pay", headers={"Accept": "application/json"})
    assert paid.status_code == 200, paid.text
    return (await api.client.get("/api/v1/subscriptions/current", headers=headers)).json()


class TestPlans:
    async def test_plans_come_from_catalog_with_features_and_prices(self, api) -> None:
        body = (await api.client.get("/api/v1/subscriptions/plans")).json()
        assert [(p["sku"], p["tier"], p["price"], p["monthly_quota"]) for p in body["results"]] == [
            ("pro_monthly", "pro", "19.99", 200), ("studio_monthly", "studio", "49.99", 1000)]
        assert "200 generations a month" in body["results"][0]["features"]


class TestLifecycle:
    async def test_without_a_plan_the_user_is_free(self, api) -> None:
        _, headers = api.user()
        body = (await api.client.get("/api/v1/subscriptions/current", headers=headers)).json()
        assert body["plan_id"] is None and body["tier"] == "free"
        assert body["quota"] == {"monthly": 0, "used": 0, "remaining": 0}
        assert_error(await api.client.post("/api/v1/subscriptions/cancel", headers=headers), 404, "NOT_FOUND")
        assert_error(await api.client.get("/api/v1/subscriptions/current"), 401, "AUTHENTICATION_REQUIRED")

    async def test_subscribe_renew_cancel_and_end(self, api) -> None:
        user_id, headers = api.user()
        api.others.quota[user_id] = {"monthly": 200, "used": 3, "remaining": 197}
        current = await _subscribe(api, headers)
        assert current["plan_id"] == "pro_monthly" and current["tier"] == "pro" and current["status"] == "active"
        assert current["quota"] == {"monthly": 200, "used": 3, "remaining": 197}
        first_start = datetime.fromisoformat(current["current_period_start"])
        [event] = await api.outbox("subscription.changed")
        assert event["tier"] == "pro" and event["monthly_quota"] == 200 and event["status"] == "active"
        assert event["plan_id"] and event["current_period_start"]
        # A second checkout while subscribed.
        assert_error(await api.client.post("/api/v1/subscriptions/checkout", headers=headers, json=CHECKOUT),
                     409, "ALREADY_SUBSCRIBED")
        # Renewal: a new period, a renewal invoice, a ledger entry.
        renewed = (await api.client.post("/api/dev/subscriptions/advance",
                                         json={"user_id": str(user_id), "outcome": "paid"})).json()
        # The period ends now: the next one starts now.
        assert datetime.fromisoformat(renewed["current_period_start"]) > first_start
        assert renewed["tier"] == "pro" and renewed["current_period_end"] != current["current_period_end"]
        history = (await api.client.get("/api/v1/subscriptions/history", headers=headers)).json()
        assert history["count"] == 2 and [i["status"] for i in history["results"]] == ["paid", "paid"]
        assert [str(e.amount) for e in await api.ledger(user_id)] == ["19.99", "19.99"]
        # Cancel at period end: still pro; reactivate keeps it; cancel again and the period ends.
        cancelled = (await api.client.post("/api/v1/subscriptions/cancel", headers=headers)).json()
        assert cancelled["tier"] == "pro" and cancelled["cancel_at_period_end"] is True
        kept = (await api.client.post("/api/v1/subscriptions/reactivate", headers=headers)).json()
        assert kept["tier"] == "pro" and kept["cancel_at_period_end"] is False
        assert_error(await api.client.post("/api/v1/subscriptions/reactivate", headers=headers), 400, "INVALID_STATE")
        await api.client.post("/api/v1/subscriptions/cancel", headers=headers)
        ended = (await api.client.post("/api/dev/subscriptions/advance",
                                       json={"user_id": str(user_id), "outcome": "paid"})).json()
        assert ended["tier"] == "free" and ended["plan_id"] is None and ended["status"] == "canceled"
        assert_error(await api.client.post("/api/v1/subscriptions/reactivate", headers=headers), 400, "INVALID_STATE")
        assert (await api.outbox("subscription.changed"))[-1]["status"] == "canceled"
        assert len(await api.ledger(user_id)) == 2
        # Subscribing again after the end works.
        again = await _subscribe(api, headers)
        assert again["tier"] == "pro"

    async def test_generation_reads_the_plan_as_its_event_tells_it(self, api) -> None:
        """`/internal/subscriptions/{id}/plan`: what generation asks when a job would be refused
        before `subscription.changed` reached it; the event's fields, and the time it orders by."""
        user_id, headers = api.user()
        path, service = f"/internal/subscriptions/{user_id}/plan", {"X-Service-Token": api.h.runtime.settings.service_token}
        assert_error(await api.client.get(path, headers=headers), 401, "AUTHENTICATION_REQUIRED")
        assert_error(await api.client.get(path, headers=service), 404, "NOT_FOUND")
        started = await api.client.post("/api/v1/subscriptions/checkout", headers=headers, json=CHECKOUT)
        assert started.status_code == 200, started.text
        assert_error(await api.client.get(path, headers=service), 404, "NOT_FOUND")  # not paid: no plan
        await _subscribe(api, headers)
        told = (await api.client.get(path, headers=service)).json()
        assert told["event"] == (await api.outbox("subscription.changed"))[-1]
        assert (told["event"]["tier"], told["event"]["status"], told["event"]["monthly_quota"]) == ("pro", "active", 200)
        await api.client.post("/api/v1/subscriptions/cancel", headers=headers)
        later = (await api.client.get(path, headers=service)).json()
        assert later["event"] == (await api.outbox("subscription.changed"))[-1]
        assert later["event"]["cancel_at_period_end"] is True
        assert datetime.fromisoformat(later["changed_at"]) > datetime.fromisoformat(told["changed_at"])

    async def test_the_plans_quota_shows_in_the_first_read_that_shows_the_plan(self, api) -> None:
        """Right after the checkout is paid, generation has not heard of the plan yet
        (zeros); the plan's quota is shown whole, never `{0, 0, 0}` beside an active tier."""
        user_id, headers = api.user()
        current = await _subscribe(api, headers)
        assert (current["tier"], current["status"]) == ("pro", "active")
        assert current["quota"] == {"monthly": 200, "used": 0, "remaining": 200}
        internal = await api.client.get(f"/internal/subscriptions/{user_id}",
                                        headers={"X-Service-Token": api.h.runtime.settings.service_token})
        assert internal.json()["quota"] == current["quota"]  # what GET /users/me and S4's /api/auth/user/ show
        # Generation heard of this period and counts 5 used: its count is shown.
        period_end = current["current_period_end"]
        api.others.quota[user_id] = {"monthly": 200, "used": 5, "remaining": 195, "period_end": period_end}
        current = (await api.client.get("/api/v1/subscriptions/current", headers=headers)).json()
        assert current["quota"] == {"monthly": 200, "used": 5, "remaining": 195}
        # Renewed: a new period, which generation has not heard of yet: the whole quota again.
        renewed = (await api.client.post("/api/dev/subscriptions/advance",
                                         json={"user_id": str(user_id), "outcome": "paid"})).json()
        assert renewed["quota"] == {"monthly": 200, "used": 0, "remaining": 200}
        # The plan ended: no quota, whatever generation still counts.
        await api.client.post("/api/v1/subscriptions/cancel", headers=headers)
        ended = (await api.client.post("/api/dev/subscriptions/advance",
                                       json={"user_id": str(user_id), "outcome": "paid"})).json()
        assert ended["tier"] == "free" and ended["quota"] == {"monthly": 0, "used": 0, "remaining": 0}

    async def test_the_dev_advance_names_the_user_by_id_or_by_email(self, api) -> None:
        """docs/api.md: `{user_id or email, outcome}` (only user_id was accepted)."""
        user_id, headers = api.user()
        api.others.users["ada@example.com"] = user_id
        first = await _subscribe(api, headers)
        response = await api.client.post("/api/dev/subscriptions/advance",
                                         json={"email": "Ada@Example.com", "outcome": "paid"})
        assert response.status_code == 200, response.text
        assert response.json()["current_period_end"] != first["current_period_end"]
        history = (await api.client.get("/api/v1/subscriptions/history", headers=headers)).json()
        assert history["count"] == 2
        # An unknown email is a 404, neither (or both) a 400; nothing renews.
        assert_error(await api.client.post("/api/dev/subscriptions/advance", json={"email": "nobody@example.com"}),
                     404, "NOT_FOUND")
        assert_error(await api.client.post("/api/dev/subscriptions/advance", json={"outcome": "paid"}),
                     400, "VALIDATION_ERROR")
        assert_error(await api.client.post("/api/dev/subscriptions/advance", json={
            "user_id": str(user_id), "email": "ada@example.com"}), 400, "VALIDATION_ERROR")
        history = (await api.client.get("/api/v1/subscriptions/history", headers=headers)).json()
        assert history["count"] == 2

    async def test_a_failed_renewal_is_past_due_then_free(self, api) -> None:
        user_id, headers = api.user()
        await _subscribe(api, headers)
        due = (await api.client.post("/api/dev/subscriptions/advance",
                                     json={"user_id": str(user_id), "outcome": "failed"})).json()
        assert due["status"] == "past_due" and due["tier"] == "pro"
        history = (await api.client.get("/api/v1/subscriptions/history", headers=headers)).json()
        assert [i["status"] for i in history["results"]] == ["failed", "paid"]
        ended = (await api.client.post("/api/dev/subscriptions/advance",
                                       json={"user_id": str(user_id), "outcome": "failed"})).json()
        assert ended["tier"] == "free"

    async def test_payment_method_portal_and_internal_view(self, api) -> None:
        user_id, headers = api.user()
        assert_error(await api.client.post("/api/v1/subscriptions/portal", headers=headers), 404, "NOT_FOUND")
        current = await _subscribe(api, headers)
        response = await api.client.post("/api/v1/subscriptions/payment-method", headers=headers,
                                         json={"payment_method_id": "pm_card_visa"})
        assert response.status_code == 200
        portal = (await api.client.post("/api/v1/subscriptions/portal", headers=headers)).json()
        assert portal["portal_url"].startswith("http://shop.test/api/dev/subscriptions/portal/")
        page_path = portal["portal_url"].removeprefix("http://shop.test")
        page = await api.client.get(page_path)
        assert page.status_code == 200 and "pro_monthly" in page.text and ">Cancel<" in page.text
        cancelled = await api.client.post(page_path + "/cancel")
        assert cancelled.status_code == 200 and ">Reactivate<" in cancelled.text
        cur = (await api.client.get("/api/v1/subscriptions/current", headers=headers)).json()
        assert cur["cancel_at_period_end"] is True
        await api.client.post(page_path + "/reactivate")
        current = (await api.client.get("/api/v1/subscriptions/current", headers=headers)).json()
        assert current["cancel_at_period_end"] is False
        path = f"/internal/subscriptions/{user_id}"
        assert_error(await api.client.get(path, headers=headers), 401, "AUTHENTICATION_REQUIRED")
        internal = await api.client.get(path, headers={"X-Service-Token": api.h.runtime.settings.service_token})
        assert internal.json() == current

    async def test_unknown_plan_and_dev_routes_off(self, start_payments) -> None:
        async with start_payments(dev_endpoints=False) as api:
            _, headers = api.user()
            assert_error(await api.client.post("/api/v1/subscriptions/checkout", headers=headers,
                                               json={**CHECKOUT, "plan_id": "gold"}), 404, "NOT_FOUND")
            assert_error(await api.client.post("/api/dev/subscriptions/advance",
                                               json={"user_id": str(api.user()[0])}), 404, "NOT_FOUND")
