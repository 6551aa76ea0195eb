"""S4 FigureForge (the product's original API): AI figure-drawing references, on identity, generation and payments.

Two clients: the seed document, and the product's real frontend (qwertypants/figureforge
`frontend`), whose API client differs from the seed and wins where they disagree. Errors are
`{error: "<message>", detail, code, details}`: the frontend renders `error` as a string (its own
backend's Django format), `code` keeps the seed's code names (`INSUFFICIENT_QUOTA`,
`INVALID_REQUEST`). JWT bearer auth; `{results, count, next, previous}` pages with links back into
the profile, and the frontend's `{images, next_cursor}` on its own paths (`/generate`,
`/jobs/{id}`, `/images`, `/images/public`, `/billing/…`). Choices where both are silent:
`README.md` next to this file.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from atelier_compat.core import CompatError, Context, Json, Profile, Reply, Route

V1 = "/api/v1"
CODES = {"INSUFFICIENT_CREDITS": "INSUFFICIENT_QUOTA", "VALIDATION_ERROR": "INVALID_REQUEST",
         "INVALID_TOKEN": "AUTHENTICATION_REQUIRED"}


def _page(data: Json, ctx: Context) -> Json:
    return {"results": data["results"], "count": data["count"], "next": _link(data.get("next"), ctx),
            "previous": _link(data.get("previous"), ctx)}


def _link(url: str | None, ctx: Context) -> str | None:
    # The seed's links are relative: "/api/images/user/?limit=20&offset=20"
    if url is None:
        return None
    _, _, query = url.partition("?")
    route = ctx.state["route"]
    return f"{ctx.base}{route.path}" + (f"?{query}" if query else "")


def _job(data: Json, ctx: Context) -> Json:
    return {**data, "images": [{"id": i["id"], "url": ctx.absolute(i["url"]),
                                "thumbnail_url": ctx.absolute(i.get("thumbnail_url"))}
                               for i in data.get("images") or []]}


def _user(data: Json, ctx: Context) -> Json:
    """The native user, plus the flat fields the frontend reads (its backend's `get_current_user`)."""
    subscription, quota = data.get("subscription") or {}, data.get("quota") or {}
    # Its pages read `user.subscription.{plan, status, quota_limit, quota_remaining}` (Generate's
    # button is enabled by `status == "active"` and a quota left).
    nested = None if data.get("subscription") is None else {
        **subscription, "plan": subscription.get("tier"), "quota_limit": quota.get("monthly", 0),
        "quota_remaining": quota.get("remaining", 0)}
    return {**data, "user_id": data["id"], "role": "admin" if "admin" in (data.get("roles") or []) else "user",
            "subscription": nested,
            "subscription_plan": subscription.get("tier"), "subscription_status": subscription.get("status"),
            "quota_limit": quota.get("monthly", 0), "quota_used": quota.get("used", 0)}


def _updated(data: Json, ctx: Context) -> Json:
    """The frontend reads `user.user_id`, `user.email`, `user.username` (PUT), the seed the user itself."""
    return {**_user(data, ctx), "message": "Profile updated successfully",
            "user": {"user_id": data["id"], "email": data["email"], "username": data.get("username")}}


def _tokens(data: Json, ctx: Context) -> Json:
    """The native token pair, also under the names the frontend reads (`access_token`). A repeat of
    a code that has just signed in (`{repeated: true}`) has no tokens: the frontend then keeps the
    session the first answer gave it."""
    if "access" not in data:
        return data
    return {**data, "access_token": data["access"], "refresh_token": data.get("refresh")}


# The frontend's generation form: flat fields, no prompt. The seed's filters keep their own names.
_FILTERS = {"body_type": "body_type", "pose_type": "pose", "lighting": "lighting", "clothing": "clothing",
            "background": "background"}
_PROMPT_FIELDS = ("body_type", "pose_type", "camera_angle", "lighting", "clothing", "background", "ethnicity",
                  "age_range", "gender_presentation")


async def generate_from_form(ctx: Context) -> Reply:
    """`POST /generate` with the frontend's form: the seed's `{prompt, filters, batch_size}`, the prompt
    spelled out from the form's choices (the form has no free text)."""
    form = ctx.body_dict()
    if "prompt" in form or "filters" in form:  # already the seed's shape
        body: dict[str, Any] = form
    else:
        unknown = sorted(set(form) - {*_PROMPT_FIELDS, "batch_size", "model", "seed"})
        if unknown:
            raise CompatError(400, "VALIDATION_ERROR", "Unknown fields", {"fields": unknown})
        words = [f"{name.replace('_', ' ')}: {value.replace('_', ' ')}" for name in _PROMPT_FIELDS
                 if isinstance(value := form.get(name), str) and value.strip()]
        body = {"prompt": "Figure drawing reference" + (f" ({'; '.join(words)})" if words else ""),
                "filters": {native: form[name] for name, native in _FILTERS.items() if name in form},
                **{k: form[k] for k in ("batch_size", "model", "seed") if k in form}}
    accepted = await ctx.call("POST", f"{V1}/generation/jobs", json=body)
    return Reply(accepted, status=202)


def _cursor_query(ctx: Context) -> dict[str, str]:
    """The frontend's `?cursor=` (an offset it got as `next_cursor`) as the native `offset`."""
    query = {k: v for k, v in ctx.query if k != "cursor"}
    cursor = ctx.query_dict().get("cursor")
    if cursor:
        if not cursor.isdigit() or len(cursor) > 9:
            raise CompatError(400, "VALIDATION_ERROR", "The cursor is not valid", {"cursor": cursor})
        query["offset"] = cursor
    return query


def _images_page(native_path: str) -> Any:
    async def handler(ctx: Context) -> Reply:
        data = await ctx.call("GET", native_path, query=_cursor_query(ctx) or None)
        next_offset = dict(parse_qsl(urlsplit(data["next"]).query)).get("offset") if data.get("next") else None
        images = [{**i, "url": ctx.absolute(i["url"]), "thumbnail_url": ctx.absolute(i.get("thumbnail_url")),
                   "parameters": i.get("filters")} for i in data["results"]]
        return Reply({"images": images, "next_cursor": next_offset, "count": data["count"]})
    return handler


async def pricing(ctx: Context) -> Reply:
    """The seed's pricing, plus the frontend's `plans` (one per subscription plan; its
    `stripe_price_id` is the plan SKU the checkout takes back)."""
    data = await ctx.call("GET", f"{V1}/pricing")
    plans = await ctx.call("GET", f"{V1}/subscriptions/plans")
    return Reply({**data, "plans": [
        {"id": p["sku"], "name": p["name"], "tier": p["tier"], "price": float(p["price"]),
         "currency": p["currency"], "stripe_price_id": p["sku"], "images_per_month": p["monthly_quota"],
         "features": p["features"]} for p in plans["results"]]})


_SESSION = re.compile(r"/([A-Za-z0-9_-]+)/?$")


async def billing_checkout(ctx: Context) -> Reply:
    """`POST /billing/checkout-session {price_id}` (the frontend's): a subscription checkout of that
    plan, answered as `{sessionId, url}`: the provider's session id is the checkout URL's last part.
    The storefront's own success/cancel pages win; the page that asked is the fallback."""
    body = ctx.body_dict()
    price_id = body.get("price_id")
    if not isinstance(price_id, str) or not price_id:
        raise CompatError(400, "VALIDATION_ERROR", "price_id is required", {"field": "price_id"})
    site = ctx.headers.get("origin") or ctx.base_url
    url = (await ctx.call("POST", f"{V1}/subscriptions/checkout", json={
        "plan_id": price_id, "success_url": body.get("success_url") or f"{site}/account",
        "cancel_url": body.get("cancel_url") or f"{site}/pricing"}))["checkout_url"]
    match = _SESSION.search(urlsplit(url).path)
    return Reply({"sessionId": match.group(1) if match else None, "url": url, "checkout_url": url})


async def delete_account(ctx: Context) -> Reply:
    """"Requires confirmation": `{password}`, or `{confirm: "DELETE"}` for a passwordless account."""
    body = ctx.body_dict()
    await ctx.call("DELETE", f"{V1}/users/me", json=body)
    return Reply({"message": "Account deleted"})


async def stripe_webhook(ctx: Context) -> Reply:
    """The raw body and Stripe's signature, unchanged, to payments."""
    return Reply(await ctx.forward_raw(f"{V1}/payments/webhooks/stripe", ("Stripe-Signature",)))


def envelope(route: Route, reply: Reply) -> Json:
    return reply.data


def error(exc: CompatError) -> Json:
    # `error` is the message: the frontend shows `response.data.error` as text (an object crashes React).
    return {"error": exc.message, "detail": exc.message, "code": CODES.get(exc.code, exc.code),
            "message": exc.message, "details": exc.details}


# The seed's five codes, by status, for a native code the seed has no name for.
SEED_CODES = {400: "INVALID_REQUEST", 401: "AUTHENTICATION_REQUIRED", 403: "PERMISSION_DENIED", 404: "NOT_FOUND",
              422: "INVALID_REQUEST"}
SEED_ERRORS = "seed"  # `X-Error-Format: seed` asks for the seed document's error shape


def seed_error(exc: CompatError) -> Json:
    """The seed's `{error: {code, message, details}}`, its code names throughout; the native code,
    where the seed's name replaced it, stays in `details.native_code`."""
    code = CODES.get(exc.code) or SEED_CODES.get(exc.status, exc.code)
    details = exc.details if code == exc.code else {**exc.details, "native_code": exc.code}
    return {"error": {"code": code, "message": exc.message, "details": details}}


def error_for(ctx: Context) -> Any:
    return seed_error if ctx.headers.get("x-error-format", "").strip().lower() == SEED_ERRORS else None


async def logout(ctx: Context) -> Reply:
    """The frontend's `POST /logout` (not in the seed): the bearer's session ends natively; the
    frontend then drops its token whatever the answer."""
    await ctx.call("POST", f"{V1}/auth/logout", json={})
    return Reply({"success": True, "message": "Logged out"})


A = "/api"
ROUTES = (
    # authentication and the user
    Route("GET", f"{A}/auth/user/", "Current user with subscription and quota", native=f"GET {V1}/users/me",
          out=_user, auth="user"),
    Route("POST", f"{A}/auth/user/update/", "Update username / display name", native=f"PATCH {V1}/users/me",
          out=_updated, auth="user"),
    Route("PUT", f"{A}/auth/user/update/", "Update username (the frontend's method)", native=f"PATCH {V1}/users/me",
          out=_updated, auth="user"),
    Route("GET", f"{A}/auth/user/stats/", "Usage statistics", native=f"GET {V1}/me/usage", auth="user"),
    Route("POST", f"{A}/auth/verify/", "Is the bearer token valid", native=f"GET {V1}/auth/verify-token",
          out=lambda d, c: {"valid": d["valid"], "user_id": d["user_id"], "expires_at": d.get("expires_at")},
          auth="user"),
    Route("DELETE", f"{A}/auth/delete/", "Delete the account (confirmation required)", handler=delete_account,
          auth="user"),
    Route("POST", f"{A}/auth/magic-link/request/", "Send a magic link", native=f"POST {V1}/auth/magic-link"),
    Route("POST", f"{A}/auth/magic-link/verify/", "Verify the code: JWT tokens",
          native=f"POST {V1}/auth/magic-link/verify", out=_tokens),
    Route("POST", f"{A}/auth/magic-link/check-user/", "Does a user exist",
          native=f"POST {V1}/auth/magic-link/check-user"),
    # images (the fixed names before the image id)
    Route("POST", f"{A}/images/generate/", "Generate images (a queued job)", native=f"POST {V1}/generation/jobs",
          auth="user"),
    Route("GET", f"{A}/images/job/{{job_id}}/", "Job status and images", native=f"GET {V1}/generation/jobs/{{job_id}}",
          out=_job, auth="user"),
    Route("GET", f"{A}/images/user/", "The user's images (?tag=)", native=f"GET {V1}/images", out=_page,
          auth="user"),
    Route("GET", f"{A}/images/gallery/", "Public gallery (?tags=)", native=f"GET {V1}/images/gallery", out=_page),
    Route("GET", f"{A}/images/models/", "Generation models", native=f"GET {V1}/generation/models"),
    # the frontend's own paths (no trailing slash), before `images/{image_id}`
    Route("GET", f"{A}/images/public", "Public gallery (the frontend's: {images, next_cursor}, ?cursor=)",
          handler=_images_page(f"{V1}/images/gallery")),
    Route("GET", f"{A}/images/favorites", "The user's favorites (the frontend's page shape)",
          handler=_images_page(f"{V1}/images/favorites"), auth="user"),
    Route("GET", f"{A}/images", "The user's images (the frontend's page shape)",
          handler=_images_page(f"{V1}/images"), auth="user"),
    Route("POST", f"{A}/generate", "Generate from the frontend's form (a queued job)", handler=generate_from_form,
          auth="user"),
    Route("GET", f"{A}/jobs/{{job_id}}", "Job status and images (the frontend's path)",
          native=f"GET {V1}/generation/jobs/{{job_id}}", out=_job, auth="user"),
    Route("DELETE", f"{A}/images/{{image_id}}", "Delete an image (the frontend's path)",
          native=f"DELETE {V1}/images/{{image_id}}", out=lambda d, c: {"success": True}, status={204: 200},
          auth="user"),
    Route("POST", f"{A}/images/{{image_id}}/report", "Report an image", missing="image reports", auth="user"),
    Route("POST", f"{A}/logout", "Sign out (the frontend's)", handler=logout, auth="user"),
    Route("GET", f"{A}/images/{{image_id}}/", "Image details", native=f"GET {V1}/images/{{image_id}}"),
    Route("DELETE", f"{A}/images/{{image_id}}/delete/", "Delete an image (owner only)",
          native=f"DELETE {V1}/images/{{image_id}}", auth="user"),
    Route("PATCH", f"{A}/images/{{image_id}}/update/", "Update tags / is_public",
          native=f"PATCH {V1}/images/{{image_id}}", auth="user"),
    Route("POST", f"{A}/images/{{image_id}}/favorite/", "Toggle favorite",
          native=f"POST {V1}/images/{{image_id}}/favorite", out=lambda d, c: {**d, "is_favorite": d["favorited"]},
          auth="user"),
    # pricing and subscriptions
    Route("GET", f"{A}/pricing/", "Pricing of every plan and pack (+ the frontend's `plans`)", handler=pricing),
    Route("GET", f"{A}/subscriptions/plans/", "Subscription plans", native=f"GET {V1}/subscriptions/plans"),
    Route("GET", f"{A}/subscriptions/current/", "Current subscription", native=f"GET {V1}/subscriptions/current",
          auth="user"),
    Route("POST", f"{A}/subscriptions/checkout/", "Checkout session for a plan",
          native=f"POST {V1}/subscriptions/checkout", out=lambda d, c: {"checkout_url": d["checkout_url"]},
          auth="user"),
    Route("POST", f"{A}/subscriptions/portal/", "Billing portal session", native=f"POST {V1}/subscriptions/portal",
          auth="user"),
    Route("POST", f"{A}/subscriptions/cancel/", "Cancel at period end", native=f"POST {V1}/subscriptions/cancel",
          auth="user"),
    Route("POST", f"{A}/subscriptions/reactivate/", "Reactivate before the period ends",
          native=f"POST {V1}/subscriptions/reactivate", auth="user"),
    Route("GET", f"{A}/subscriptions/history/", "Billing history", native=f"GET {V1}/subscriptions/history",
          out=_page, auth="user"),
    Route("POST", f"{A}/subscriptions/payment-method/", "Update the default payment method",
          native=f"POST {V1}/subscriptions/payment-method", auth="user"),
    Route("POST", f"{A}/billing/checkout-session", "Checkout for a plan (the frontend's: {sessionId, url})",
          handler=billing_checkout, auth="user"),
    Route("POST", f"{A}/billing/portal", "Billing portal (the frontend's: {url})",
          native=f"POST {V1}/subscriptions/portal", out=lambda d, c: {**d, "url": d["portal_url"]}, auth="user"),
    # webhooks
    Route("POST", f"{A}/webhooks/stripe/", "Stripe webhook (signed)", handler=stripe_webhook, auth="signed"),
    Route("GET", f"{A}/webhooks/health/", "Webhook health", native=f"GET {V1}/payments/webhooks/health"),
)

PROFILE = Profile(name="figureforge", title="FigureForge API (compatibility profile)", seed="S4 FigureForge (the product's original API)",
                  routes=ROUTES, envelope=envelope, error=error, error_for=error_for)
