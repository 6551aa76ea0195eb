"""S0 storybook (seeds/000_…): the illustrated storybook maker's API, on identity, generation, orders, payments.

Its auth style is a session cookie: login sets `sessionid` (the access token) and
`storybook_refresh` (the refresh token), both HttpOnly; the profile turns the cookie into a bearer
token for the native calls and refreshes it when the access token has expired. Unsafe requests
riding on the cookie need an `Origin` (or `Referer`) among the configured frontend origins (CSRF).
Anonymous visitors keep the gateway's `anon_token` cookie or `X-Anonymous-Token`. Its flat
resources (`/characters/<id>/`, `/page-versions/<id>/`) are found under the caller's books. Errors
are DRF's: `{"detail": …}` (with `code`), per-field messages at the top level for 400s. Choices
where the seed is silent: `README.md` next to this file.
"""

from __future__ import annotations

import base64
import time
from typing import Any
from urllib.parse import urlsplit

import orjson

from atelier_compat.core import CompatError, Context, Json, Profile, Reply, Route, same_id

V1 = "/api/v1"
SESSION, REFRESH = "sessionid", "storybook_refresh"
SAFE = ("GET", "HEAD", "OPTIONS")
LIMIT = {"limit": 100}


# -- the session cookie -------------------------------------------------------------------------

def _expires_soon(token: str) -> bool:
    """Whether an access token is past (or within 30 s of) its expiry; read, not verified (the
    native call verifies it)."""
    try:
        payload = token.split(".")[1]
        claims = orjson.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    except (IndexError, ValueError, orjson.JSONDecodeError):
        return True
    # The cookie is the client's: its payload may be any JSON (`[]`, `null`, an `exp` of any type).
    exp = claims.get("exp") if isinstance(claims, dict) else None
    if not isinstance(exp, int | float) or isinstance(exp, bool):
        return True
    return exp < time.time() + 30


def _cookie(ctx: Context, name: str, value: str, max_age: int) -> None:
    secure = "; Secure" if ctx.base_url.startswith("https:") else ""
    ctx.response_headers.append(
        ("set-cookie", f"{name}={value}; Path=/; Max-Age={max_age}; HttpOnly; SameSite=Lax{secure}"))


def start_session(ctx: Context, tokens: dict[str, Any]) -> None:
    _cookie(ctx, SESSION, tokens["access"], 7 * 86400)
    _cookie(ctx, REFRESH, tokens["refresh"], 7 * 86400)
    ctx.native_headers["authorization"] = f"Bearer {tokens['access']}"


def end_session(ctx: Context) -> None:
    _cookie(ctx, SESSION, "", 0)
    _cookie(ctx, REFRESH, "", 0)
    ctx.native_headers.pop("authorization", None)


def _origin(ctx: Context) -> str | None:
    origin = ctx.headers.get("origin")
    if origin is None and (referer := ctx.headers.get("referer")):
        parts = urlsplit(referer)
        origin = f"{parts.scheme}://{parts.netloc}"
    return origin


async def prepare(ctx: Context) -> None:
    """The session cookie stands for a bearer token; unsafe requests need a trusted origin (CSRF)."""
    origin = _origin(ctx)
    unsafe = ctx.method not in SAFE and ctx.state["route"].auth != "signed"
    if unsafe and origin is not None and origin not in ctx.origins:
        raise CompatError(403, "CSRF_FAILED", "CSRF Failed: Origin checking failed - "
                                              f"{origin} does not match any trusted origins.")
    access, refresh = ctx.cookie(SESSION), ctx.cookie(REFRESH)
    if "authorization" in ctx.headers or not (access or refresh):
        return
    if unsafe and origin is None:
        raise CompatError(403, "CSRF_FAILED", "CSRF Failed: Origin checking failed - no Origin or Referer.")
    if access and not _expires_soon(access):
        ctx.native_headers["authorization"] = f"Bearer {access}"
        return
    if refresh:
        renewed = await ctx.native("POST", f"{V1}/auth/refresh", json={"refresh": refresh})
        if renewed.ok:
            start_session(ctx, renewed.json())
            return
    end_session(ctx)  # the session is over: carry on as an anonymous visitor


# -- shapes -------------------------------------------------------------------------------------

def user(u: dict[str, Any]) -> dict[str, Any]:
    return {k: u.get(k) for k in ("id", "username", "email", "first_name", "last_name", "phone")}


