"""Subscribe to pro_monthly with the local provider, use the quota before credits, renew, cancel
and fall back to free — through the gateway, both modes (S4)."""

from __future__ import annotations

import httpx
import pytest
from infra.journeys import customer, generation_tier_is, poll

pytestmark = pytest.mark.e2e


async def test_pro_monthly_lifecycle(api: httpx.AsyncClient) -> None:
    auth = await customer(api)
    user_id = (await api.get("/api/v1/users/me", headers=auth)).json()["id"]
    plans = (await api.get("/api/v1/subscriptions/plans")).json()["results"]
    assert {p["sku"] for p in plans} >= {"pro_monthly", "studio_monthly"}

    r = await api.post("/api/v1/subscriptions/checkout", headers=auth, json={
        "plan_id": "pro_monthly", "success_url": "http://localhost:3000/ok", "cancel_url": "http://localhost:3000/no"})
    assert r.status_code == 200, r.text
    checkout_url = r.json()["checkout_url"]
    page = await api.get(checkout_url)
    assert page.status_code == 200 and "pro_monthly" in page.text and "19.99 USD" in page.text
    paid = await api.post(f"{checkout_url}/pay", headers={"Accept": "application/json"})
    assert paid.status_code == 200, paid.text

    async def current() -> dict:
        return (await api.get("/api/v1/subscriptions/current", headers=auth)).json()

    async def quota_is(used: int) -> dict | None:
        body = await current()
        return body if body["quota"] == {"monthly": 200, "used": used, "remaining": 200 - used} else None

    body = await poll(lambda: quota_is(0), message="the pro quota shows")
    assert body["tier"] == "pro" and body["plan_id"] == "pro_monthly" and body["status"] == "active"

    # No credits at all: the job is paid by the quota (S4), posted the moment the plan was paid, heard
    # of by generation or not (it asks payments before it refuses).
    r = await api.post("/api/v1/generation/jobs", headers=auth, json={"prompt": "a dancer", "model": "flux-pro"})
    assert r.status_code == 202, r.text
    await poll(lambda: quota_is(1), message="one image of quota used")
    assert (await api.get("/api/v1/credits/balance", headers=auth)).json()["balance"] == 0

    # Renewal: the quota resets, a renewal invoice, two ledger payments.
    r = await api.post("/api/dev/subscriptions/advance", json={"user_id": user_id, "outcome": "paid"})
    assert r.status_code == 200, r.text
    await poll(lambda: quota_is(0), message="the quota reset for the new period")
    history = (await api.get("/api/v1/subscriptions/history", headers=auth)).json()
    assert history["count"] == 2 and [i["status"] for i in history["results"]] == ["paid", "paid"]
    ledger = (await api.get("/api/v1/billing/ledger", headers=auth)).json()["results"]
    assert [e["kind"] for e in ledger].count("payment") == 2

    # Cancel, reactivate (still pro), cancel again, the period ends: free.
    assert (await api.post("/api/v1/subscriptions/cancel", headers=auth)).json()["tier"] == "pro"
    kept = (await api.post("/api/v1/subscriptions/reactivate", headers=auth)).json()
    assert kept["tier"] == "pro" and kept["cancel_at_period_end"] is False
    cancelled = (await api.post("/api/v1/subscriptions/cancel", headers=auth)).json()
    assert cancelled["tier"] == "pro" and cancelled["cancel_at_period_end"] is True
    r = await api.post("/api/dev/subscriptions/advance", json={"user_id": user_id, "outcome": "paid"})
    assert r.json()["tier"] == "free"

    await generation_tier_is(api, auth, "free")
    r = await api.post("/api/v1/generation/jobs", headers=auth, json={"prompt": "again", "model": "flux-pro"})
    assert r.status_code == 403 and r.json()["error"]["code"] == "INSUFFICIENT_CREDITS"
