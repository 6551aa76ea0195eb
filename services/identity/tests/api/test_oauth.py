"""Sign-in with Google (S2) against a local fake OpenID provider: start, callback, ticket exchange."""

from __future__ import annotations

import uuid
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from atelier_testing import TestKeys

CALLBACK = "/api/v1/auth/oauth/google/callback"


@pytest.fixture
async def api(start_identity, oauth_settings) -> Any:  # the default app, with Google configured
    async with start_identity(**oauth_settings) as identity:
        yield identity


async def _start(api, return_to: str | None = None, headers: dict[str, str] | None = None):
    body = {"return_to": return_to} if return_to is not None else None
    return await api.client.post("/api/v1/auth/oauth/google/start", json=body, headers=headers)


async def _consent(auth_url: str, user: str | None = None, *, deny: bool = False) -> str:
    """The person picks an account at the provider; answers identity's callback path and query."""
    extra = "&deny=1" if deny else f"&user={user}"
    async with httpx.AsyncClient() as browser:
        response = await browser.get(auth_url + extra)
    assert response.status_code in (302, 307), response.text
    location = urlsplit(response.headers["location"])
    assert location.path == CALLBACK
    return f"{location.path}?{location.query}"


async def _sign_in(api, user: str, *, return_to: str | None = None,
                   headers: dict[str, str] | None = None) -> httpx.Response:
    started = await _start(api, return_to, headers)
    assert started.status_code == 200, started.text
    return await api.client.get(await _consent(started.json()["auth_url"], user), headers=headers)


def _query(response: httpx.Response) -> dict[str, str]:
    assert response.status_code == 302, response.text
    return {k: v[0] for k, v in parse_qs(urlsplit(response.headers["location"]).query).items()}


class TestStart:
    async def test_answers_the_providers_url_with_state_nonce_and_pkce(self, api, oidc) -> None:
        response = await _start(api)
        assert response.status_code == 200, response.text
        url = urlsplit(response.json()["auth_url"])
        assert f"{url.scheme}://{url.netloc}{url.path}" == f"{oidc.base_url}/authorize"
        query = {k: v[0] for k, v in parse_qs(url.query).items()}
        assert query["response_type"] == "code" and query["code_challenge_method"] == "S256"
        assert query["redirect_uri"] == f"http://localhost:8000{CALLBACK}"
        assert set(query["scope"].split()) == {"openid", "email", "profile"}
        assert query["state"] and query["nonce"] and query["code_challenge"]

    @pytest.mark.parametrize("return_to", ["/auth/callback", "http://localhost:3000/after?x=1"])
    async def test_relative_or_same_origin_return_to_is_accepted(self, api, return_to: str) -> None:
        assert (await _start(api, return_to)).status_code == 200

    @pytest.mark.parametrize("return_to", ["https://evil.example/steal", "//evil.example/x", "/\\evil.example",
                                           "http://localhost:3001/", "javascript:alert(1)"])
    async def test_any_other_return_to_is_refused(self, api, expect_error, return_to: str) -> None:
        details = expect_error(await _start(api, return_to), 400, "VALIDATION_ERROR")
        assert "return_to" in details["fields"]

    async def test_an_unknown_provider_is_404(self, api, expect_error) -> None:
        expect_error(await api.client.post("/api/v1/auth/oauth/facebook/start"), 404, "OAUTH_PROVIDER_NOT_FOUND")

    async def test_google_is_not_offered_without_configuration(self, start_identity, expect_error) -> None:
        async with start_identity() as api:
            expect_error(await _start(api), 404, "OAUTH_PROVIDER_NOT_FOUND")


