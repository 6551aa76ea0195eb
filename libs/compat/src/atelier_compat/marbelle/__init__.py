"""S1 Marbelle (the product's original API): the natural-stone shop's API, on top of identity, catalog and cart.

Every answer but the catalog's is `{success, message, data}`; errors are `{success: false,
message, errors}` (the original's `ResponseHandler.error`). Guest carts travel in `X-Session-ID`,
echoed back on every guest answer (the anonymous token the gateway minted or accepted). Choices
where the seed is silent: `README.md` next to this file.
"""

from __future__ import annotations

import asyncio
from typing import Any

from atelier_compat.core import CompatError, Context, Json, Profile, Reply, Route, same_id

V1 = "/api/v1"


# -- shapes -------------------------------------------------------------------------------------

def user(u: dict[str, Any]) -> dict[str, Any]:
    """The original's `UserSerializer`, plus `is_active`, `is_verified` and `date_joined`: its
    frontend's `User` type has them and the profile page shows the date joined."""
    out = {k: u.get(k) for k in ("id", "email", "first_name", "last_name", "company_name", "phone",
                                 "is_business_customer")}
    out.update(is_active=True, is_verified=u.get("is_verified"), date_joined=u.get("created_at"))
    return out


def address(a: dict[str, Any]) -> dict[str, Any]:
    return {k: a.get(k) for k in ("id", "label", "first_name", "last_name", "company", "address_line_1",
                                  "address_line_2", "city", "state", "postal_code", "country", "phone",
                                  "is_primary", "created_at", "updated_at")}


def seed_id(p: dict[str, Any]) -> Any:
    """The seed's integer product id: the catalog's `number` (the UUID for a product without one)."""
    return p["id"] if p.get("number") is None else p["number"]


def product(p: dict[str, Any], ctx: Context) -> dict[str, Any]:
    images = sorted(p.get("images") or [], key=lambda i: i.get("display_order", 0))
    return {
        "id": seed_id(p), "name": p["name"], "description": p.get("description", ""), "price": p["price"],
        "unit_of_measure": (p.get("attributes") or {}).get("unit_of_measure", "piece"),
        "category": p.get("category_id"), "stock_quantity": p.get("stock_quantity"), "in_stock": p.get("in_stock"),
        "sku": p.get("sku"),
        "images": [{"id": i["id"], "image": ctx.absolute(i.get("url")), "alt_text": i.get("alt_text", ""),
                    "is_primary": i.get("is_primary", False), "display_order": i.get("display_order", 0)}
                   for i in images],
        "created_at": p.get("created_at"), "updated_at": p.get("updated_at"),
    }


def product_page(page: dict[str, Any], ctx: Context) -> dict[str, Any]:
    return {"count": page["count"], "next": ctx.link(page.get("next")), "previous": ctx.link(page.get("previous")),
            "results": [product(p, ctx) for p in page["results"]]}


def totals(cart: dict[str, Any]) -> dict[str, Any]:
    return {k: cart[k] for k in ("item_count", "subtotal", "tax_amount", "total")}


def line(item: dict[str, Any], ctx: Context, live: dict[str, Any]) -> dict[str, Any]:
    """A cart line; `live` is the catalog's product (its seed id, stock), `{}` when it is gone."""
    return {"id": item["id"],
            "product": {"id": seed_id({"id": item["product_id"], "number": live.get("number")}),
                        "name": item["name"], "sku": item["sku"], "image": ctx.absolute(item.get("image_url")),
                        "stock_quantity": live.get("stock_quantity", 0), "in_stock": live.get("in_stock", False)},
            "quantity": item["quantity"], "unit_price": item["unit_price"], "subtotal": item["line_total"],
            "created_at": item.get("created_at")}


# -- the real differences -----------------------------------------------------------------------

