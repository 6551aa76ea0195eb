"""Every way in — password, magic link (code and link), Google (ticket and JSON), passkey — ends in a
working access token for the same account when the email matches. Through the gateway, both modes."""

from __future__ import annotations

import uuid

import httpx
import pytest
from infra.identity_steps import (
    code_from,
    consent,
    magic_link,
    me,
    oauth_callback,
    oauth_start,
    passkey_login_begin,
    passkey_login_complete,
    redirect_query,
    register_passkey,
    signed_in_customer,
    unique_email,
    visitor,
)
from infra.journeys import login, token_from

pytestmark = pytest.mark.e2e


async def test_every_method_signs_in_to_the_one_account_of_the_email(api: httpx.AsyncClient, oidc,
                                                                    new_authenticator) -> None:
    customer = await signed_in_customer(api)
    email, user_id = customer["email"], customer["id"]
    assert (await me(api, customer["access"]))["id"] == user_id  # password

    ids: dict[str, str] = {}

    # Magic link, by its 6-digit code, then (a new mail) by its link.
    async with visitor(api) as browser:
        mail = await magic_link(browser, email)
        r = await browser.post("/api/v1/auth/magic-link/verify", json={"email": email, "code": code_from(mail)})
        assert r.status_code == 200, r.text
        assert r.json()["created"] is False
        ids["magic code"] = (await me(browser, r.json()["access"]))["id"]
    async with visitor(api) as browser:
        mail = await magic_link(browser, email)
        r = await browser.post("/api/v1/auth/magic-link/verify", json={"token": token_from(mail)})
        assert r.status_code == 200, r.text
        ids["magic link"] = (await me(browser, r.json()["access"]))["id"]

    # Google, the provider vouching for the same (verified) address.
    sub = f"google-{uuid.uuid4().hex}"
    oidc.add_user(sub, email.upper(), email_verified=True)
    async with visitor(api) as browser:
        # With return_to: back to the frontend with a ticket, exchanged for the access token and the cookie.
        back = await oauth_callback(browser, sub, return_to="/auth/callback")
        assert back.headers["location"].startswith("http://localhost:3000/auth/callback?ticket=")
        r = await browser.post("/api/v1/auth/oauth/exchange", json={"ticket": redirect_query(back)["ticket"]})
        assert r.status_code == 200, r.text
        assert "refresh" not in r.json()  # S2: the refresh token only travels in the HttpOnly cookie
        cookie = r.headers["set-cookie"]
        assert cookie.startswith("atelier_refresh=") and "httponly" in cookie.lower()
        ids["google ticket"] = (await me(browser, r.json()["access"]))["id"]
        refreshed = await browser.post("/api/v1/auth/refresh")  # the cookie is a working session
        assert refreshed.status_code == 200, refreshed.text
        assert (await me(browser, refreshed.json()["access"]))["id"] == user_id
    async with visitor(api) as browser:
        # Without return_to: the callback answers the tokens as JSON.
        r = await oauth_callback(browser, sub)
        assert r.status_code == 200, r.text
        assert r.json()["user"]["id"] == user_id and r.json()["refresh"]
        ids["google json"] = (await me(browser, r.json()["access"]))["id"]

    # A passkey registered by the signed-in user, then used to sign in (discoverable and by email).
    authenticator = new_authenticator()
    await register_passkey(api, customer["access"], authenticator)
    async with visitor(api) as browser:
        options = await passkey_login_begin(browser)
        r = await passkey_login_complete(browser, options, authenticator.get(options))
        assert r.status_code == 200, r.text
        ids["passkey"] = (await me(browser, r.json()["access"]))["id"]
        options = await passkey_login_begin(browser, email)
        r = await passkey_login_complete(browser, options, authenticator.get(options))
        assert r.status_code == 200, r.text
        ids["passkey by email"] = (await me(browser, r.json()["access"]))["id"]

    assert ids == dict.fromkeys(ids, user_id)
    # Nothing replaced the password of the verified account.
    again = await login(api, email)
    assert again["user"]["id"] == user_id and again["user"]["has_password"] is True


async def test_a_magic_link_creates_the_account_that_google_then_signs_in_to(api: httpx.AsyncClient,
                                                                            oidc) -> None:
    email = unique_email("figure")
    mail = await magic_link(api, email)
    r = await api.post("/api/v1/auth/magic-link/verify", json={"email": email, "code": code_from(mail)})
    assert r.status_code == 200, r.text
    first = r.json()
    assert first["created"] is True and first["user"]["has_password"] is False
    user_id = (await me(api, first["access"]))["id"]

    sub = f"google-{uuid.uuid4().hex}"
    oidc.add_user(sub, email)
    async with visitor(api) as browser:
        r = await oauth_callback(browser, sub)
        assert r.status_code == 200, r.text
        assert (await me(browser, r.json()["access"]))["id"] == user_id

    # Another address is another person: Google creates a different account for it.
    other = f"google-{uuid.uuid4().hex}"
    oidc.add_user(other, unique_email("stranger"))
    async with visitor(api) as browser:
        r = await browser.get(await consent(browser, await oauth_start(browser), other))
        assert r.status_code == 200, r.text
        assert (await me(browser, r.json()["access"]))["id"] != user_id
