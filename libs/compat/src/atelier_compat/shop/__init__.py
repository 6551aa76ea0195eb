"""S3 shop (the product's original API): the general e-commerce backend's API, on identity, catalog, cart, orders, payments.

Bare JSON bodies as each route of the seed shows them, errors `{error, code, details}` with
lower-case codes, `tokens{}` at login, `phone_number`, 204 on deletes, `POST /cart/clear/`, the
order statuses of the seed (a paid order is `processing`), `create-intent` and a Stripe webhook at
the product's old URL. Choices where the seed is silent: `README.md` next to this file.
"""

from __future__ import annotations

import asyncio
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from atelier_compat.core import CompatError, Context, Json, Profile, Reply, Route, same_id

V1 = "/api/v1"

# The seed's order statuses: pending, processing, shipped, delivered, cancelled, returned.
ORDER_STATUS = {"awaiting_payment": "pending", "paid": "processing", "rejected": "cancelled",
                "refunded": "cancelled", "completed": "delivered"}
ERROR_CODES = {"AUTHENTICATION_REQUIRED": "not_authenticated", "RATE_LIMITED": "throttled",
               "INSUFFICIENT_STOCK": "stock_unavailable", "PERMISSION_DENIED": "permission_denied"}
# The seed's pages (DRF's PageNumberPagination: page_size 20, at most 100).
PAGE_SIZE, MAX_PAGE_SIZE = 20, 100
# The seed's product filter names (its django-filter set) → the native ones.
PRODUCT_FILTERS = {"price_min": "min_price", "price_max": "max_price", "name": "search"}


# -- shapes -------------------------------------------------------------------------------------

def user(u: dict[str, Any], *fields: str) -> dict[str, Any]:
    out = {k: u.get(k) for k in ("id", "email", "first_name", "last_name", *fields)}
    if "phone_number" in out:
        out["phone_number"] = u.get("phone")
    return out


def profile_out(data: Json, ctx: Context) -> Json:
    return user(data, "phone_number", "is_verified", "created_at")


def address(a: dict[str, Any]) -> dict[str, Any]:
    return {"id": a.get("id"), "address_type": a.get("type"), "full_name": a.get("full_name"),
            "phone_number": a.get("phone"), "street_address": a.get("address_line_1", a.get("street_address")),
            "apartment": a.get("address_line_2", a.get("apartment")), "city": a.get("city"), "state": a.get("state"),
            "country": a.get("country"), "zip_code": a.get("postal_code"), "is_default": a.get("is_primary"),
            "created_at": a.get("created_at")}


def snapshot(a: dict[str, Any] | None) -> dict[str, Any] | None:
    if a is None:
        return None
    full_name = a.get("full_name") or " ".join(p for p in (a.get("first_name"), a.get("last_name")) if p)
    return {"full_name": full_name, "street_address": a.get("street_address", a.get("address_line_1")),
            "apartment": a.get("apartment", a.get("address_line_2")), "city": a.get("city"),
            "state": a.get("state"), "country": a.get("country"), "zip_code": a.get("postal_code"),
            "phone_number": a.get("phone")}


def images(p: dict[str, Any], ctx: Context, *, order: bool = False) -> list[dict[str, Any]]:
    out = []
    for i in sorted(p.get("images") or [], key=lambda i: i.get("display_order", 0)):
        image = {"id": i["id"], "image": ctx.absolute(i.get("url")), "alt_text": i.get("alt_text", ""),
                 "is_primary": i.get("is_primary", False)}
        if order:
            image["order"] = i.get("display_order", 0)
        out.append(image)
    return out


def product_summary(p: dict[str, Any], names: dict[str, str], ctx: Context) -> dict[str, Any]:
    category = p.get("category_id")
    return {"id": p["id"], "name": p["name"], "slug": p["slug"], "price": p["price"],
            "compare_price": p.get("compare_price"), "quantity": p.get("stock_quantity"),
            "is_in_stock": p.get("in_stock"), "is_featured": p.get("is_featured"),
            "discount_percentage": p.get("discount_percentage", 0),
            "category": {"id": category, "name": names.get(category)} if category else None,
            "images": images(p, ctx), "average_rating": p.get("average_rating"),
            "review_count": p.get("review_count", 0)}


def review(r: dict[str, Any]) -> dict[str, Any]:
    return {k: r.get(k) for k in ("id", "user", "rating", "title", "comment", "is_verified_purchase", "created_at")}


