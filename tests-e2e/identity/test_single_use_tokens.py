"""Each single-use token or code works once, then answers 400 INVALID_TOKEN; a password reset ends every
session. Through the gateway, both modes."""

from __future__ import annotations

import uuid

import httpx
import pytest
from infra.identity_steps import (
    bearer,
    code_from,
    consent,
    expect_error,
    magic_link,
    mail_ids,
    me,
    new_mail,
    oauth_callback,
    oauth_start,
    redirect_query,
    refused_by_gateway,
    signed_in_customer,
    unique_email,
    visitor,
)
from infra.journeys import PASSWORD, token_from

pytestmark = pytest.mark.e2e

NEW_PASSWORD = "a-brand-new-passphrase"
# A route served by another service: the refusal there is the gateway's, not identity's.
ELSEWHERE = "/api/v1/credits/balance"


async def test_the_email_verification_token_works_once(api: httpx.AsyncClient) -> None:
    email = unique_email()
    r = await api.post("/api/v1/auth/register", json={
        "email": email, "password": PASSWORD, "password_confirm": PASSWORD, "first_name": "Ada", "last_name": "L"})
    assert r.status_code == 201, r.text
    expect_error(await api.post("/api/v1/auth/login", json={"email": email, "password": PASSWORD}), 403,
                 "EMAIL_NOT_VERIFIED")
    token = token_from(await new_mail(api, email, "confirm your email"))

    first = await api.post("/api/v1/auth/verify-email", json={"token": token})
    assert first.status_code == 200, first.text
    assert first.json()["user"]["is_verified"] is True
    expect_error(await api.post("/api/v1/auth/verify-email", json={"token": token}), 400, "INVALID_TOKEN")
    assert (await api.post("/api/v1/auth/login", json={"email": email, "password": PASSWORD})).status_code == 200


async def test_the_password_reset_token_works_once_and_ends_every_session(api: httpx.AsyncClient) -> None:
    customer = await signed_in_customer(api)
    email, old = customer["email"], customer["access"]
    assert (await api.get(ELSEWHERE, headers=bearer(old))).status_code == 200

    async with visitor(api) as browser:  # the person who forgot the password, on another device
        seen = await mail_ids(browser, email)
        r = await browser.post("/api/v1/auth/password-reset", json={"email": email})
        assert r.status_code == 200, r.text
        token = token_from(await new_mail(browser, email, "reset your password", seen))
        body = {"token": token, "new_password": NEW_PASSWORD, "new_password_confirm": NEW_PASSWORD}
        confirmed = await browser.post("/api/v1/auth/password-reset/confirm", json=body)
        assert confirmed.status_code == 200, confirmed.text
        expect_error(await browser.post("/api/v1/auth/password-reset/confirm", json=body), 400, "INVALID_TOKEN")

    # Every earlier session is over: the access token at the gateway (any service), the refresh token.
    await refused_by_gateway(api, old)
    await refused_by_gateway(api, old, ELSEWHERE)
    expect_error(await api.post("/api/v1/auth/refresh", json={"refresh": customer["refresh"]}), 401, "INVALID_TOKEN")
    expect_error(await api.post("/api/v1/auth/login", json={"email": email, "password": PASSWORD}), 401,
                 "INVALID_CREDENTIALS")
    r = await api.post("/api/v1/auth/login", json={"email": email, "password": NEW_PASSWORD})
    assert r.status_code == 200, r.text
    assert (await me(api, r.json()["access"]))["id"] == customer["id"]  # a new session is not refused


async def test_the_email_change_token_works_once(api: httpx.AsyncClient) -> None:
    customer = await signed_in_customer(api)
    new_email = unique_email("renamed")
    r = await api.post("/api/v1/auth/email-change", headers=bearer(customer["access"]),
                       json={"current_password": PASSWORD, "new_email": new_email})
    assert r.status_code == 200, r.text
    token = token_from(await new_mail(api, new_email, "confirm your new email"))

    async with visitor(api) as browser:  # the link is opened from the new mailbox
        first = await browser.post("/api/v1/auth/email-change/confirm", json={"token": token})
        assert first.status_code == 200, first.text
        assert (first.json()["user"]["id"], first.json()["user"]["email"]) == (customer["id"], new_email)
        expect_error(await browser.post("/api/v1/auth/email-change/confirm", json={"token": token}), 400,
                     "INVALID_TOKEN")

    assert (await new_mail(api, customer["email"], "your email address was changed"))["to"] == customer["email"]
    r = await api.post("/api/v1/auth/login", json={"email": new_email, "password": PASSWORD})
    assert r.status_code == 200 and r.json()["user"]["id"] == customer["id"], r.text
    expect_error(await api.post("/api/v1/auth/login", json={"email": customer["email"], "password": PASSWORD}), 401,
                 "INVALID_CREDENTIALS")


