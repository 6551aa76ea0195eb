"""S2 reviv.pics (the product's original API): photo restoration, on identity (OAuth, passkeys), generation and payments.

Errors are the platform's format (the seed's own, codes upper-cased as its `format_error` does); the refresh token lives in the `reviv_refresh` HttpOnly cookie; passkey
options carry the challenge and ids as byte arrays with `_b64` twins, and a `complete` takes the
seed's flat credential. Choices where the seed is silent: `README.md` next to this file.
"""

from __future__ import annotations

import base64
from typing import Any
from urllib.parse import urlsplit

import cbor2

from atelier_compat.core import CompatError, Context, Json, Profile, Reply, Route

V1 = "/api/v1"
A = "/api"
COOKIE = "reviv_refresh"
_NATIVE_COOKIE = "atelier_refresh"
_CBOR_DEPTH = 16


# -- cookies ------------------------------------------------------------------------------------

def _set_refresh(ctx: Context, value: str, max_age: int = 7 * 86400) -> None:
    secure = "; Secure" if ctx.base_url.startswith("https:") else ""
    ctx.response_headers.append(
        ("set-cookie", f"{COOKIE}={value}; Path=/; Max-Age={max_age}; HttpOnly; SameSite=Lax{secure}"))


def _native_refresh(response: Any) -> str | None:
    """The refresh token the native answer set in its own cookie."""
    for key, value in response.headers:
        if key == b"set-cookie" and value.startswith(_NATIVE_COOKIE.encode() + b"="):
            token = value.split(b";", 1)[0].split(b"=", 1)[1].decode("latin-1")
            return token or None
    return None


# -- WebAuthn shapes ----------------------------------------------------------------------------

def _b64decode(value: str) -> bytes:
    return base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))


def _bytes_and_b64(value: str) -> tuple[list[int], str]:
    return list(_b64decode(value)), value


def creation_options(options: dict[str, Any]) -> dict[str, Any]:
    out = dict(options)
    out["challenge"], out["challenge_b64"] = _bytes_and_b64(options["challenge"])
    user = dict(options.get("user") or {})
    if "id" in user:
        user["id"], user["id_b64"] = _bytes_and_b64(user["id"])
    out["user"] = user
    out["excludeCredentials"] = [_credential_ref(c) for c in options.get("excludeCredentials") or []]
    return out


def request_options(options: dict[str, Any]) -> dict[str, Any]:
    out = dict(options)
    out["challenge"], out["challenge_b64"] = _bytes_and_b64(options["challenge"])
    out["allowCredentials"] = [_credential_ref(c) for c in options.get("allowCredentials") or []]
    return out


def _credential_ref(ref: dict[str, Any]) -> dict[str, Any]:
    ids, b64 = _bytes_and_b64(ref["id"])
    return {**ref, "id": ids, "id_b64": b64}


def _credential_id(attestation_object: str) -> str:
    """The credential id inside an attestation object's authenticator data; ValueError when the
    object is not one (the client's bytes: malformed or deeply nested CBOR is a 400, not a crash)."""
    try:
        # An attestation object nests 3 or 4 levels (attStmt.x5c): a bound far below the library's.
        decoded = cbor2.loads(_b64decode(attestation_object), max_depth=_CBOR_DEPTH)
    except cbor2.CBORDecodeError as exc:
        raise ValueError(f"the attestation object is not valid CBOR: {exc}") from None
    auth_data = decoded.get("authData") if isinstance(decoded, dict) else None
    # rpIdHash (32) + flags (1) + signCount (4) + aaguid (16), then the id's length (2) and the id.
    if not isinstance(auth_data, bytes) or len(auth_data) < 55:
        raise ValueError("the attestation object carries no attested credential data")
    length = int.from_bytes(auth_data[53:55], "big")
    if length == 0 or len(auth_data) < 55 + length:
        raise ValueError("the attested credential id is truncated")
    return base64.urlsafe_b64encode(auth_data[55:55 + length]).rstrip(b"=").decode()


def standard_credential(credential: Any, *, registration: bool) -> Any:
    """The seed's flat credential (`{clientDataJSON, attestationObject}` or `{id, clientDataJSON,
    authenticatorData, signature}`) in the standard JSON form; a standard one passes unchanged."""
    if not isinstance(credential, dict) or "response" in credential:
        return credential
    try:
        if registration:
            cid = credential.get("id") or _credential_id(credential["attestationObject"])
            response = {k: credential[k] for k in ("clientDataJSON", "attestationObject")}
        else:
            cid = credential["id"]
            response = {k: credential[k] for k in ("clientDataJSON", "authenticatorData", "signature")}
            if credential.get("userHandle"):
                response["userHandle"] = credential["userHandle"]
    except (KeyError, ValueError, IndexError, TypeError):
        raise CompatError(400, "VALIDATION_ERROR", "The credential is not valid",
                          {"fields": {"credential": ["Malformed WebAuthn credential"]}}) from None
    return {"id": cid, "rawId": cid, "type": "public-key", "response": response, "clientExtensionResults": {}}