def item_line(line: dict[str, Any], product: dict[str, Any] | None = None) -> dict[str, Any]:
    variant = None
    if line.get("variant_id"):
        match: dict[str, Any] = next((v for v in (product or {}).get("variants", []) if v["id"] == line["variant_id"]), {})
        variant = {"id": line["variant_id"], "name": match.get("name"), "sku": line.get("sku")}
    return {"id": line["id"],
            "product": {"id": line["product_id"], "name": line["name"], "slug": (product or {}).get("slug")},
            "variant": variant, "quantity": line["quantity"], "price": line["unit_price"],
            "total_price": line["line_total"]}


def order_status(status: str) -> str:
    return ORDER_STATUS.get(status, status)


def order(o: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": o["id"], "order_number": o["order_number"], "status": order_status(o["status"]),
        "subtotal": o["subtotal"], "tax": o["tax_amount"], "shipping_cost": o["shipping_cost"],
        "discount": o["discount"], "total_amount": o["total_amount"],
        "items": [{"id": i["id"], "product_name": i["name"], "product_sku": i["sku"],
                   "variant_name": i.get("variant_name"), "price": i["unit_price"], "quantity": i["quantity"],
                   "subtotal": i["line_total"]} for i in o.get("items", [])],
        "shipping_address": snapshot(o.get("shipping_address")),
        "billing_address": snapshot(o.get("billing_address")),
        "status_history": [{"status": order_status(h["status"]), "note": h.get("note", ""),
                            "created_at": h["created_at"]} for h in o.get("status_history", [])],
        "tracking_number": o.get("tracking_number"), "shipped_at": o.get("shipped_at"),
        "delivered_at": o.get("delivered_at"), "created_at": o["created_at"],
    }


def page(data: dict[str, Any], ctx: Context, results: list[Any]) -> dict[str, Any]:
    return {"count": data["count"], "next": _page_link(ctx.link(data.get("next"))),
            "previous": _page_link(ctx.link(data.get("previous"))), "results": results}