def item(data: dict[str, Any]) -> dict[str, Any]:
    """A native book item with the seed's `book` reference."""
    return {**data, "book": data.get("book_id")}


def version(data: dict[str, Any], field: str) -> dict[str, Any]:
    return {**data, field: data.get("content_id")}


def order(o: dict[str, Any]) -> dict[str, Any]:
    return {"id": o["id"], "order_id": o["id"], "order_number": o["order_number"], "status": o["status"],
            "tier_name": next((i["sku"] for i in o.get("items", []) if i.get("book_id")), None),
            "delivery_address_id": (o.get("shipping_address") or {}).get("id"),
            "delivery_cost": o.get("shipping_cost"), "total_amount": o["total_amount"], "currency": o["currency"],
            "items": [{"book_id": i.get("book_id"), "quantity": i["quantity"], "unit_price": i["unit_price"],
                       "sku": i["sku"]} for i in o.get("items", [])],
            "created_at": o.get("created_at")}


# -- customers ----------------------------------------------------------------------------------

async def register(ctx: Context) -> Reply:
    body = ctx.body_dict()
    data = await ctx.call("POST", f"{V1}/auth/register", json={
        **{k: body.get(k) for k in ("email", "password", "first_name", "last_name", "phone", "username")},
        "password_confirm": body.get("password")})
    logged_in = "access" in data  # the platform logs in at once only where it does not require a verified email
    if logged_in:
        start_session(ctx, data)
    return Reply({"loggedIn": logged_in, "user": user(data["user"]),
                  "message": "Registered." if logged_in else "Registered. Confirm your email address to log in."},
                 status=201)


async def login(ctx: Context) -> Reply:
    body = ctx.body_dict()
    data = await ctx.call("POST", f"{V1}/auth/login", json={
        "email": body.get("email") or body.get("username"), "password": body.get("password")})
    start_session(ctx, data)
    return Reply({"loggedIn": True, "user": user(data["user"])})


async def logout(ctx: Context) -> Reply:
    if "authorization" in ctx.native_headers or "authorization" in ctx.headers:
        refresh = ctx.cookie(REFRESH)
        response = await ctx.native("POST", f"{V1}/auth/logout", json={"refresh": refresh} if refresh else {})
        if not response.ok and response.status != 401:
            raise response.error()
    end_session(ctx)
    return Reply({"loggedIn": False})


async def status(ctx: Context) -> Reply:
    if "authorization" not in ctx.native_headers and "authorization" not in ctx.headers:
        return Reply({"loggedIn": False})
    response = await ctx.native("GET", f"{V1}/users/me")
    if not response.ok:
        return Reply({"loggedIn": False})
    return Reply({"loggedIn": True, "user": user(response.json())})


async def edit(ctx: Context) -> Reply:
    body = ctx.body_dict()
    me = await ctx.call("GET", f"{V1}/users/me")
    if body.get("email") not in (None, "", me["email"]):
        raise CompatError(400, "VALIDATION_ERROR", "The email address changes through the email-change flow.",
                          {"fields": {"email": ["Changing the email here is not supported; use email change."]}})
    if body.get("password"):
        raise CompatError(400, "VALIDATION_ERROR", "The password changes with the current password.",
                          {"fields": {"password": ["Use the password change (it needs the current password)."]}})
    data = await ctx.call("PATCH", f"{V1}/users/me", json={
        k: body[k] for k in ("username", "first_name", "last_name", "phone") if k in body})
    return Reply(user(data))


async def address(ctx: Context) -> Reply:
    if ctx.method == "GET":
        return Reply((await ctx.call("GET", f"{V1}/addresses", query=LIMIT))["results"])
    body = ctx.body_dict()
    if ctx.method == "POST":
        return Reply(await ctx.call("POST", f"{V1}/addresses", json=body), status=201)
    address_id = body.pop("id", None)
    if not address_id:
        raise CompatError(400, "VALIDATION_ERROR", "The address to change is named by `id`.",
                          {"fields": {"id": ["This field is required."]}})
    return Reply(await ctx.call("PUT", f"{V1}/addresses/{address_id}", json=body))


# -- books and their items ----------------------------------------------------------------------

async def _book_ids(ctx: Context) -> list[str]:
    wanted = ctx.query_dict().get("book")
    books = (await ctx.call("GET", f"{V1}/books", query=LIMIT))["results"]
    return [b["id"] for b in books if wanted is None or same_id(wanted, b["id"])]


