"""S4 FigureForge's frontend, unchanged but for its base URL, against `/compat/figureforge` — both run modes.

Every route of the product's original API (S4) is called as the seed writes it (trailing slash, method, body, bearer
token) and checked for the seed's shapes, its errors with the seed's code names (`INSUFFICIENT_QUOTA`,
`INVALID_REQUEST`) and status codes (`error` is the message: the real frontend shows it as text). The journey — magic link →
subscribe → generate → job → gallery — is then read back through `/api/v1`.
"""

from __future__ import annotations

import json
import re
import uuid
from typing import Any

import httpx
import pytest
from infra.identity_steps import code_from, new_mail
from infra.journeys import poll

pytestmark = pytest.mark.e2e

A = "/api"


def ok(r: httpx.Response, status: int = 200) -> Any:
    assert r.status_code == status, r.text
    return r.json() if r.content else None


def err(r: httpx.Response, status: int, code: str) -> dict[str, Any]:
    """`{error: "<message>", detail, code, message, details}`: the frontend shows `error` as text."""
    assert r.status_code == status, r.text
    body = r.json()
    assert body["code"] == code and isinstance(body["error"], str) and body["error"] == body["message"], body
    assert "details" in body, body
    return body


async def signed_in(s: httpx.AsyncClient, api: httpx.AsyncClient, email: str | None = None) -> dict[str, Any]:
    """Magic link by the seed's routes: request, the code from the mail, verify → tokens."""
    email = email or f"artist-{uuid.uuid4().hex[:10]}@example.com"
    assert ok(await s.post(f"{A}/auth/magic-link/check-user/", json={"email": email})) == {"exists": False}
    r = await s.post(f"{A}/auth/magic-link/request/", json={"email": email})
    assert ok(r)["message"]
    mail = await new_mail(api, email, "sign-in code", set())
    tokens = ok(await s.post(f"{A}/auth/magic-link/verify/", json={"email": email, "code": code_from(mail)}))
    assert {"access", "refresh", "user"} <= set(tokens) and tokens["user"]["email"] == email
    assert ok(await s.post(f"{A}/auth/magic-link/check-user/", json={"email": email})) == {"exists": True}
    return {"email": email, "auth": {"Authorization": f"Bearer {tokens['access']}"}, "user": tokens["user"]}


async def test_the_user_profile_stats_token_and_errors(seed_client, api: httpx.AsyncClient) -> None:
    async with seed_client("figureforge") as s:
        err(await s.post(f"{A}/auth/magic-link/request/", json={"email": "not-an-email"}), 400, "INVALID_REQUEST")
        err(await s.get(f"{A}/auth/user/"), 401, "AUTHENTICATION_REQUIRED")
        me = await signed_in(s, api)
        user = ok(await s.get(f"{A}/auth/user/", headers=me["auth"]))
        assert user["email"] == me["email"] and {"id", "username", "subscription", "quota"} <= set(user)
        assert user["subscription"]["tier"] == "free"
        handle = f"artist{uuid.uuid4().hex[:8]}"
        updated = ok(await s.post(f"{A}/auth/user/update/", headers=me["auth"],
                                  json={"username": handle, "display_name": "The Artist"}))
        assert updated["username"] == handle and updated["display_name"] == "The Artist"
        stats = ok(await s.get(f"{A}/auth/user/stats/", headers=me["auth"]))
        assert stats["images_generated"] == 0 and stats["subscription_tier"] == "free"
        assert {"images_remaining"} <= set(stats)
        verified = ok(await s.post(f"{A}/auth/verify/", headers=me["auth"]))
        assert verified["valid"] is True and verified["user_id"] == user["id"]
        err(await s.post(f"{A}/auth/verify/", headers={"Authorization": "Bearer nonsense"}), 401,
            "AUTHENTICATION_REQUIRED")
        # a free account without credits: no generation
        err(await s.post(f"{A}/images/generate/", headers=me["auth"], json={"prompt": "a dancer", "model": "flux-pro"}),
            403, "INSUFFICIENT_QUOTA")

        # delete the account: confirmation required
        err(await s.delete(f"{A}/auth/delete/", headers=me["auth"]), 400, "INVALID_REQUEST")
        assert ok(await s.request("DELETE", f"{A}/auth/delete/", headers=me["auth"], json={"confirm": "DELETE"})) \
            == {"message": "Account deleted"}

        async def refused() -> httpx.Response | None:  # the gateway hears of the revocation by an event
            r = await s.get(f"{A}/auth/user/", headers=me["auth"])
            return r if r.status_code == 401 else None

        err(await poll(refused, message="the deleted account's token refused"), 401, "AUTHENTICATION_REQUIRED")


