"""S1 Marbelle's profile: what its real frontend reads (KiroVasilovski/marbelle, marbelle/frontend),
and the kit's call without the guest's identity that its sign-up uses. The journeys against the
real services: tests-e2e/compat/test_marbelle*.py."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from atelier_compat.core import CompatError, Context, Json, Profile, Reply, Route
from atelier_compat.dispatch import Compat
from atelier_compat.marbelle import PROFILE, envelope, line, product, seed_id, user
from atelier_testing.gateway import Gateway

PRODUCT_ID = "0b7f3c1e-7d55-4a4c-9f5e-2f1c1d9e0a11"


def _ctx() -> Any:
    return Context(method="GET", path="/", params={}, query=[], headers={}, body=b"", native=None,  # type: ignore[arg-type]  # shapes make no native call
                   base="/compat/marbelle", base_url="http://api.test")


def test_a_product_shows_its_number_as_the_seeds_integer_id() -> None:
    # The frontend does Number(id) for the product page and the add-to-cart body.
    shown = product({"id": PRODUCT_ID, "number": 7, "name": "Slab", "price": "10.00", "images": []}, _ctx())
    assert shown["id"] == 7
    assert seed_id({"id": PRODUCT_ID, "number": None}) == PRODUCT_ID  # a product made outside the catalog's API


def test_a_cart_line_links_to_the_product_by_number_with_live_stock() -> None:
    item = {"id": "line-1", "product_id": PRODUCT_ID, "name": "Slab", "sku": "S", "image_url": "/media/s.jpg",
            "quantity": 2, "unit_price": "10.00", "line_total": "20.00"}
    out = line(item, _ctx(), {"id": PRODUCT_ID, "number": 7, "stock_quantity": 4, "in_stock": True})
    assert out["product"] == {"id": 7, "name": "Slab", "sku": "S", "image": "http://api.test/media/s.jpg",
                              "stock_quantity": 4, "in_stock": True}
    gone = line(item, _ctx(), {})
    assert gone["product"]["id"] == PRODUCT_ID and gone["product"]["in_stock"] is False


def test_the_user_carries_what_the_frontend_user_type_reads() -> None:
    shown = user({"id": "u-1", "email": "a@example.com", "first_name": "Ada", "last_name": "Stone",
                  "company_name": "", "phone": None, "is_business_customer": False, "is_verified": True,
                  "created_at": "2026-11-25T13:00:00Z", "roles": ["customer"]})
    assert shown["date_joined"] == "2026-11-25T13:00:00Z" and shown["is_verified"] is True
    assert shown["is_active"] is True and "roles" not in shown


def test_verify_token_answers_the_user_and_refresh_the_bare_pair() -> None:
    routes = {(r.method, r.path): r for r in PROFILE.routes}
    verify = routes[("GET", "/api/v1/auth/verify-token/")]
    assert verify.native == "GET /api/v1/users/me" and verify.enveloped
    refresh = routes[("POST", "/api/v1/auth/refresh-token/")]
    assert refresh.enveloped is False  # SimpleJWT's own answer: {access, refresh}
    assert refresh.out is not None and refresh.out({"access": "a", "refresh": "r", "expires_in": 900}, _ctx()) == {
        "access": "a", "refresh": "r"}
    assert envelope(verify, Reply({"id": "u-1"}, message="Token is valid.")) == {
        "success": True, "message": "Token is valid.", "data": {"id": "u-1"}}


async def _without_guest(ctx: Context) -> Reply:
    alone = (await ctx.native("GET", "/api/v1/cart", guest=False)).json()
    as_guest = await ctx.call("GET", "/api/v1/cart")
    return Reply({"alone": alone["headers"].get("x-anonymous-token"), "cookie": alone["headers"].get("cookie"),
                  "guest": as_guest["headers"].get("x-anonymous-token")})


def _plain(route: Route, reply: Reply) -> Json:
    return reply.data


def _error(exc: CompatError) -> Json:
    return {"error": exc.code}


GUEST = Profile(name="guest", title="Guest", seed="a test seed",
                routes=(Route("GET", "/alone/", "A call without the guest", handler=_without_guest, auth="anon"),),
                envelope=_plain, error=_error)


async def test_a_call_without_the_guest_neither_uses_nor_hands_out_a_guest_identity(gateway: Gateway) -> None:
    gateway.app.state.gateway = replace(gateway.app.state.gateway, compat=Compat({"guest": GUEST}))
    token = gateway.keys.anon_token()
    r = await gateway.client.get("/compat/guest/alone/", headers={
        "X-Session-ID": token, "Cookie": f"anon_token={token}"})
    assert r.status_code == 200, r.text
    seen = r.json()
    assert seen["guest"] == token  # the other calls are the guest's
    assert seen["alone"] and seen["alone"] != token and seen["cookie"] is None
    # the token minted for the lone call stays inside: the client keeps its own session
    assert "x-anonymous-token" not in r.headers and "set-cookie" not in r.headers