def _page_link(url: str | None) -> str | None:
    """A page link in the seed's page-number form (`?page=2`, DRF's PageNumberPagination), with
    `page_size` when it is not the default 20; the native links count `limit`/`offset`."""
    if url is None:
        return None
    parts = urlsplit(url)
    query = parse_qsl(parts.query, keep_blank_values=True)
    values = dict(query)
    if "limit" not in values or not values["limit"].isdigit() or not values.get("offset", "0").isdigit():
        return url
    limit, offset = int(values["limit"]), int(values.get("offset", "0"))
    kept = [(k, v) for k, v in query if k not in ("limit", "offset", "page", "page_size")]
    kept.append(("page", str(offset // max(limit, 1) + 1)))
    if limit != PAGE_SIZE:
        kept.append(("page_size", str(limit)))
    return urlunsplit((parts.scheme, parts.netloc, parts.path, urlencode(kept), parts.fragment))


# -- the real differences -----------------------------------------------------------------------

async def _category_names(ctx: Context) -> dict[str, str]:
    names: dict[str, str] = {}

    def walk(nodes: list[dict[str, Any]]) -> None:
        for c in nodes:
            names[c["id"]] = c["name"]
            walk(c.get("children") or [])

    walk((await ctx.call("GET", f"{V1}/categories", query={"limit": 100}))["results"])
    return names


def product_query(ctx: Context) -> dict[str, str]:
    """The seed's filters in the native names: its filter set's `price_min`/`price_max` (the guide's
    `min_price`/`max_price` are the native names already) and `name` (a name search); `in_stock=false`
    filters nothing in the seed, so it is dropped; `page_size` is capped at 100 as the seed caps it."""
    query: dict[str, str] = {}
    for key, value in ctx.query:
        if key == "in_stock" and value.lower() in ("false", "0"):
            continue
        if key == "page_size" and value.isdigit():
            value = str(min(int(value), MAX_PAGE_SIZE))  # the seed caps it (max_page_size), never a 400
        native = PRODUCT_FILTERS.get(key, key)
        if native == "search" and "search" in query:
            continue  # an explicit `search` wins over `name`
        query[native] = value
    return query


async def list_products(ctx: Context) -> Reply:
    """`category{id, name}` on each product: one categories read besides the product page."""
    products, names = await asyncio.gather(ctx.call("GET", f"{V1}/products", query=product_query(ctx)),
                                           _category_names(ctx))
    return Reply(page(products, ctx, [product_summary(p, names, ctx) for p in products["results"]]))


async def product_detail(ctx: Context) -> Reply:
    slug = ctx.params["slug"]
    p, names, reviews = await asyncio.gather(ctx.call("GET", f"{V1}/products/{slug}"), _category_names(ctx),
                                             ctx.call("GET", f"{V1}/products/{slug}/reviews", query={"limit": 20}))
    attributes = p.get("attributes") or {}
    out = product_summary(p, names, ctx)
    out.update(description=p.get("description", ""), cost_price=None, sku=p.get("sku"),
               weight=attributes.get("weight"), dimensions=attributes.get("dimensions"), images=images(p, ctx, order=True),
               variants=[{"id": v["id"], "name": v["name"], "sku": v["sku"], "price": v["price"],
                          "quantity": v.get("stock_quantity"), "attributes": v.get("attributes", {})}
                         for v in p.get("variants", [])],
               reviews=[review(r) for r in reviews["results"]], created_at=p.get("created_at"))
    return Reply(out)


def categories(data: Json, ctx: Context) -> Json:
    def node(c: dict[str, Any]) -> dict[str, Any]:
        return {"id": c["id"], "name": c["name"], "slug": c["slug"], "description": c.get("description", ""),
                "image": None, "children": [node(x) for x in c.get("children") or []]}

    return {"results": [node(c) for c in data["results"]]}


async def _products(ctx: Context, ids: list[str]) -> dict[str, dict[str, Any]]:
    answers = await asyncio.gather(*(ctx.native("GET", f"{V1}/products/{pid}") for pid in ids))
    return {pid: r.json() for pid, r in zip(ids, answers, strict=True) if r.ok}


async def get_cart(ctx: Context) -> Reply:
    cart = await ctx.call("GET", f"{V1}/cart")
    products = await _products(ctx, list(dict.fromkeys(i["product_id"] for i in cart["items"])))
    return Reply({"id": cart["id"], "items": [item_line(i, products.get(i["product_id"])) for i in cart["items"]],
                  "total_items": cart["item_count"], "subtotal": cart["subtotal"], "created_at": None,
                  "updated_at": None})


def _line(cart: dict[str, Any], *, item_id: str | None = None, product_id: Any = None,
          variant_id: Any = None) -> dict[str, Any] | None:
    for line in cart["items"]:
        if not isinstance(line, dict):
            continue
        if item_id is not None:
            found = same_id(line["id"], item_id)
        else:
            found = same_id(line["product_id"], product_id) and same_id(line.get("variant_id"), variant_id or None)
        if found:
            return line
    return None


async def add_item(ctx: Context) -> Reply:
    """201 with the new line; when the line existed, the seed's 'Item quantity updated' answer (200)."""
    body = ctx.body_dict()
    before = await ctx.call("GET", f"{V1}/cart")
    existed = _line(before, product_id=body.get("product_id"), variant_id=body.get("variant_id")) is not None
    cart = await ctx.call("POST", f"{V1}/cart/items", json=body)
    line = _line(cart, product_id=body.get("product_id"), variant_id=body.get("variant_id"))
    if line is None:
        raise CompatError(500, "INTERNAL_ERROR", "Internal server error")
    if existed:
        return Reply({"message": "Item quantity updated", "quantity": line["quantity"],
                      "total_price": line["line_total"]})
    out = item_line(line)
    out["product"].pop("slug")
    if out["variant"]:
        out["variant"].pop("sku")
    return Reply(out, status=201)


async def update_item(ctx: Context) -> Reply:
    cart = await ctx.call("PUT", f"{V1}/cart/items/{ctx.params['id']}", json=ctx.body_dict())
    line = _line(cart, item_id=ctx.params["id"])
    if line is None:
        raise CompatError(404, "NOT_FOUND", "Not found")
    out = item_line(line)
    out["product"].pop("slug")
    return Reply(out)


async def change_password(ctx: Context) -> Reply:
    body = ctx.body_dict()
    body.setdefault("new_password_confirm", body.get("new_password"))
    tokens = await ctx.call("POST", f"{V1}/auth/change-password", json=body)
    # Every other session ends with the change; the caller's goes on, with a fresh pair (SimpleJWT's shape).
    return Reply({"message": "Password changed successfully",
                  "tokens": {"refresh": tokens["refresh"], "access": tokens["access"]}})


async def verify_email(ctx: Context) -> Reply:
    """The SPA's page for the mail link (`/verify-email/<token>`) calls this with the link's token."""
    await ctx.call("POST", f"{V1}/auth/verify-email", json={"token": ctx.params["token"]})
    return Reply({"message": "Email verified successfully"})


async def reset_confirm(ctx: Context) -> Reply:
    body = ctx.body_dict()
    body.setdefault("new_password_confirm", body.get("new_password"))
    await ctx.call("POST", f"{V1}/auth/password-reset/confirm", json=body)
    return Reply({"message": "Password reset successfully"})


async def stripe_webhook(ctx: Context) -> Reply:
    """The raw body and the signature, unchanged, to payments' Stripe webhook (the seed's
    `X-Stripe-Signature` is Stripe's `Stripe-Signature` under another name)."""
    if "stripe-signature" not in ctx.headers and "x-stripe-signature" in ctx.headers:
        ctx.headers["stripe-signature"] = ctx.headers["x-stripe-signature"]
    await ctx.forward_raw(f"{V1}/payments/webhooks/stripe", ("Stripe-Signature",))
    return Reply({"status": "success"})


# -- envelope, errors ---------------------------------------------------------------------------

def envelope(route: Route, reply: Reply) -> Json:
    return reply.data


def error(exc: CompatError) -> Json:
    details: Any = exc.details or None
    if isinstance(details, dict) and isinstance(details.get("fields"), dict):
        details = {k.removeprefix("body.").removeprefix("query."): v for k, v in details["fields"].items()}
    body: dict[str, Any] = {"error": exc.message, "code": ERROR_CODES.get(exc.code, exc.code.lower()),
                            "details": details}
    retry_after = exc.headers.get("retry-after") or exc.headers.get("Retry-After")
    if exc.code == "RATE_LIMITED" and retry_after and retry_after.isdigit():
        body["retry_after"] = int(retry_after)
    if isinstance(exc.details, dict) and "status" in exc.details:
        body["status"] = exc.details["status"]  # "Payment not completed" carries the intent's status
    return body


def _message(text: str) -> Any:
    return lambda data, ctx: {"message": text}


ROUTES = (
    # authentication and profile
    Route("POST", f"{V1}/auth/register/", "Register new user", native=f"POST {V1}/auth/register",
          body={"phone_number": "phone"}, auth="anon",
          out=lambda d, c: {"message": "User registered successfully. Please check your email to verify your "
                                       "account.", "user": user(d["user"])}),
    Route("POST", f"{V1}/auth/login/", "Login", native=f"POST {V1}/auth/login", auth="anon",
          out=lambda d, c: {"message": "Login successful", "tokens": {"refresh": d["refresh"], "access": d["access"]},
                            "user": user(d["user"], "is_verified")}),
    Route("POST", f"{V1}/auth/refresh/", "Refresh access token", native=f"POST {V1}/auth/refresh",
          out=lambda d, c: {"access": d["access"], "refresh": d["refresh"]}),
    Route("POST", f"{V1}/auth/logout/", "Logout", native=f"POST {V1}/auth/logout", status={204: 200},
          out=_message("Logout successful"), auth="user"),
    Route("GET", f"{V1}/auth/me/", "Get user profile", native=f"GET {V1}/users/me", out=profile_out, auth="user"),
    Route("PUT", f"{V1}/auth/me/", "Update user profile (partial; email cannot change)",
          native=f"PATCH {V1}/users/me", body=lambda d, c: {("phone" if k == "phone_number" else k): v
                                                            for k, v in d.items() if k != "email"},
          out=profile_out, auth="user"),
    Route("GET", f"{V1}/auth/me/addresses/", "List addresses", native=f"GET {V1}/addresses", auth="user",
          out=lambda d, c: page(d, c, [address(a) for a in d["results"]])),
    Route("POST", f"{V1}/auth/me/addresses/", "Create address", native=f"POST {V1}/addresses", auth="user",
          out=lambda d, c: address(d)),
    Route("POST", f"{V1}/auth/password/", "Change password", handler=change_password, auth="user"),
    Route("POST", f"{V1}/auth/password/change/", "Change password", handler=change_password, auth="user"),
    Route("POST", f"{V1}/auth/password/reset/", "Request a password reset mail",
          native=f"POST {V1}/auth/password-reset", auth="anon",
          out=_message("If the email exists, a password reset link has been sent.")),
    Route("POST", f"{V1}/auth/password/reset/confirm/", "Set a new password with the mail's token",
          handler=reset_confirm, auth="anon"),
    Route("GET", f"{V1}/auth/verify-email/{{token}}/", "Verify the email (the mail link's token)",
          handler=verify_email, auth="anon"),
    # catalog (categories and wishlist before the product slug)
    Route("GET", f"{V1}/products/categories/", "List categories (tree)", native=f"GET {V1}/categories",
          query={}, out=categories),
    Route("GET", f"{V1}/products/wishlist/me/", "Get user wishlist", native=f"GET {V1}/wishlist", auth="user",
          out=lambda d, c: page(d, c, [
              {"product": {"id": w["product"]["id"], "name": w["product"]["name"], "slug": w["product"]["slug"],
                           "price": w["product"]["price"], "quantity": w["product"].get("stock_quantity"),
                           "is_in_stock": w["product"].get("in_stock")},
               "added_at": w["added_at"]} for w in d["results"]])),
    Route("GET", f"{V1}/products/", "List products", handler=list_products),
    Route("GET", f"{V1}/products/{{slug}}/", "Get product details", handler=product_detail),
    Route("GET", f"{V1}/products/{{slug}}/reviews/", "Product reviews", native=f"GET {V1}/products/{{slug}}/reviews",
          out=lambda d, c: page(d, c, [review(r) for r in d["results"]])),
    Route("POST", f"{V1}/products/{{slug}}/reviews/", "Add product review",
          native=f"POST {V1}/products/{{slug}}/reviews", auth="user",
          out=lambda d, c: {**review(d), "is_approved": True}),
    Route("POST", f"{V1}/products/{{slug}}/wishlist/", "Toggle wishlist",
          native=f"POST {V1}/products/{{slug}}/wishlist", auth="user",
          out=lambda d, c: {"message": d["message"], "in_wishlist": d["in_wishlist"]}),
    # cart
    Route("GET", f"{V1}/cart/", "Get cart", handler=get_cart, auth="user"),
    Route("POST", f"{V1}/cart/items/", "Add item to cart", handler=add_item, auth="user"),
    Route("PUT", f"{V1}/cart/items/{{id}}/", "Update cart item", handler=update_item, auth="user"),
    Route("DELETE", f"{V1}/cart/items/{{id}}/", "Remove cart item", native=f"DELETE {V1}/cart/items/{{id}}",
          status={200: 204}, auth="user"),
    Route("POST", f"{V1}/cart/clear/", "Clear cart", native=f"DELETE {V1}/cart", auth="user",
          out=_message("Cart cleared successfully")),
    # orders
    Route("POST", f"{V1}/orders/", "Create order (checkout)", native=f"POST {V1}/orders", auth="user",
          out=lambda d, c: {k: v for k, v in order(d).items()
                            if k not in ("status_history", "tracking_number", "shipped_at", "delivered_at")}),
    Route("GET", f"{V1}/orders/", "List user orders", native=f"GET {V1}/orders", auth="user",
          out=lambda d, c: page(d, c, [{"id": o["id"], "order_number": o["order_number"],
                                        "status": order_status(o["status"]), "total_amount": o["total_amount"],
                                        "item_count": o.get("item_count"), "created_at": o["created_at"],
                                        "updated_at": o.get("updated_at")} for o in d["results"]])),
    Route("GET", f"{V1}/orders/{{id}}/", "Get order details", native=f"GET {V1}/orders/{{id}}", auth="user",
          out=lambda d, c: order(d)),
    Route("POST", f"{V1}/orders/{{id}}/cancel/", "Cancel order", native=f"POST {V1}/orders/{{id}}/cancel",
          auth="user", status={409: 400},
          out=lambda d, c: {"message": "Order cancelled successfully",
                            "order": {"id": d["id"], "status": order_status(d["status"]),
                                      "created_at": d["created_at"]}}),
    # payments
    Route("POST", f"{V1}/payments/create-intent/", "Create payment intent", native=f"POST {V1}/payments/intents",
          auth="user", status={201: 200},
          out=lambda d, c: {"client_secret": d["client_secret"], "payment_intent_id": d["payment_intent_id"]}),
    Route("POST", f"{V1}/payments/confirm/", "Confirm payment", native=f"POST {V1}/payments/confirm", auth="user",
          out=lambda d, c: {"message": "Payment confirmed successfully", "order_id": d["order_id"]}),
    Route("POST", f"{V1}/payments/webhook/", "Stripe webhook", handler=stripe_webhook, auth="signed"),
)

PROFILE = Profile(name="shop", title="E-Commerce Backend REST API (compatibility profile)",
                  seed="S3 shop (the product's original API)", routes=ROUTES, envelope=envelope, error=error)
