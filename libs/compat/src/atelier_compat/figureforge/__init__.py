"""S4 FigureForge (seeds/004_…): AI figure-drawing references, on identity, generation and payments.

Its error format is the platform's own `{error: {code, message, details}}`, with the seed's code
names (`INSUFFICIENT_QUOTA`, `INVALID_REQUEST`); JWT bearer auth; `{results, count, next,
previous}` pages with links back into the profile. Mostly renamed paths: the native API was
drawn from this seed. Choices where the seed is silent: `README.md` next to this file.
"""

from __future__ import annotations

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
    return {**data, "images": [{"id": i["id"], "url": i["url"], "thumbnail_url": i.get("thumbnail_url")}
                               for i in data.get("images") or []]}


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
    return {"error": {"code": CODES.get(exc.code, exc.code), "message": exc.message, "details": exc.details}}


A = "/api"
ROUTES = (
    # authentication and the user
    Route("GET", f"{A}/auth/user/", "Current user with subscription and quota", native=f"GET {V1}/users/me",
          auth="user"),
    Route("POST", f"{A}/auth/user/update/", "Update username / display name", native=f"PATCH {V1}/users/me",
          auth="user"),
    Route("GET", f"{A}/auth/user/stats/", "Usage statistics", native=f"GET {V1}/me/usage", auth="user"),
    Route("POST", f"{A}/auth/verify/", "Is the bearer token valid", native=f"GET {V1}/auth/verify-token",
          out=lambda d, c: {"valid": d["valid"], "user_id": d["user_id"], "expires_at": d.get("expires_at")},
          auth="user"),
    Route("DELETE", f"{A}/auth/delete/", "Delete the account (confirmation required)", handler=delete_account,
          auth="user"),
    Route("POST", f"{A}/auth/magic-link/request/", "Send a magic link", native=f"POST {V1}/auth/magic-link"),
    Route("POST", f"{A}/auth/magic-link/verify/", "Verify the code: JWT tokens",
          native=f"POST {V1}/auth/magic-link/verify"),
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
    Route("GET", f"{A}/images/{{image_id}}/", "Image details", native=f"GET {V1}/images/{{image_id}}"),
    Route("DELETE", f"{A}/images/{{image_id}}/delete/", "Delete an image (owner only)",
          native=f"DELETE {V1}/images/{{image_id}}", auth="user"),
    Route("PATCH", f"{A}/images/{{image_id}}/update/", "Update tags / is_public",
          native=f"PATCH {V1}/images/{{image_id}}", auth="user"),
    Route("POST", f"{A}/images/{{image_id}}/favorite/", "Toggle favorite",
          native=f"POST {V1}/images/{{image_id}}/favorite", auth="user"),
    # pricing and subscriptions
    Route("GET", f"{A}/pricing/", "Pricing of every plan and pack", native=f"GET {V1}/pricing"),
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
    # webhooks
    Route("POST", f"{A}/webhooks/stripe/", "Stripe webhook (signed)", handler=stripe_webhook, auth="signed"),
    Route("GET", f"{A}/webhooks/health/", "Webhook health", native=f"GET {V1}/payments/webhooks/health"),
)

PROFILE = Profile(name="figureforge", title="FigureForge API (compatibility profile)", seed="S4 FigureForge (seeds/004_…)",
                  routes=ROUTES, envelope=envelope, error=error)
