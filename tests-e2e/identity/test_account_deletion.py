"""DELETE /users/me: re-authenticated, 204, and from then on the account's tokens and login are refused
at the gateway. Through the gateway, both modes."""

from __future__ import annotations

import httpx
import pytest
from infra.identity_steps import (
    address,
    bearer,
    code_from,
    expect_error,
    magic_link,
    me,
    refused_by_gateway,
    signed_in_customer,
    unique_email,
)
from infra.journeys import PASSWORD

pytestmark = pytest.mark.e2e

# A route of another service: a refusal there comes from the gateway's denylist.
ELSEWHERE = "/api/v1/credits/balance"


async def test_deleting_the_account_ends_its_tokens_and_its_login(api: httpx.AsyncClient) -> None:
    customer = await signed_in_customer(api)
    auth = bearer(customer["access"])
    assert (await api.post("/api/v1/addresses", json=address("Home"), headers=auth)).status_code == 201
    assert (await api.get(ELSEWHERE, headers=auth)).status_code == 200

    # Re-authentication first: a wrong password changes nothing.
    expect_error(await api.request("DELETE", "/api/v1/users/me", json={"password": "not-my-password"}, headers=auth),
                 400, "INVALID_PASSWORD")
    assert (await me(api, customer["access"]))["id"] == customer["id"]

    r = await api.request("DELETE", "/api/v1/users/me", json={"password": PASSWORD}, headers=auth)
    assert r.status_code == 204, r.text

    await refused_by_gateway(api, customer["access"])
    await refused_by_gateway(api, customer["access"], ELSEWHERE)
    expect_error(await api.post("/api/v1/auth/refresh", json={"refresh": customer["refresh"]}), 401, "INVALID_TOKEN")
    expect_error(await api.post("/api/v1/auth/login", json={"email": customer["email"], "password": PASSWORD}), 401,
                 "INVALID_CREDENTIALS")
    r = await api.post("/api/v1/auth/magic-link/check-user", json={"email": customer["email"]})
    assert r.status_code == 200 and r.json() == {"exists": False}, r.text


async def test_a_passwordless_account_confirms_with_delete(api: httpx.AsyncClient) -> None:
    email = unique_email("figure")
    r = await api.post("/api/v1/auth/magic-link/verify", json={"email": email,
                                                               "code": code_from(await magic_link(api, email))})
    assert r.status_code == 200, r.text
    session = r.json()
    assert session["user"]["has_password"] is False
    auth = bearer(session["access"])

    expect_error(await api.request("DELETE", "/api/v1/users/me", json={"confirm": "yes"}, headers=auth), 400,
                 "VALIDATION_ERROR")
    r = await api.request("DELETE", "/api/v1/users/me", json={"confirm": "DELETE"}, headers=auth)
    assert r.status_code == 204, r.text
    await refused_by_gateway(api, session["access"], ELSEWHERE)
    await refused_by_gateway(api, session["access"])
