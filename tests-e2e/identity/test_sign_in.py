"""Register → verify → login → /users/me, bad tokens, logout — through the gateway, both modes."""

from __future__ import annotations

import base64
import json
import uuid

import httpx
import pytest
from infra.journeys import PASSWORD, login, new_anonymous_token, poll, register_verified

pytestmark = pytest.mark.e2e


def _alg_none(token: str) -> str:
    header = base64.urlsafe_b64encode(json.dumps({"alg": "none", "typ": "JWT"}).encode()).rstrip(b"=").decode()
    return f"{header}.{token.split('.')[1]}."


@pytest.mark.modes("embedded", "distributed",
                   why="a revocation heard in the process (embedded) or broadcast to every gateway process (distributed)")
async def test_register_login_me_logout(api: httpx.AsyncClient) -> None:
    account = await register_verified(api, company_name="Acme")
    tokens = await login(api, account["email"])
    assert tokens["token_type"].lower() == "bearer"
    auth = {"Authorization": f"Bearer {tokens['access']}"}

    me = await api.get("/api/v1/users/me", headers=auth)
    assert me.status_code == 200
    assert me.json()["email"] == account["email"]
    assert me.json()["is_business_customer"] is True

    access = tokens["access"]
    for bad in (access[:-4] + ("AAAA" if not access.endswith("AAAA") else "BBBB"), _alg_none(access), "garbage"):
        r = await api.get("/api/v1/users/me", headers={"Authorization": f"Bearer {bad}"})
        assert r.status_code == 401, bad
        assert r.json()["error"]["code"] == "INVALID_TOKEN"
    anon = await new_anonymous_token(api)
    r = await api.get("/api/v1/users/me", headers={"Authorization": f"Bearer {anon}"})
    assert r.status_code == 401

    r = await api.post("/api/v1/auth/logout", headers=auth, json={"refresh": tokens["refresh"]})
    assert r.status_code in (200, 204)

    async def refused() -> bool:
        return (await api.get("/api/v1/users/me", headers=auth)).status_code == 401

    await poll(refused, message="revoked access token refused")
    r = await api.post("/api/v1/auth/refresh", json={"refresh": tokens["refresh"]})
    assert r.status_code == 401


async def test_refresh_rotates_and_reuse_revokes_the_family(api: httpx.AsyncClient) -> None:
    account = await register_verified(api)
    first = await login(api, account["email"])
    r = await api.post("/api/v1/auth/refresh", json={"refresh": first["refresh"]})
    assert r.status_code == 200
    second = r.json()
    assert second["refresh"] != first["refresh"]
    assert (await api.post("/api/v1/auth/refresh", json={"refresh": first["refresh"]})).status_code == 401
    # the reuse revoked the family: the rotated token is dead too
    assert (await api.post("/api/v1/auth/refresh", json={"refresh": second["refresh"]})).status_code == 401


async def test_wrong_password_and_unknown_email_answer_alike(api: httpx.AsyncClient) -> None:
    account = await register_verified(api)
    wrong = await api.post("/api/v1/auth/login", json={"email": account["email"], "password": PASSWORD + "x"})
    unknown = await api.post("/api/v1/auth/login", json={"email": "nobody@example.com", "password": PASSWORD})
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json()["error"]["code"] == unknown.json()["error"]["code"]


async def test_malformed_bodies_unknown_routes_and_wrong_methods_use_the_error_format(api: httpx.AsyncClient) -> None:
    r = await api.post("/api/v1/auth/login", content=b"{not json", headers={"content-type": "application/json"})
    assert r.status_code == 400 and r.json()["error"]["code"] == "VALIDATION_ERROR"
    r = await api.post("/api/v1/auth/register", json={"email": 5})
    assert r.status_code == 400 and "fields" in r.json()["error"]["details"]
    r = await api.get("/api/v1/nothing-here")
    assert r.status_code == 404 and r.json()["error"]["code"] == "NOT_FOUND"
    r = await api.delete("/api/v1/auth/login")
    assert r.status_code == 405 and r.json()["error"]["code"] == "METHOD_NOT_ALLOWED"
    r = await api.get("/internal/users/00000000-0000-0000-0000-000000000000")
    assert r.status_code == 404
    for response in (r,):
        assert "Traceback" not in response.text


@pytest.mark.modes("embedded", "distributed",
                   why="the gateway merges the services' documents in the process (embedded) or over HTTP (distributed)")
async def test_merged_docs_list_the_services_routes(api: httpx.AsyncClient) -> None:
    schema = (await api.get("/api/schema")).json()
    assert schema["openapi"].startswith("3.1")
    for path in ("/api/v1/auth/login", "/api/v1/users/me", "/api/v1/products", "/api/v1/categories",
                 "/api/v1/cart/items", "/api/v1/orders", "/api/v1/payments/intents", "/api/v1/generation/jobs"):
        assert path in schema["paths"], path
    assert not any(p.startswith("/internal") for p in schema["paths"])
    docs = await api.get("/api/docs")
    assert docs.status_code == 200 and "/api/schema" in docs.text


async def test_profile_fields_and_login_by_username(api: httpx.AsyncClient) -> None:
    """S4: username and display_name are profile fields; the username signs in like the email."""
    username = f"ada_{uuid.uuid4().hex[:8]}"
    account = await register_verified(api, username=username, display_name="Ada")
    tokens = await login(api, username.upper())
    assert (tokens["user"]["email"], tokens["user"]["username"]) == (account["email"], username)
    auth = {"Authorization": f"Bearer {tokens['access']}"}

    r = await api.patch("/api/v1/users/me", headers=auth, json={"display_name": "Countess of Lovelace"})
    assert r.status_code == 200, r.text
    me = (await api.get("/api/v1/users/me", headers=auth)).json()
    assert (me["username"], me["display_name"]) == (username, "Countess of Lovelace")
    # Payments' view of the plan rides along (null while payments cannot tell it).
    assert {"subscription", "quota"} <= set(me)
    if me["subscription"] is not None:
        assert me["subscription"]["tier"] and set(me["quota"]) == {"monthly", "used", "remaining"}

    other = await register_verified(api)
    other_auth = {"Authorization": f"Bearer {(await login(api, other['email']))['access']}"}
    r = await api.patch("/api/v1/users/me", headers=other_auth, json={"username": username.upper()})
    assert (r.status_code, r.json()["error"]["code"]) == (409, "USERNAME_TAKEN")