def _items_path(kind: str, book_id: str) -> str:
    return f"{V1}/books/{book_id}/{kind}"


async def _items(ctx: Context, kind: str) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for book_id in await _book_ids(ctx):
        out.extend((await ctx.call("GET", _items_path(kind, book_id), query=LIMIT))["results"])
    return out


async def _find_item(ctx: Context, kind: str, item_id: str) -> dict[str, Any]:
    for found in await _items(ctx, kind):
        if same_id(found["id"], item_id):
            return found
    raise CompatError(404, "NOT_FOUND", "Not found.")


def items(kind: str, parent: str) -> dict[str, Any]:
    """The flat `/characters/` or `/pages/` routes over the native `/books/{id}/<kind>` ones."""

    async def list_(ctx: Context) -> Reply:
        return Reply([item(x) for x in await _items(ctx, kind)])

    async def create(ctx: Context) -> Reply:
        body = ctx.body_dict()
        book_id = body.pop(parent, None) or body.pop("book_id", None)
        if not book_id:
            raise CompatError(400, "VALIDATION_ERROR", "The book is required.",
                              {"fields": {parent: ["This field is required."]}})
        return Reply(item(await ctx.call("POST", _items_path(kind, book_id), json=body)), status=201)

    async def one(ctx: Context) -> Reply:
        found = await _find_item(ctx, kind, ctx.params["id"])
        path = f"{_items_path(kind, found['book_id'])}/{found['id']}"
        if ctx.method == "GET":
            return Reply(item(found))
        if ctx.method == "DELETE":
            await ctx.call("DELETE", path)
            return Reply(status=204)
        body = {k: v for k, v in ctx.body_dict().items() if k not in (parent, "book_id", "id")}
        return Reply(item(await ctx.call(ctx.method, path, json=body)))

    return {"list": list_, "create": create, "one": one}


async def _contents(ctx: Context, kind: str) -> list[tuple[str, str]]:
    """(native versions path, content id) of every character, cover or page the caller may see."""
    wanted = ctx.query_dict().get({"characters": "character", "pages": "page", "cover": "book"}[kind])
    out: list[tuple[str, str]] = []
    if kind == "cover":
        for book_id in await _book_ids(ctx):
            if wanted is None or same_id(wanted, book_id):
                out.append((f"{V1}/books/{book_id}/cover/versions", book_id))
        return out
    for found in await _items(ctx, kind):
        if wanted is None or same_id(wanted, found["id"]):
            out.append((f"{_items_path(kind, found['book_id'])}/{found['id']}/versions", found["id"]))
    return out


def versions(kind: str, field: str) -> dict[str, Any]:
    """The flat `/character-versions/`, `/cover-versions/`, `/page-versions/` routes."""

    async def list_(ctx: Context) -> Reply:
        out: list[dict[str, Any]] = []
        for path, _ in await _contents(ctx, kind):
            response = await ctx.native("GET", path, query=LIMIT)
            if response.ok:
                out.extend(version(v, field) for v in response.json()["results"])
            elif response.status != 404:  # a book without a cover yet has no cover versions
                raise response.error()
        return Reply(out)

    async def create(ctx: Context) -> Reply:
        body = ctx.body_dict()
        content_id = body.get(field) or body.get("content_id")
        if not content_id:
            raise CompatError(400, "VALIDATION_ERROR", f"The {field} is required.",
                              {"fields": {field: ["This field is required."]}})
        if kind == "cover":
            path = f"{V1}/books/{content_id}/cover/versions"
        else:
            found = await _find_item(ctx, kind, content_id)
            path = f"{_items_path(kind, found['book_id'])}/{found['id']}/versions"
        prompt = {"prompt": body["prompt"]} if body.get("prompt") else {}
        return Reply(version(await ctx.call("POST", path, json=prompt), field), status=201)

    async def one(ctx: Context) -> Reply:
        for path, _ in await _contents(ctx, kind):
            response = await ctx.native("GET", f"{path}/{ctx.params['id']}")
            if response.status == 404:
                continue
            if not response.ok:
                raise response.error()
            if ctx.method == "GET":
                return Reply(version(response.json(), field))
            body = {"is_selected": ctx.body_dict().get("is_selected", True)}
            return Reply(version(await ctx.call("PATCH", f"{path}/{ctx.params['id']}", json=body), field))
        raise CompatError(404, "NOT_FOUND", "Not found.")

    return {"list": list_, "create": create, "one": one}