# -- handlers -----------------------------------------------------------------------------------

async def api_root(ctx: Context) -> Reply:
    base = f"{ctx.base_url}{ctx.base}{A}"
    return Reply({name: f"{base}/{path}" for name, path in (
        ("health", "health/"), ("schema", "schema/"), ("auth", "auth/me/"), ("restorations", "restorations/history/"),
        ("credits", "credits/packs/"))})


async def health(ctx: Context) -> Reply:
    """The platform's health in the seed's words: `database` (every service's database), `cache`
    (the event bus: the platform has no cache), `celery` (the generation worker's queue)."""
    # Probed as nobody: a caller's bad token must not make the platform look down (a 503).
    response = await ctx.native("GET", f"{V1}/payments/webhooks/health", credentials=False)  # the pipeline is up
    services = (await ctx.native("GET", f"{V1}/generation/models", credentials=False)).ok and response.ok
    status = "healthy" if services else "degraded"
    checks = {"database": "ok" if services else "error", "cache": "ok", "celery": "ok" if services else "error"}
    return Reply({"status": status, "checks": checks}, status=200 if services else 503)


async def schema(ctx: Context) -> Reply:
    """The seed's `/api/schema/`: this profile's own OpenAPI document."""
    from atelier_compat.schema import profile_schema

    return Reply(profile_schema(PROFILE, ctx.base))


def _docs(kind: str) -> Any:
    """The seed's Swagger UI and ReDoc pages, on this profile's document (`schema.docs_page`)."""

    async def page(ctx: Context) -> Reply:
        from atelier_compat.schema import docs_page

        return docs_page(PROFILE, kind, f"{ctx.base}{A}/schema/")

    return page


async def oauth_initiate(ctx: Context) -> Reply:
    body = ctx.body_dict()
    provider = body.get("provider", "google")
    data = await ctx.call("POST", f"{V1}/auth/oauth/{provider}/start",
                          json={"return_to": body["return_to"]} if body.get("return_to") else {})
    return Reply({"auth_url": data["auth_url"]})


async def oauth_callback(ctx: Context) -> Reply:
    response = await ctx.native("GET", f"{V1}/auth/oauth/{ctx.params['provider']}/callback",
                                query=ctx.query_dict())
    if response.status in (301, 302, 303, 307):
        return Reply(status=302, content=b"", headers={"Location": response.header("location") or "/"})
    if not response.ok:
        raise response.error()
    data = response.json()
    return Reply({"access": data["access"], "refresh": data["refresh"], "user": data["user"]})


async def oauth_exchange(ctx: Context) -> Reply:
    response = await ctx.native("POST", f"{V1}/auth/oauth/exchange", json=ctx.body_dict())
    if not response.ok:
        raise response.error()
    if (refresh := _native_refresh(response)) is not None:
        _set_refresh(ctx, refresh)
    data = response.json()
    return Reply({"access": data["access"], "user": data["user"]})


async def token_refresh(ctx: Context) -> Reply:
    body = ctx.body_dict()
    refresh = body.get("refresh") or ctx.cookie(COOKIE)
    if not refresh:
        raise CompatError(401, "AUTHENTICATION_REQUIRED", "No refresh token (cookie or body)")
    data = await ctx.call("POST", f"{V1}/auth/refresh", json={"refresh": refresh})
    _set_refresh(ctx, data["refresh"])  # rotated on every use
    out = {"access": data["access"]}
    if body.get("refresh"):
        out["refresh"] = data["refresh"]  # a body-held token is replaced too
    return Reply(out)


async def me(ctx: Context) -> Reply:
    user = await ctx.call("GET", f"{V1}/users/me")
    usage = await ctx.call("GET", f"{V1}/me/usage")  # the wallet and the two one-offs, kept by generation
    return Reply({"id": user["id"], "email": user["email"], "first_name": user["first_name"],
                  "last_name": user["last_name"], "credit_balance": f"{usage['credits_balance']}.00",
                  "free_preview_used": usage["free_preview_used"],
                  "social_share_unlock_used": usage["social_share_unlock_used"], "created_at": user["created_at"]})


async def logout(ctx: Context) -> Reply:
    refresh = ctx.cookie(COOKIE)
    await ctx.call("POST", f"{V1}/auth/logout", json={"refresh": refresh} if refresh else {})
    _set_refresh(ctx, "", 0)
    return Reply({"message": "Successfully logged out"})