async def test_the_magic_link_code_and_link_work_once(api: httpx.AsyncClient) -> None:
    email = unique_email("figure")

    # By code: one session. The same code again at once (S4's frontend verifies at every render) is
    # acknowledged without a session (`magic_link_retry_seconds`); the link of that mail is spent too.
    mail = await magic_link(api, email)
    code, token = code_from(mail), token_from(mail)
    first = await api.post("/api/v1/auth/magic-link/verify", json={"email": email, "code": code})
    assert first.status_code == 200, first.text
    await me(api, first.json()["access"])
    repeat = await api.post("/api/v1/auth/magic-link/verify", json={"email": email, "code": code})
    assert repeat.status_code == 200 and repeat.json()["repeated"] is True, repeat.text
    assert "access" not in repeat.json() and "refresh" not in repeat.json()
    expect_error(await api.post("/api/v1/auth/magic-link/verify", json={"token": token}), 400, "INVALID_TOKEN")

    # By link: once; the code of that mail is spent with it (no session from it either).
    mail = await magic_link(api, email)
    code, token = code_from(mail), token_from(mail)
    second = await api.post("/api/v1/auth/magic-link/verify", json={"token": token})
    assert second.status_code == 200, second.text
    assert (await me(api, second.json()["access"]))["id"] == first.json()["user"]["id"]
    expect_error(await api.post("/api/v1/auth/magic-link/verify", json={"token": token}), 400, "INVALID_TOKEN")
    after = await api.post("/api/v1/auth/magic-link/verify", json={"email": email, "code": code})
    assert after.status_code == 200 and after.json()["repeated"] is True and "access" not in after.json(), after.text


async def test_a_replayed_magic_code_answers_nothing_of_the_account(api: httpx.AsyncClient) -> None:
    # A code replayed within its grace answered the profile (name, phone, roles) to whoever sent it.
    email = unique_email("replayed")
    mail = await magic_link(api, email)
    created = await api.post("/api/v1/auth/magic-link/verify", json={"email": email, "code": code_from(mail)})
    assert created.status_code == 200, created.text
    profile = {"first_name": "Hedy", "last_name": "Lamarr", "phone": "+431234567890"}
    r = await api.patch("/api/v1/users/me", headers=bearer(created.json()["access"]), json=profile)
    assert r.status_code == 200, r.text

    code = code_from(await magic_link(api, email))
    signed_in = await api.post("/api/v1/auth/magic-link/verify", json={"email": email, "code": code})
    assert signed_in.status_code == 200 and signed_in.json()["user"]["first_name"] == "Hedy", signed_in.text
    async with visitor(api) as someone_else:  # the same code, sent again at once from elsewhere
        replay = await someone_else.post("/api/v1/auth/magic-link/verify", json={"email": email, "code": code})
    assert replay.status_code == 200 and set(replay.json()) == {"repeated", "message"}, replay.text
    for personal in (created.json()["user"]["id"], email, *profile.values(), "customer"):
        assert personal not in replay.text, replay.text


async def test_the_oauth_ticket_and_state_work_once(api: httpx.AsyncClient, oidc) -> None:
    sub = f"google-{uuid.uuid4().hex}"
    email = unique_email("grace")
    oidc.add_user(sub, email)

    back = await oauth_callback(api, sub, return_to="/auth/callback")
    ticket = redirect_query(back)["ticket"]
    async with visitor(api) as browser:
        first = await browser.post("/api/v1/auth/oauth/exchange", json={"ticket": ticket})
        assert first.status_code == 200, first.text
        assert (await me(browser, first.json()["access"]))["email"] == email
        expect_error(await browser.post("/api/v1/auth/oauth/exchange", json={"ticket": ticket}), 400,
                     "INVALID_TOKEN")

    # The provider's answer (code + state) is also spent by its first use.
    callback = await consent(api, await oauth_start(api), sub)
    assert (await api.get(callback)).status_code == 200
    expect_error(await api.get(callback), 400, "INVALID_TOKEN")