# -- orders, webhook, retry packs, billing ------------------------------------------------------

async def create_order(ctx: Context) -> Reply:
    """Client prices (`unit_price`, `total_amount`, `delivery_cost`) are ignored: the catalog prices."""
    body = ctx.body_dict()
    raw = body.get("items")
    lines: list[Any] = raw if isinstance(raw, list) else []
    data = await ctx.call("POST", f"{V1}/orders", headers=_idempotency(ctx), json={
        "tier": body.get("tier_name"), "shipping_address_id": body.get("delivery_address_id"),
        "items": [{"book_id": i.get("book_id"), "quantity": i.get("quantity", 1)}
                  for i in lines if isinstance(i, dict)] or None})
    return Reply(order(data), status=201)


def _idempotency(ctx: Context) -> dict[str, str]:
    key = ctx.headers.get("idempotency-key")
    return {"Idempotency-Key": key} if key else {}


async def payment_webhook(ctx: Context) -> Reply:
    """The provider's body and secret, unchanged, to payments' simple-provider webhook."""
    provider = ctx.options.get("webhook_provider", "local")
    ack = await ctx.forward_raw(f"{V1}/payments/webhooks/{provider}", ("X-Webhook-Secret", "X-Signature"))
    return Reply({"status": "ok", "result": ack.get("status")})


async def create_retry_pack(ctx: Context) -> Reply:
    body = ctx.body_dict()
    sku = ctx.options.get("retry_pack_sku", "RETRY_PACK_3")
    data = await ctx.call("POST", f"{V1}/orders", headers=_idempotency(ctx), json={"items": [{
        "sku": sku, "quantity": 1,
        "target": {"content_type": body.get("content_type"), "content_id": body.get("content_id")}}]})
    return Reply({"order_id": data["id"], "retry_pack_order_id": data["id"], "status": data["status"],
                  "total_amount": data["total_amount"], "currency": data["currency"]}, status=201)


async def add_retries(ctx: Context) -> Reply:
    """S0 applies a paid pack by hand; natively a pack bought for an item applies itself when paid, so
    applying it again to that same item answers the item's allowance instead of an error."""
    body = ctx.body_dict()
    response = await ctx.native("POST", f"{V1}/retries/apply", json=body)
    if response.ok:
        return Reply(response.json())
    failure = response.error()
    order_id = body.get("retry_pack_order_id") or body.get("order_id")
    content_id, content_type = str(body.get("content_id")), str(body.get("content_type", "")).upper()
    if failure.code == "INVALID_STATE" and order_id:
        placed = await ctx.native("GET", f"{V1}/orders/{order_id}")
        if placed.ok and placed.json()["status"] in ("paid", "processing", "completed") and any(
                line.get("content_id") == content_id and str(line.get("content_type") or "").upper() == content_type
                for line in placed.json()["items"]):
            for book_id in await _book_ids(ctx):
                retries = await ctx.native("GET", f"{V1}/books/{book_id}/retries")
                for allowance in retries.json()["results"] if retries.ok else []:
                    if allowance["content_id"] == content_id:
                        return Reply(allowance)
    raise failure


def tiers(data: Json, ctx: Context) -> Json:
    return [{"id": t["id"], "name": t["sku"], "title": t["name"], "price": t["price"], "currency": t["currency"],
             "max_retries_per_unit": (t.get("attributes") or {}).get("max_retries_per_unit")}
            for t in data["print_tiers"]]


# -- errors -------------------------------------------------------------------------------------

def envelope(route: Route, reply: Reply) -> Json:
    return reply.data


def error(exc: CompatError) -> Json:
    body: dict[str, Any] = {"detail": exc.message, "code": exc.code.lower()}
    fields = exc.details.get("fields") if isinstance(exc.details.get("fields"), dict) else None
    if fields:
        body.update({k.removeprefix("body."): v for k, v in fields.items()})
    elif exc.details:
        body["details"] = exc.details
    return body


P = "/api/product"
_CHAR, _PAGE = items("characters", "book"), items("pages", "book")
_CV, _COV, _PV = versions("characters", "character"), versions("cover", "book"), versions("pages", "page")
_NO_DELETE = "deleting a version (the platform keeps every version; select another with PATCH is_selected)"


