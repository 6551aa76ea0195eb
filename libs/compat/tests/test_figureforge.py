"""The `figureforge` profile's translations for the real frontend (qwertypants/figureforge), against a
recording stand-in for the native API: what each native call receives, what the frontend gets back."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import orjson
import pytest

from atelier_compat.core import CompatError, Context, NativeResponse, Route
from atelier_compat.figureforge import (
    PROFILE,
    _tokens,
    _updated,
    _user,
    billing_checkout,
    error,
    error_for,
    generate_from_form,
    pricing,
    seed_error,
)

BASE = "/compat/figureforge"


class FakeNative:
    """Answers each (method, path) with a canned JSON body and records the calls."""

    def __init__(self, answers: Mapping[tuple[str, str], Any]) -> None:
        self.answers = answers
        self.calls: list[dict[str, Any]] = []

    async def __call__(self, method: str, path: str, *, json: Any = None, query: Mapping[str, Any] | None = None,
                       **_: Any) -> NativeResponse:
        self.calls.append({"method": method, "path": path, "json": json, "query": dict(query or {})})
        status, body = self.answers[(method, path)]
        return NativeResponse(status, [], orjson.dumps(body))


def context(native: FakeNative, method: str, path: str, body: Any = None, query: list[tuple[str, str]] | None = None,
            headers: dict[str, str] | None = None) -> Context:
    route, params, _ = PROFILE.match(method, path)
    assert route is not None, f"{method} {path} is not served"
    ctx = Context(method=method, path=path, params=params, query=query or [], headers=headers or {},
                  body=orjson.dumps(body) if body is not None else b"", native=native, base=BASE,
                  base_url="http://api.test")
    ctx.state["route"] = route
    return ctx


def route_of(method: str, path: str) -> Route:
    route, _, _ = PROFILE.match(method, path)
    assert route is not None
    return route


NATIVE_USER = {"id": "6f1c0b8e-0000-4000-8000-000000000001", "email": "ada@example.com", "username": "ada",
               "roles": ["customer"], "subscription": {"tier": "pro", "status": "active"},
               "quota": {"monthly": 200, "used": 3, "remaining": 197}}


def test_an_error_is_a_string_the_frontend_can_render_with_the_seeds_code_beside_it() -> None:
    body = error(CompatError(400, "VALIDATION_ERROR", "email: not an address", {"field": "email"}))
    assert body == {"error": "email: not an address", "detail": "email: not an address", "code": "INVALID_REQUEST",
                    "message": "email: not an address", "details": {"field": "email"}}


@pytest.mark.parametrize(("status", "native_code", "seed_code"), [
    (400, "VALIDATION_ERROR", "INVALID_REQUEST"), (403, "INSUFFICIENT_CREDITS", "INSUFFICIENT_QUOTA"),
    (401, "INVALID_TOKEN", "AUTHENTICATION_REQUIRED"), (404, "IMAGE_NOT_FOUND", "NOT_FOUND"),
    (403, "FORBIDDEN", "PERMISSION_DENIED"), (429, "RATE_LIMITED", "RATE_LIMITED"),
])
def test_the_seed_error_shape_uses_the_seeds_codes(status: int, native_code: str, seed_code: str) -> None:
    body = seed_error(CompatError(status, native_code, "Nope", {"field": "x"}))
    assert body == {"error": {"code": seed_code, "message": "Nope", "details": {
        "field": "x", **({"native_code": native_code} if seed_code != native_code else {})}}}


def test_a_client_asks_for_the_seed_error_shape_by_header() -> None:
    native = FakeNative({})
    asked = context(native, "GET", "/api/auth/user/", headers={"x-error-format": "Seed"})
    assert error_for(asked) is seed_error
    assert error_for(context(native, "GET", "/api/auth/user/")) is None  # the frontend's `error` string


def test_the_profile_has_the_flat_fields_get_profile_reads() -> None:
    user = _user(NATIVE_USER, None)  # type: ignore[arg-type]  # the transform never reads its context
    assert (user["user_id"], user["role"], user["subscription_plan"]) == (NATIVE_USER["id"], "user", "pro")
    assert (user["quota_limit"], user["quota_used"]) == (200, 3) and user["quota"] == NATIVE_USER["quota"]
    # what its Generate and Account pages read: `user.subscription.{plan, status, quota_*}`
    assert user["subscription"] == {"tier": "pro", "status": "active", "plan": "pro", "quota_limit": 200,
                                    "quota_remaining": 197}
    assert _user({**NATIVE_USER, "roles": ["customer", "admin"]}, None)["role"] == "admin"  # type: ignore[arg-type]  # no context read
    updated = _updated(NATIVE_USER, None)  # type: ignore[arg-type]  # the transform never reads its context
    assert updated["user"] == {"user_id": NATIVE_USER["id"], "email": "ada@example.com", "username": "ada"}


def test_tokens_are_also_named_as_the_frontend_reads_them_and_a_repeat_has_none() -> None:
    tokens = _tokens({"access": "a.b.c", "refresh": "r", "user": NATIVE_USER}, None)  # type: ignore[arg-type]  # the transform never reads its context
    assert (tokens["access_token"], tokens["refresh_token"], tokens["access"]) == ("a.b.c", "r", "a.b.c")
    repeated = {"repeated": True, "message": "once"}
    assert _tokens(repeated, None) == repeated  # type: ignore[arg-type]  # the transform never reads its context


@pytest.mark.parametrize(("method", "path", "summary_part"), [
    ("GET", "/api/images/public", "Public gallery (the frontend's"),
    ("GET", "/api/images/favorites", "favorites"),
    ("GET", "/api/images", "The user's images (the frontend's"),
    ("GET", "/api/images/0b0c/", "Image details"),
    ("PUT", "/api/auth/user/update/", "the frontend's method"),
    ("POST", "/api/auth/user/update/", "Update username / display name"),
    ("GET", "/api/pricing", "Pricing"),
    ("DELETE", "/api/images/0b0c", "the frontend's path"),
    ("POST", "/api/logout", "Sign out"),
])
def test_the_frontends_paths_reach_their_own_routes(method: str, path: str, summary_part: str) -> None:
    assert summary_part in route_of(method, path).summary


async def test_the_generation_form_becomes_the_seeds_prompt_and_filters() -> None:
    native = FakeNative({("POST", "/api/v1/generation/jobs"): (202, {"job_id": "j1", "status": "queued"})})
    form = {"batch_size": 2, "body_type": "athletic", "pose_type": "standing", "camera_angle": "low_angle",
            "lighting": "dramatic", "clothing": "casual", "background": "simple", "ethnicity": "diverse",
            "age_range": "young_adult", "gender_presentation": "feminine"}
    reply = await generate_from_form(context(native, "POST", "/api/generate", form))
    assert (reply.status, reply.data) == (202, {"job_id": "j1", "status": "queued"})
    sent = native.calls[0]["json"]
    assert sent["filters"] == {"body_type": "athletic", "pose": "standing", "lighting": "dramatic",
                               "clothing": "casual", "background": "simple"}
    assert sent["batch_size"] == 2 and sent["prompt"].startswith("Figure drawing reference (")
    for words in ("camera angle: low angle", "age range: young adult", "gender presentation: feminine"):
        assert words in sent["prompt"]


async def test_a_seed_shaped_generation_body_goes_as_it_is_and_unknown_form_fields_are_refused() -> None:
    native = FakeNative({("POST", "/api/v1/generation/jobs"): (202, {"job_id": "j1", "status": "queued"})})
    seed = {"prompt": "a dancer", "filters": {"pose": "action"}, "batch_size": 1}
    await generate_from_form(context(native, "POST", "/api/generate", seed))
    assert native.calls[0]["json"] == seed
    with pytest.raises(CompatError) as refused:
        await generate_from_form(context(native, "POST", "/api/generate", {"pose_type": "standing", "x": 1}))
    assert (refused.value.status, refused.value.details) == (400, {"fields": ["x"]})
    assert len(native.calls) == 1


async def test_image_pages_take_a_cursor_and_answer_images_and_the_next_cursor() -> None:
    page = {"results": [{"id": "i1", "url": "/api/v1/images/files/a.png?sig=1", "thumbnail_url": None,
                         "filters": {"pose": "standing"}}], "count": 3,
            "next": "http://internal/api/v1/images?limit=1&offset=2", "previous": None}
    native = FakeNative({("GET", "/api/v1/images"): (200, page)})
    ctx = context(native, "GET", "/api/images", query=[("cursor", "1"), ("limit", "1")])
    route = ctx.state["route"]
    assert route.handler is not None
    reply = await route.handler(ctx)
    assert native.calls[0]["query"] == {"limit": "1", "offset": "1"}
    assert reply.data["next_cursor"] == "2" and reply.data["count"] == 3
    image = reply.data["images"][0]
    assert image["url"] == "http://api.test/api/v1/images/files/a.png?sig=1"
    assert image["parameters"] == {"pose": "standing"}
    for bad in ("x", "-1", "1" * 10):
        with pytest.raises(CompatError) as refused:
            await route.handler(context(native, "GET", "/api/images", query=[("cursor", bad)]))
        assert refused.value.status == 400
    last = FakeNative({("GET", "/api/v1/images/gallery"): (200, {**page, "next": None})})
    ctx = context(last, "GET", "/api/images/public")
    assert (await ctx.state["route"].handler(ctx)).data["next_cursor"] is None


async def test_pricing_adds_the_plans_the_pricing_page_maps_over() -> None:
    plan = {"id": "p", "sku": "pro_monthly", "name": "Pro (monthly)", "tier": "pro", "interval": "month",
            "monthly_quota": 200, "price": "19.99", "currency": "USD", "features": ["200 generations a month"]}
    native = FakeNative({("GET", "/api/v1/pricing"): (200, {"subscription_plans": [], "credit_packs": []}),
                         ("GET", "/api/v1/subscriptions/plans"): (200, {"results": [plan]})})
    data = (await pricing(context(native, "GET", "/api/pricing"))).data
    assert data["credit_packs"] == [] and data["plans"] == [{
        "id": "pro_monthly", "name": "Pro (monthly)", "tier": "pro", "price": 19.99, "currency": "USD",
        "stripe_price_id": "pro_monthly", "images_per_month": 200, "features": ["200 generations a month"]}]


async def test_a_checkout_session_for_the_price_answers_its_session_id() -> None:
    url = "http://api.test/api/dev/subscriptions/checkout/sub_abc123"
    native = FakeNative({("POST", "/api/v1/subscriptions/checkout"): (200, {"checkout_url": url})})
    ctx = context(native, "POST", "/api/billing/checkout-session", {"price_id": "pro_monthly"},
                  headers={"origin": "http://localhost:5173"})
    data = (await billing_checkout(ctx)).data
    assert data == {"sessionId": "sub_abc123", "url": url, "checkout_url": url}
    assert native.calls[0]["json"] == {"plan_id": "pro_monthly", "success_url": "http://localhost:5173/account",
                                       "cancel_url": "http://localhost:5173/pricing"}
    for body in ({}, {"price_id": ""}, {"price_id": 5}):
        with pytest.raises(CompatError) as refused:
            await billing_checkout(context(native, "POST", "/api/billing/checkout-session", body))
        assert refused.value.status == 400
    assert len(native.calls) == 1