async def _products(ctx: Context, ids: list[Any]) -> dict[str, dict[str, Any]]:
    """The catalog's products `ids` (one read per distinct product), by id; a gone one is left out."""
    ids = list(dict.fromkeys(ids))
    answers = await asyncio.gather(*(ctx.native("GET", f"{V1}/products/{pid}") for pid in ids))
    return {pid: r.json() for pid, r in zip(ids, answers, strict=True) if r.ok}


async def _product_ref(ctx: Context, ref: Any) -> str:
    """The catalog id of a seed product id (the integer `number`, or a UUID): the cart takes UUIDs."""
    if isinstance(ref, bool) or not isinstance(ref, int | str) or not str(ref).strip():
        raise CompatError(400, "VALIDATION_ERROR", "Invalid product id.", {"fields": {"product_id": [
            "A valid product id is required."]}})
    if isinstance(ref, str) and not ref.strip().isdigit():
        return ref  # a UUID: the cart checks it
    found = await ctx.native("GET", f"{V1}/products/{int(ref)}")
    if not found.ok:
        raise found.error()
    return str(found.json()["id"])


async def get_cart(ctx: Context) -> Reply:
    """The seed's cart lines carry the product's live stock: one catalog read per distinct product."""
    cart = await ctx.call("GET", f"{V1}/cart")
    live = await _products(ctx, [i["product_id"] for i in cart["items"]])
    items = [line(item, ctx, live.get(item["product_id"], {})) for item in cart["items"]]
    return Reply({"id": cart["id"], **totals(cart), "items": items}, message="Cart retrieved successfully.")


async def register(ctx: Context) -> Reply:
    """Sign-up without the guest's session: the seed merges the guest cart when the customer signs
    in, so until then it stays the guest's (the native sign-up would move it to the new account)."""
    response = await ctx.native("POST", f"{V1}/auth/register", json=ctx.body_dict(), guest=False)
    if not response.ok:
        raise response.error()
    return Reply(_user_out(response.json(), ctx), status=response.status)


def _line_of(cart: dict[str, Any], item_id: str | None = None, product_id: Any = None,
             variant_id: Any = None) -> dict[str, Any]:
    for item in cart["items"]:
        item = _dict(item)
        if item_id is not None:
            found = same_id(item.get("id"), item_id)
        else:
            found = same_id(item.get("product_id"), product_id) and same_id(item.get("variant_id"), variant_id)
        if found:
            return item
    raise CompatError(404, "CART_ITEM_NOT_FOUND", "Cart item not found.")


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


async def add_item(ctx: Context) -> Reply:
    body = ctx.body_dict()
    body["product_id"] = await _product_ref(ctx, body.get("product_id"))
    cart = await ctx.call("POST", f"{V1}/cart/items", json=body)
    item = _line_of(cart, product_id=body["product_id"], variant_id=body.get("variant_id"))
    live = await _products(ctx, [item["product_id"]])
    return Reply({"item": line(item, ctx, live.get(item["product_id"], {})), "cart_totals": totals(cart)},
                 message=f"Added {body.get('quantity', 1)} x {item['name']} to cart.")


async def update_item(ctx: Context) -> Reply:
    item_id = ctx.params["item_id"]
    cart = await ctx.call("PUT", f"{V1}/cart/items/{item_id}", json=ctx.body_dict())
    item = _line_of(cart, item_id)
    live = await _products(ctx, [item["product_id"]])
    return Reply({"item": line(item, ctx, live.get(item["product_id"], {})), "cart_totals": totals(cart)},
                 message="Cart item updated successfully.")


async def remove_item(ctx: Context) -> Reply:
    item_id = ctx.params["item_id"]
    before = await ctx.call("GET", f"{V1}/cart")
    name = _line_of(before, item_id)["name"]
    cart = await ctx.call("DELETE", f"{V1}/cart/items/{item_id}")
    return Reply({"cart_totals": totals(cart)}, message=f"Removed {name} from cart.")


