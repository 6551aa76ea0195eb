"""The routes and translations an SPA built from the S2/S3 guides needs, in front of a
fake identity and catalog that record what they were asked."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from atelier_compat.core import Context
from atelier_compat.shop import _page_link, product_query
from atelier_gateway.settings import SERVICES
from atelier_gateway.upstream import AsgiUpstream
from atelier_testing import TestKeys
from atelier_testing.gateway import StartGateway, echo_service


def _context(query: list[tuple[str, str]]) -> Context:
    async def native(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("no native call expected")

    return Context(method="GET", path="/api/v1/products/", params={}, query=query, headers={}, body=b"",
                   native=native, base="/compat/shop", base_url="http://shop.test")


@pytest.mark.parametrize(("seed", "native"), [
    ([("price_min", "10"), ("price_max", "50")], {"min_price": "10", "max_price": "50"}),
    ([("min_price", "10"), ("max_price", "50")], {"min_price": "10", "max_price": "50"}),
    ([("name", "marble")], {"search": "marble"}),
    ([("search", "tile"), ("name", "marble")], {"search": "tile"}),
    ([("in_stock", "false"), ("featured", "true")], {"featured": "true"}),
    ([("in_stock", "true"), ("category", "stone")], {"in_stock": "true", "category": "stone"}),
    ([("page", "2"), ("page_size", "500"), ("ordering", "-price")], {"page": "2", "page_size": "100", "ordering": "-price"}),
])
def test_the_seed_product_filters_in_native_names(seed: list[tuple[str, str]], native: dict[str, str]) -> None:
    assert product_query(_context(seed)) == native


@pytest.mark.parametrize(("native", "seed"), [
    (None, None),
    ("http://h/compat/shop/api/v1/products/?limit=20&offset=20", "http://h/compat/shop/api/v1/products/?page=2"),
    ("http://h/p/?max_price=9&limit=5&offset=0", "http://h/p/?max_price=9&page=1&page_size=5"),
    ("http://h/p/?limit=5&offset=10&page=9", "http://h/p/?page=3&page_size=5"),
    ("http://h/p/?cursor=abc", "http://h/p/?cursor=abc"),
])
def test_page_links_in_the_seed_page_number_form(native: str | None, seed: str | None) -> None:
    assert _page_link(native) == seed


def fake_identity(calls: list[tuple[str, Any]]) -> FastAPI:
    app = FastAPI()

    @app.post("/api/v1/auth/{action:path}")
    async def auth(action: str, request: Request) -> Any:
        body = await request.json()
        calls.append((action, body))
        if body.get("token") == "bad":
            return JSONResponse({"error": {"code": "INVALID_TOKEN", "message": "The token is invalid", "details": {}}},
                                status_code=400)
        if action == "change-password":
            return {"message": "changed", "access": "a2", "refresh": "r2", "token_type": "Bearer"}
        return {"message": "ok"}

    return app


@pytest.fixture
def identity_calls() -> list[tuple[str, Any]]:
    return []


@pytest.fixture
def upstream(test_keys: TestKeys, identity_calls: list[tuple[str, Any]]) -> AsgiUpstream:
    services: dict[str, Any] = {s: echo_service(s, test_keys) for s in SERVICES}
    services["identity"] = fake_identity(identity_calls)
    return AsgiUpstream(services)


async def test_shop_verify_email_reset_and_change(start_gateway: StartGateway, upstream: AsgiUpstream,
                                                 identity_calls: list[tuple[str, Any]]) -> None:
    async with start_gateway(upstream=upstream, compat_profiles=["shop"]) as gw:
        base = "/compat/shop/api/v1/auth"
        r = await gw.client.get(f"{base}/verify-email/tok-1/")
        assert r.status_code == 200 and r.json() == {"message": "Email verified successfully"}
        r = await gw.client.get(f"{base}/verify-email/bad/")
        assert r.status_code == 400 and r.json()["code"] == "invalid_token"
        r = await gw.client.post(f"{base}/password/reset/", json={"email": "a@example.com"})
        assert r.json() == {"message": "If the email exists, a password reset link has been sent."}
        r = await gw.client.post(f"{base}/password/reset/confirm/", json={"token": "t", "new_password": "Pw-123456!x"})
        assert r.json() == {"message": "Password reset successfully"}
        r = await gw.client.post(f"{base}/password/change/", headers=gw.keys.user_headers(),
                                 json={"old_password": "o", "new_password": "Pw-123456!x", "new_password_confirm": "Pw-123456!x"})
        assert r.json() == {"message": "Password changed successfully", "tokens": {"refresh": "r2", "access": "a2"}}
        assert identity_calls == [
            ("verify-email", {"token": "tok-1"}), ("verify-email", {"token": "bad"}),
            ("password-reset", {"email": "a@example.com"}),
            # the seed's confirm field may be left out: it is the new password
            ("password-reset/confirm", {"token": "t", "new_password": "Pw-123456!x", "new_password_confirm": "Pw-123456!x"}),
            ("change-password", {"old_password": "o", "new_password": "Pw-123456!x", "new_password_confirm": "Pw-123456!x"}),
        ]


async def test_reviv_verification_link_confirms_then_goes_home(start_gateway: StartGateway, upstream: AsgiUpstream,
                                                              identity_calls: list[tuple[str, Any]]) -> None:
    async with start_gateway(upstream=upstream, compat_profiles=["reviv"]) as gw:
        r = await gw.client.get("/compat/reviv/api/auth/verify-email/tok-2/")
        assert r.status_code == 302 and r.headers["location"] == "/"
        r = await gw.client.get("/compat/reviv/api/auth/verify-email/bad/")
        assert r.status_code == 400 and r.json()["error"]["code"] == "INVALID_TOKEN"
        assert identity_calls == [("verify-email", {"token": "tok-2"}), ("verify-email", {"token": "bad"})]