class TestCallbackWithoutReturnTo:
    async def test_creates_a_verified_account_and_answers_tokens(self, api, oidc, auth_header) -> None:
        oidc.add_user("g-1", "Grace@Example.com", given_name="Grace", family_name="Hopper")
        response = await _sign_in(api, "g-1")
        assert response.status_code == 200, response.text
        body = response.json()
        user = body["user"]
        assert (user["email"], user["first_name"], user["last_name"]) == ("grace@example.com", "Grace", "Hopper")
        assert (user["is_verified"], user["has_password"]) == (True, False)
        assert response.cookies.get("atelier_refresh") == body["refresh"]
        assert (await api.client.get("/api/v1/users/me", headers=auth_header(body["access"]))).status_code == 200

    async def test_the_same_provider_identity_signs_in_to_the_same_account(self, api, oidc) -> None:
        oidc.add_user("g-1", "grace@example.com")
        first = (await _sign_in(api, "g-1")).json()["user"]["id"]
        oidc.users["g-1"]["email"] = "grace.hopper@example.com"  # the address changed at the provider
        assert (await _sign_in(api, "g-1")).json()["user"]["id"] == first

    async def test_an_existing_account_is_linked_by_its_verified_email(self, api, oidc) -> None:
        existing = await api.verified_user("grace@example.com")
        oidc.add_user("g-1", "grace@example.com")
        assert (await _sign_in(api, "g-1")).json()["user"]["id"] == existing["id"]
        assert (await api.login("grace@example.com")).status_code == 200  # the password still works

    async def test_an_unverified_provider_email_neither_links_nor_creates(self, api, oidc, expect_error) -> None:
        await api.verified_user("grace@example.com")
        oidc.add_user("g-1", "grace@example.com", email_verified=False)
        expect_error(await _sign_in(api, "g-1"), 400, "OAUTH_EMAIL_NOT_VERIFIED")

    async def test_the_state_works_once(self, api, oidc, expect_error) -> None:
        oidc.add_user("g-1", "grace@example.com")
        started = (await _start(api)).json()
        callback = await _consent(started["auth_url"], "g-1")
        assert (await api.client.get(callback)).status_code == 200
        expect_error(await api.client.get(callback), 400, "INVALID_TOKEN")

    async def test_an_expired_state_is_400(self, start_identity, oauth_settings, oidc, expect_error) -> None:
        async with start_identity(**oauth_settings, oauth_state_ttl_seconds=0) as api:
            oidc.add_user("g-1", "grace@example.com")
            expect_error(await _sign_in(api, "g-1"), 400, "INVALID_TOKEN")

    async def test_a_forged_state_is_400(self, api, oidc, expect_error) -> None:
        expect_error(await api.client.get(CALLBACK, params={"code": "c", "state": "forged"}), 400, "INVALID_TOKEN")

    async def test_the_code_is_exchanged_with_the_pkce_verifier(self, api, oidc) -> None:
        oidc.add_user("g-1", "grace@example.com")
        assert (await _sign_in(api, "g-1")).status_code == 200
        [request] = oidc.token_requests
        assert request["code_verifier"] and len(request["code_verifier"]) >= 43

    @pytest.mark.parametrize("flaw", ["wrong_nonce", "wrong_audience", "foreign_key"])
    async def test_an_id_token_that_does_not_check_out_is_refused(self, api, oidc, expect_error, flaw: str) -> None:
        oidc.add_user("g-1", "grace@example.com")
        oidc.misbehave.add(flaw)
        expect_error(await _sign_in(api, "g-1"), 400, "OAUTH_FAILED")

    async def test_a_refusal_at_the_provider_is_400(self, api, oidc, expect_error) -> None:
        started = (await _start(api)).json()
        expect_error(await api.client.get(await _consent(started["auth_url"], deny=True)), 400, "OAUTH_FAILED")

    async def test_a_refused_sign_in_still_spends_its_state(self, api, oidc, expect_error) -> None:
        started = (await _start(api)).json()
        refused = await _consent(started["auth_url"], deny=True)
        expect_error(await api.client.get(refused), 400, "OAUTH_FAILED")
        # The refusal was answered as an error, yet the state is gone: replaying it proves nothing.
        expect_error(await api.client.get(refused), 400, "INVALID_TOKEN")

    async def test_an_anon_token_is_claimed(self, api, oidc, harness, test_keys: TestKeys) -> None:
        oidc.add_user("g-1", "grace@example.com")
        anon_id = uuid.uuid4()
        user = (await _sign_in(api, "g-1", headers=test_keys.anon_headers(anon_id))).json()["user"]
        await harness.drain()
        [claimed] = harness.published("identity.anonymous_claimed")
        assert claimed.data == {"anon_id": str(anon_id), "user_id": user["id"]}


class TestCallbackWithReturnTo:
    async def test_redirects_to_return_to_with_a_ticket(self, api, oidc) -> None:
        oidc.add_user("g-1", "grace@example.com")
        response = await _sign_in(api, "g-1", return_to="/auth/callback")
        assert response.headers["location"].startswith("http://localhost:3000/auth/callback?ticket=")
        assert "set-cookie" not in response.headers  # the session is made at the exchange

    async def test_the_ticket_is_exchanged_once_for_an_access_token_and_the_refresh_cookie(
            self, api, oidc, auth_header, expect_error) -> None:
        oidc.add_user("g-1", "grace@example.com")
        ticket = _query(await _sign_in(api, "g-1", return_to="/auth/callback"))["ticket"]
        response = await api.client.post("/api/v1/auth/oauth/exchange", json={"ticket": ticket})
        assert response.status_code == 200, response.text
        body = response.json()
        assert set(body) == {"access", "token_type", "expires_in", "user"}  # the refresh token only in the cookie
        cookie = response.headers["set-cookie"]
        assert cookie.startswith("atelier_refresh=") and "HttpOnly" in cookie
        assert (await api.client.get("/api/v1/users/me", headers=auth_header(body["access"]))).json()["email"] == (
            "grace@example.com")
        assert (await api.client.post("/api/v1/auth/refresh")).status_code == 200  # the cookie refreshes
        expect_error(await api.client.post("/api/v1/auth/oauth/exchange", json={"ticket": ticket}), 400,
                     "INVALID_TOKEN")

    async def test_an_expired_ticket_is_400(self, start_identity, oauth_settings, oidc, expect_error) -> None:
        async with start_identity(**oauth_settings, oauth_ticket_ttl_seconds=0) as api:
            oidc.add_user("g-1", "grace@example.com")
            ticket = _query(await _sign_in(api, "g-1", return_to="/auth/callback"))["ticket"]
            expect_error(await api.client.post("/api/v1/auth/oauth/exchange", json={"ticket": ticket}), 400,
                         "INVALID_TOKEN")

    async def test_failures_go_back_to_the_frontend_with_an_error(self, api, oidc) -> None:
        oidc.add_user("g-1", "grace@example.com", email_verified=False)
        query = _query(await _sign_in(api, "g-1", return_to="http://localhost:3000/auth/callback"))
        assert query == {"error": "oauth_email_not_verified"}

    async def test_an_unknown_ticket_is_400(self, api, expect_error) -> None:
        expect_error(await api.client.post("/api/v1/auth/oauth/exchange", json={"ticket": "nothing"}), 400,
                     "INVALID_TOKEN")