def categories(page: dict[str, Any], ctx: Context) -> dict[str, Any]:
    """S1's categories are a flat list: the native tree, depth first."""
    flat: list[dict[str, Any]] = []

    def walk(nodes: list[dict[str, Any]]) -> None:
        for c in nodes:
            flat.append({"id": c["id"], "name": c["name"], "description": c.get("description", ""),
                         "product_count": c.get("product_count", 0), "created_at": c.get("created_at")})
            walk(c.get("children") or [])

    walk(page["results"])
    return {"count": len(flat), "next": None, "previous": None, "results": flat}


# -- envelope, errors, session header -----------------------------------------------------------

def envelope(route: Route, reply: Reply) -> Json:
    body: dict[str, Any] = {"success": True, "message": reply.message or route.message or "Success"}
    if reply.data is not None:
        body["data"] = reply.data
    return body


def error(exc: CompatError) -> Json:
    body: dict[str, Any] = {"success": False, "message": exc.message, "code": exc.code}
    fields = exc.details.get("fields") if isinstance(exc.details.get("fields"), dict) else None
    errors = {k.removeprefix("body."): v for k, v in fields.items()} if fields else exc.details
    if errors:
        body["errors"] = errors
    return body


def session_header(ctx: Context, headers: dict[str, str]) -> None:
    """Guests get their session back in `X-Session-ID` (the original did so for every guest answer)."""
    if "authorization" not in ctx.headers and ctx.state.get("anon_token"):
        headers["X-Session-ID"] = ctx.state["anon_token"]


def _user_out(data: Json, ctx: Context) -> Json:
    return user(data.get("user", data))


def _tokens_out(data: Json, ctx: Context) -> Json:
    out = {"access": data["access"], "refresh": data["refresh"]}
    if "user" in data:
        out["user"] = user(data["user"])
    return out


def _profile_in(data: dict[str, Any], ctx: Context) -> Json:
    # "Email changes silently ignored" here: the address changes only through the email-change flow.
    return {k: v for k, v in data.items() if k != "email"}