SEED_ERRORS = {"X-Error-Format": "seed"}  # how a client of the seed document asks for its error shape


def seed_err(r: httpx.Response, status: int, code: str) -> dict[str, Any]:
    """The seed's `{error: {code, message, details}}`."""
    assert r.status_code == status, r.text
    body = r.json()
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message", "details"}, body
    assert body["error"]["code"] == code and isinstance(body["error"]["message"], str), body
    return body["error"]


async def test_seed_rules_username_logout_and_the_seed_error_shape(seed_client, api: httpx.AsyncClient) -> None:
    async with seed_client("figureforge") as s:
        me = await signed_in(s, api)
        # a magic-link account is named as the original named it
        assert re.fullmatch(r"user_[0-9a-f]{8}", me["user"]["username"]), me["user"]
        assert ok(await s.get(f"{A}/auth/user/", headers=me["auth"]))["username"] == me["user"]["username"]

        # the seed's error shape and codes, for a client that asks; the frontend's string otherwise
        seed_err(await s.get(f"{A}/auth/user/", headers=SEED_ERRORS), 401, "AUTHENTICATION_REQUIRED")
        seed_err(await s.post(f"{A}/auth/magic-link/request/", headers=SEED_ERRORS, json={"email": "nope"}), 400,
                 "INVALID_REQUEST")
        seed_err(await s.get(f"{A}/images/{uuid.uuid4()}/", headers=SEED_ERRORS), 404, "NOT_FOUND")
        seed_err(await s.post(f"{A}/images/generate/", headers={**me["auth"], **SEED_ERRORS},
                              json={"prompt": "a dancer", "model": "flux-pro"}), 403, "INSUFFICIENT_QUOTA")
        err(await s.get(f"{A}/auth/user/"), 401, "AUTHENTICATION_REQUIRED")

        # the frontend's `POST /logout` ends the session
        assert ok(await s.post(f"{A}/logout", headers=me["auth"]))["success"] is True

        async def refused() -> httpx.Response | None:  # the gateway hears of the revocation by an event
            r = await s.get(f"{A}/auth/user/", headers=me["auth"])
            return r if r.status_code == 401 else None

        err(await poll(refused, timeout=30, message="the token refused after logout"), 401, "AUTHENTICATION_REQUIRED")


async def test_public_routes(seed_client) -> None:
    async with seed_client("figureforge") as s:
        models = ok(await s.get(f"{A}/images/models/"))["models"]
        assert {"id", "name", "credits"} <= set(models[0]) and "flux-pro" in {m["id"] for m in models}
        pricing = ok(await s.get(f"{A}/pricing/"))
        assert {p["sku"] for p in pricing["subscription_plans"]} >= {"pro_monthly", "studio_monthly"}
        plans = ok(await s.get(f"{A}/subscriptions/plans/"))
        assert {p["sku"] for p in plans["results"]} >= {"pro_monthly", "studio_monthly"}
        assert ok(await s.get(f"{A}/webhooks/health/"))["status"] == "ok"
        gallery = ok(await s.get(f"{A}/images/gallery/", params={"limit": 5, "tags": "pose:standing"}))
        assert set(gallery) == {"results", "count", "next", "previous"}
        err(await s.get(f"{A}/images/{uuid.uuid4()}/"), 404, "NOT_FOUND")
        event = json.dumps({"id": "evt_1", "type": "invoice.paid", "data": {"object": {}}})
        r = await s.post(f"{A}/webhooks/stripe/", content=event, headers={"Stripe-Signature": "t=1,v1=forged",
                                                                           "Content-Type": "application/json"})
        assert r.status_code == 400 and "error" in r.json()  # the signature is checked by payments