def _crud(base: str, name: str, handlers: dict[str, Any], auth: str) -> tuple[Route, ...]:
    return (Route("GET", f"{base}/", f"List {name}", handler=handlers["list"], auth=auth),
            Route("POST", f"{base}/", f"Create {name}", handler=handlers["create"], auth=auth),
            *(Route(m, f"{base}/{{id}}/", f"{m} one of {name}", handler=handlers["one"], auth=auth)
              for m in ("GET", "PUT", "PATCH", "DELETE")))


def _versions(base: str, name: str, handlers: dict[str, Any], auth: str) -> tuple[Route, ...]:
    return (Route("GET", f"{base}/", f"List {name}", handler=handlers["list"], auth=auth),
            Route("POST", f"{base}/", f"Regenerate: a new {name} (consumes a retry)", handler=handlers["create"],
                  auth=auth),
            *(Route(m, f"{base}/{{id}}/", f"{m} one of {name}", handler=handlers["one"], auth=auth)
              for m in ("GET", "PUT", "PATCH")),
            Route("DELETE", f"{base}/{{id}}/", f"Delete one of {name}", missing=_NO_DELETE))


ROUTES = (
    Route("POST", "/api/customer/register/", "Register (and log in where no verification is required)",
          handler=register, auth="anon"),
    Route("POST", "/api/customer/login/", "Log in: sets the session cookie", handler=login, auth="anon"),
    Route("POST", "/api/customer/logout/", "Log out", handler=logout, auth="anon"),
    Route("GET", "/api/customer/status/", "loggedIn flag", handler=status, auth="anon"),
    Route("GET", "/api/customer/user/", "Current user", native=f"GET {V1}/users/me",
          out=lambda d, c: user(d), auth="user"),
    Route("PUT", "/api/customer/edit/", "Edit the profile", handler=edit, auth="user"),
    *(Route(m, "/api/customer/address/", f"Addresses ({m})", handler=address, auth="anon")
      for m in ("GET", "POST", "PUT")),
    Route("GET", f"{P}/books/", "List books", native=f"GET {V1}/books", query={},
          out=lambda d, c: d["results"], auth="anon"),
    Route("POST", f"{P}/books/", "Create a book (anonymous: one)", native=f"POST {V1}/books", auth="anon"),
    Route("GET", f"{P}/books/{{id}}/", "A book", native=f"GET {V1}/books/{{id}}", auth="anon"),
    Route("PUT", f"{P}/books/{{id}}/", "Replace a book", native=f"PUT {V1}/books/{{id}}", auth="anon"),
    Route("PATCH", f"{P}/books/{{id}}/", "Update a book", native=f"PATCH {V1}/books/{{id}}", auth="anon"),
    Route("DELETE", f"{P}/books/{{id}}/", "Delete a book", native=f"DELETE {V1}/books/{{id}}", auth="anon"),
    *_crud(f"{P}/characters", "characters", _CHAR, "anon"),
    *_versions(f"{P}/character-versions", "character versions", _CV, "anon"),
    *_versions(f"{P}/cover-versions", "cover versions", _COV, "anon"),
    *_crud(f"{P}/pages", "pages", _PAGE, "user"),
    *_versions(f"{P}/page-versions", "page versions", _PV, "user"),
    Route("POST", f"{P}/retries/add/", "Apply a paid retry pack to an item", handler=add_retries, auth="user"),
    Route("POST", "/api/orders/create/", "Print order (client prices ignored)", handler=create_order, auth="anon"),
    Route("POST", "/api/orders/payment/webhook/", "Payment provider webhook (X-Webhook-Secret)",
          handler=payment_webhook, auth="signed"),
    Route("POST", "/api/orders/retry-pack/create/", "Retry pack order for an item", handler=create_retry_pack,
          auth="user"),
    Route("GET", "/api/billing/tiers/", "Active pricing tiers", native=f"GET {V1}/pricing", out=tiers),
    Route("GET", "/api/billing/ledger/", "The user's ledger", native=f"GET {V1}/billing/ledger", auth="user",
          out=lambda d, c: d["results"]),
)

PROFILE = Profile(name="storybook", title="Storybook backend API (compatibility profile)",
                  seed="S0 storybook (seeds/000_…)", routes=ROUTES, envelope=envelope, error=error, prepare=prepare)