ROUTES = (
    # authentication
    Route("POST", f"{V1}/auth/register/", "Register", handler=register,
          message="Registration successful. Please check your email to verify your account.", auth="anon"),
    Route("POST", f"{V1}/auth/login/", "Login", native=f"POST {V1}/auth/login", out=_tokens_out,
          message="Login successful.", auth="anon"),
    Route("POST", f"{V1}/auth/logout/", "Logout", native=f"POST {V1}/auth/logout", status={204: 200},
          message="Logout successful.", auth="user"),
    Route("POST", f"{V1}/auth/verify-email/", "Verify email with token", native=f"POST {V1}/auth/verify-email",
          out=_user_out),
    Route("POST", f"{V1}/auth/resend-verification/", "Resend verification email",
          native=f"POST {V1}/auth/resend-verification", out=lambda d, c: None),
    Route("POST", f"{V1}/auth/password-reset/", "Request password reset", native=f"POST {V1}/auth/password-reset",
          out=lambda d, c: None),
    Route("POST", f"{V1}/auth/password-reset-confirm/", "Confirm password reset",
          native=f"POST {V1}/auth/password-reset/confirm", out=lambda d, c: None),
    # The original answers the user (its frontend keeps it as the signed-in profile), not a verdict.
    Route("GET", f"{V1}/auth/verify-token/", "Verify JWT token", native=f"GET {V1}/users/me", out=_user_out,
          message="Token is valid.", auth="user"),
    # SimpleJWT's own view: the bare token pair, no envelope (the frontend reads `data.access`).
    Route("POST", f"{V1}/auth/refresh-token/", "Refresh access token", native=f"POST {V1}/auth/refresh",
          out=_tokens_out, enveloped=False),
    Route("POST", f"{V1}/auth/request-email-change/", "Request email address change",
          native=f"POST {V1}/auth/email-change", out=lambda d, c: None, auth="user",
          message="Email change verification sent. Please check your new email to confirm the change."),
    Route("POST", f"{V1}/auth/confirm-email-change/", "Confirm email address change",
          native=f"POST {V1}/auth/email-change/confirm", out=_user_out,
          message="Email address changed successfully. You can now use your new email to login."),
    # dashboard
    Route("GET", f"{V1}/auth/user/", "Get user profile", native=f"GET {V1}/users/me", out=_user_out,
          message="User profile retrieved successfully.", auth="user"),
    Route("PUT", f"{V1}/auth/user/", "Update user profile (partial)", native=f"PATCH {V1}/users/me",
          body=_profile_in, out=_user_out, message="Profile updated successfully.", auth="user"),
    # Natively every other session ends and the caller's goes on: the token the frontend holds keeps
    # working (it ignores the answer, and the original revoked nothing). The answer's `data` is a new
    # pair of that same session (as at login), for a client that stores it.
    Route("POST", f"{V1}/auth/change-password/", "Change password", native=f"POST {V1}/auth/change-password",
          out=_tokens_out, message="Password changed successfully.", auth="user"),
    Route("GET", f"{V1}/auth/addresses/", "List addresses", native=f"GET {V1}/addresses",
          out=lambda d, c: {"addresses": [address(a) for a in d["results"]]}, message="Addresses retrieved.",
          auth="user"),
    Route("POST", f"{V1}/auth/addresses/", "Create address", native=f"POST {V1}/addresses",
          out=lambda d, c: address(d), message="Address created successfully.", auth="user"),
    Route("PUT", f"{V1}/auth/addresses/{{id}}/", "Update address", native=f"PUT {V1}/addresses/{{id}}",
          out=lambda d, c: address(d), message="Address updated successfully.", auth="user"),
    Route("DELETE", f"{V1}/auth/addresses/{{id}}/", "Delete address", native=f"DELETE {V1}/addresses/{{id}}",
          status={204: 200}, message="Address deleted successfully.", auth="user"),
    Route("PATCH", f"{V1}/auth/addresses/{{id}}/set_primary/", "Set primary address",
          native=f"POST {V1}/addresses/{{id}}/set-primary", out=lambda d, c: address(d),
          message="Primary address updated successfully.", auth="user"),
    # catalog: plain DRF pages, no envelope
    Route("GET", f"{V1}/products/", "Product list", native=f"GET {V1}/products", out=product_page, enveloped=False),
    Route("GET", f"{V1}/products/{{id}}/", "Product detail", native=f"GET {V1}/products/{{id}}", out=product,
          enveloped=False),
    Route("GET", f"{V1}/categories/", "Category list", native=f"GET {V1}/categories", out=categories,
          enveloped=False, query={}),
    Route("GET", f"{V1}/categories/{{id}}/products/", "Products of a category",
          native=f"GET {V1}/categories/{{id}}/products", out=product_page, enveloped=False),
    # cart: users and guests (X-Session-ID)
    Route("GET", f"{V1}/cart/", "Get cart", handler=get_cart, auth="anon"),
    Route("POST", f"{V1}/cart/items/", "Add to cart", handler=add_item, auth="anon"),
    Route("PUT", f"{V1}/cart/items/{{item_id}}/", "Update cart item", handler=update_item, auth="anon"),
    Route("DELETE", f"{V1}/cart/items/{{item_id}}/remove/", "Remove cart item", handler=remove_item, auth="anon"),
    Route("DELETE", f"{V1}/cart/clear/", "Clear cart", native=f"DELETE {V1}/cart",
          out=lambda d, c: {"cart_totals": totals(d)}, message="Cart cleared successfully.", auth="anon"),
)

PROFILE = Profile(name="marbelle", title="Marbelle API (compatibility profile)", seed="S1 Marbelle (the product's original API)",
                  routes=ROUTES, envelope=envelope, error=error, response_headers=session_header,
                  error_status={409: 400})