def _passkey(native: str, *, options: Any = None, credential: bool | None = None) -> Any:
    async def handler(ctx: Context) -> Reply:
        body = ctx.body_dict()
        if credential is not None and "credential" in body:
            body = {**body, "credential": standard_credential(body["credential"], registration=credential)}
        data = await ctx.call("POST", f"{V1}/auth/passkeys/{native}", json=body)
        if options is not None:
            return Reply(options(data))
        if "access" in data:
            if data.get("refresh"):
                _set_refresh(ctx, data["refresh"])
            return Reply({"access": data["access"], "refresh": data.get("refresh"), "user": data["user"]})
        return Reply({"message": "Passkey registered successfully", "device_name": data.get("device_name")})

    return handler


async def signup_complete(ctx: Context) -> Reply:
    body = ctx.body_dict()
    body["credential"] = standard_credential(body.get("credential"), registration=True)
    data = await ctx.call("POST", f"{V1}/auth/passkeys/signup/complete", json=body)
    out: dict[str, Any] = {"message": "Passkey registered successfully", "device_name": data.get("device_name")}
    if "access" in data:
        out.update(access=data["access"], refresh=data.get("refresh"), user=data.get("user"))
        if data.get("refresh"):
            _set_refresh(ctx, data["refresh"])
    return Reply(out)


async def verify_email(ctx: Context) -> Reply:
    """The verification mail's link (the storefront's `verify_email` path, on the site that serves
    `/api/`): the email is confirmed, then the browser goes to the site's home page. The seed has no
    verification (its email-passkey users sign in at once); the platform confirms the address first."""
    await ctx.call("POST", f"{V1}/auth/verify-email", json={"token": ctx.params["token"]})
    return Reply(status=302, content=b"", headers={"Location": "/"})


async def upload(ctx: Context) -> Reply:
    """The multipart body (field `image`) as it came, to generation."""
    data = await ctx.call("POST", f"{V1}/restorations", content=ctx.body,
                          content_type=ctx.headers.get("content-type", "application/octet-stream"))
    return Reply({"job_id": data["job_id"], "status": data["status"]}, status=201)


def restoration(r: dict[str, Any]) -> dict[str, Any]:
    return {k: r.get(k) for k in ("id", "original_image_url", "restored_preview_url", "restored_full_url", "status",
                                  "unlock_method", "unlocked_at", "is_unlocked", "created_at", "expires_at")}


def _share_links(data: Json, ctx: Context) -> Json:
    """Share links point at the profile's own share-redirect route."""
    out = dict(data)
    for platform in ("facebook", "twitter", "linkedin", "pinterest"):
        if isinstance(out.get(platform), str):
            parts = urlsplit(out[platform])
            job = ctx.params["job_id"]
            out[platform] = (f"{ctx.base_url}{ctx.base}{A}/restorations/{job}/share-redirect/{platform}/"
                             + (f"?{parts.query}" if parts.query else ""))
    return out


async def share_redirect(ctx: Context) -> Reply:
    response = await ctx.native("GET", f"{V1}/restorations/{ctx.params['job_id']}/share-redirect/"
                                       f"{ctx.params['platform']}", query=ctx.query_dict())
    if response.status in (301, 302, 303, 307):
        return Reply(status=302, content=b"", headers={"Location": response.header("location") or "/"})
    raise response.error()


async def stripe_webhook(ctx: Context) -> Reply:
    return Reply(await ctx.forward_raw(f"{V1}/payments/webhooks/stripe", ("Stripe-Signature",)))


def envelope(route: Route, reply: Reply) -> Json:
    return reply.data


def error(exc: CompatError) -> Json:
    # The seed's `format_error` upper-cases its codes: `history_limit` reaches the client as HISTORY_LIMIT.
    return {"error": {"code": exc.code.upper(), "message": exc.message, "details": exc.details}}