async def test_journey_magic_link_subscribe_generate_job_gallery(seed_client, api: httpx.AsyncClient) -> None:
    """S4 only: magic link → subscribe → generate → job → gallery; then the same customer through /api/v1."""
    async with seed_client("figureforge") as s:
        me = await signed_in(s, api)
        auth = me["auth"]
        checkout = ok(await s.post(f"{A}/subscriptions/checkout/", headers=auth, json={
            "plan_id": "pro_monthly", "success_url": "http://localhost:3000/ok",
            "cancel_url": "http://localhost:3000/no"}))
        assert set(checkout) == {"checkout_url"}
        # the customer pays on the provider's page (the local provider's, in this mode)
        assert (await api.get(checkout["checkout_url"])).status_code == 200
        assert (await api.post(f"{checkout['checkout_url']}/pay", headers={"Accept": "application/json"})).status_code \
            == 200

        async def pro() -> dict[str, Any] | None:
            current = ok(await s.get(f"{A}/subscriptions/current/", headers=auth))
            return current if current["tier"] == "pro" and current["quota"]["remaining"] == 200 else None

        current = await poll(pro, timeout=60, message="the pro subscription")
        assert current["plan_id"] == "pro_monthly" and current["status"] == "active"

        job = ok(await s.post(f"{A}/images/generate/", headers=auth, json={
            "prompt": "figure drawing, a dancer", "batch_size": 2, "model": "flux-pro",
            "filters": {"body_type": "athletic", "pose": "standing", "lighting": "dramatic", "clothing": "casual",
                        "background": "simple"}}), 202)
        assert job["status"] == "queued"

        async def completed() -> dict[str, Any] | None:
            status = ok(await s.get(f"{A}/images/job/{job['job_id']}/", headers=auth))
            assert status["status"] != "failed", status
            return status if status["status"] == "completed" else None

        done = await poll(completed, timeout=90, message="the job completed")
        assert done["job_id"] == job["job_id"] and len(done["images"]) == 2
        assert set(done["images"][0]) == {"id", "url", "thumbnail_url"}
        image_id = done["images"][0]["id"]

        mine = ok(await s.get(f"{A}/images/user/", headers=auth, params={"limit": 1, "tag": "pose:standing"}))
        assert mine["count"] == 2 and len(mine["results"]) == 1
        assert mine["next"] == "/compat/figureforge/api/images/user/?tag=pose%3Astanding&limit=1&offset=1" or \
            mine["next"].startswith("/compat/figureforge/api/images/user/?")
        detail = ok(await s.get(f"{A}/images/{image_id}/", headers=auth))
        assert detail["id"] == image_id and detail["is_owner"] is True
        updated = ok(await s.patch(f"{A}/images/{image_id}/update/", headers=auth,
                                   json={"tags": ["pose:standing", "lighting:dramatic"], "is_public": True}))
        assert updated["is_public"] is True and "lighting:dramatic" in updated["tags"]
        gallery = ok(await s.get(f"{A}/images/gallery/", headers=auth, params={"tags": "lighting:dramatic,pose:standing"}))
        assert image_id in [i["id"] for i in gallery["results"]]
        assert ok(await s.post(f"{A}/images/{image_id}/favorite/", headers=auth), 201)["favorited"] is True
        assert ok(await s.post(f"{A}/images/{image_id}/favorite/", headers=auth))["favorited"] is False  # toggles

        stats = ok(await s.get(f"{A}/auth/user/stats/", headers=auth))
        assert stats["images_generated"] == 2 and stats["subscription_tier"] == "pro"
        user = ok(await s.get(f"{A}/auth/user/", headers=auth))
        assert user["subscription"]["tier"] == "pro" and user["quota"]["used"] == 2

        history = ok(await s.get(f"{A}/subscriptions/history/", headers=auth))
        assert history["count"] >= 1 and set(history) == {"results", "count", "next", "previous"}
        portal = await s.post(f"{A}/subscriptions/portal/", headers=auth)
        assert portal.status_code == 200 and portal.json()["portal_url"]
        method = await s.post(f"{A}/subscriptions/payment-method/", headers=auth, json={"payment_method_id": "pm_card"})
        assert method.status_code in (200, 501) and (method.status_code == 200 or "error" in method.json())
        assert ok(await s.post(f"{A}/subscriptions/cancel/", headers=auth))["cancel_at_period_end"] is True
        assert ok(await s.post(f"{A}/subscriptions/reactivate/", headers=auth))["cancel_at_period_end"] is False

        # the same customer through the native API
        native = (await api.get("/api/v1/images", headers=auth)).json()
        assert {i["id"] for i in native["results"]} == {i["id"] for i in done["images"]}
        assert (await api.get("/api/v1/subscriptions/current", headers=auth)).json()["tier"] == "pro"
        assert (await api.get("/api/v1/users/me", headers=auth)).json()["email"] == me["email"]

        assert (await s.delete(f"{A}/images/{image_id}/delete/", headers=auth)).status_code == 204
        err(await s.get(f"{A}/images/{image_id}/", headers=auth), 404, "NOT_FOUND")