ROUTES = (
    Route("GET", f"{A}/", "Map of useful endpoints", handler=api_root),
    Route("GET", f"{A}/health/", "Health (database, cache, celery)", handler=health),
    Route("GET", f"{A}/schema/", "OpenAPI document (this profile's)", handler=schema),
    Route("GET", f"{A}/docs/", "Swagger UI of this profile", handler=_docs("swagger")),
    Route("GET", f"{A}/redoc/", "ReDoc of this profile", handler=_docs("redoc")),
    # auth
    Route("POST", f"{A}/auth/oauth/initiate/", "Start OAuth: the authorization URL", handler=oauth_initiate),
    Route("GET", f"{A}/auth/oauth/callback/{{provider}}/", "OAuth callback", handler=oauth_callback),
    Route("POST", f"{A}/auth/oauth/callback/{{provider}}/", "OAuth callback (form post)", handler=oauth_callback),
    Route("POST", f"{A}/auth/oauth/exchange/", "Redeem the OAuth ticket (sets reviv_refresh)", handler=oauth_exchange),
    Route("POST", f"{A}/auth/token/refresh/", "New access token (reviv_refresh cookie or body)",
          handler=token_refresh),
    Route("GET", f"{A}/auth/me/", "Current user with credits", handler=me, auth="user"),
    Route("POST", f"{A}/auth/logout/", "Log out (clears reviv_refresh)", handler=logout, auth="user"),
    Route("POST", f"{A}/auth/passkey/register/begin/", "Passkey registration options",
          handler=_passkey("register/begin", options=creation_options), auth="user"),
    Route("POST", f"{A}/auth/passkey/register/complete/", "Register the passkey",
          handler=_passkey("register/complete", credential=True), auth="user"),
    Route("POST", f"{A}/auth/passkey/login/begin/", "Passkey login options",
          handler=_passkey("login/begin", options=request_options)),
    Route("POST", f"{A}/auth/passkey/login/complete/", "Passkey login: tokens",
          handler=_passkey("login/complete", credential=False)),
    Route("POST", f"{A}/auth/email-passkey/register/begin/", "Email-only sign-up: passkey options",
          handler=_passkey("signup/begin", options=creation_options)),
    Route("POST", f"{A}/auth/email-passkey/register/complete/", "Email-only sign-up: register the passkey",
          handler=signup_complete),
    Route("GET", f"{A}/auth/verify-email/{{token}}/", "The verification mail's link: confirm, then the home page",
          handler=verify_email, auth="anon"),
    # restorations
    Route("POST", f"{A}/restorations/upload/", "Upload a photo (multipart `image`)", handler=upload, auth="user"),
    Route("GET", f"{A}/restorations/history/", "Up to 6 non-expired jobs", native=f"GET {V1}/restorations",
          out=lambda d, c: [restoration(r) for r in (d["results"] if isinstance(d, dict) else d)], auth="user"),
    Route("GET", f"{A}/restorations/{{job_id}}/status/", "Job status (polling)",
          native=f"GET {V1}/restorations/{{job_id}}", auth="user",
          out=lambda d, c: {"job_id": d["job_id"], "status": d["status"], "preview_url": d.get("preview_url"),
                            "error": d.get("error")}),
    Route("DELETE", f"{A}/restorations/{{job_id}}/", "Delete the job and its files",
          native=f"DELETE {V1}/restorations/{{job_id}}", status={204: 200}, auth="user",
          out=lambda d, c: {"message": "Job deleted successfully", "status": "ok"}),
    Route("POST", f"{A}/restorations/{{job_id}}/unlock/", "Unlock with 1 credit",
          native=f"POST {V1}/restorations/{{job_id}}/unlock", auth="user",
          out=lambda d, c: {"full_image_url": d["full_image_url"], "credits_remaining": f"{d['credits_remaining']}.00"}),
    Route("POST", f"{A}/restorations/{{job_id}}/share-unlock/", "Share links for the one-time share unlock",
          native=f"POST {V1}/restorations/{{job_id}}/share-unlock", out=_share_links, auth="user"),
    Route("GET", f"{A}/restorations/{{job_id}}/share-redirect/{{platform}}/", "Tracked redirect to the network",
          handler=share_redirect),
    Route("POST", f"{A}/restorations/{{job_id}}/confirm-share/", "Confirm the share: unlock",
          native=f"POST {V1}/restorations/{{job_id}}/confirm-share", auth="user",
          out=lambda d, c: {"full_image_url": d["full_image_url"]}),
    # credits
    Route("GET", f"{A}/credits/packs/", "Credit packs", native=f"GET {V1}/credits/packs", auth="user",
          out=lambda d, c: [{"id": p["id"], "sku": p["sku"], "credits": p["credits"], "price_cents": p["price_cents"],
                             "price_dollars": f"${p['price']}", "active": p["active"]}
                            for p in (d["results"] if isinstance(d, dict) else d)]),
    Route("GET", f"{A}/credits/transactions/", "The last 50 credit transactions",
          native=f"GET {V1}/credits/transactions", auth="user",
          out=lambda d, c: [{"id": t["id"], "amount": t["amount"], "transaction_type": t["transaction_type"],
                             "created_at": t["created_at"]} for t in (d["results"] if isinstance(d, dict) else d)]),
    Route("POST", f"{A}/credits/purchase/", "Stripe Checkout for a pack", native=f"POST {V1}/credits/purchase",
          status={201: 200}, out=lambda d, c: {"checkout_url": d["checkout_url"]}, auth="user"),
    Route("POST", f"{A}/credits/webhook/", "Stripe webhook (server to server)", handler=stripe_webhook,
          auth="signed"),
)

PROFILE = Profile(name="reviv", title="reviv.pics API (compatibility profile)", seed="S2 reviv.pics (the product's original API)",
                  routes=ROUTES, envelope=envelope, error=error)
