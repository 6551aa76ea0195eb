"""Passkeys (S2) driven by a software authenticator: real attestations and assertions, verified by py_webauthn."""

from __future__ import annotations

import base64
import uuid
from typing import Any

import httpx
import pytest

from atelier_testing import TestKeys

BASE = "/api/v1/auth/passkeys"


def bearer(session: dict[str, Any]) -> dict[str, str]:
    return {"Authorization": f"Bearer {session['access']}"}


async def _register(api, session: dict[str, Any], authenticator: Any, name: str = "My laptop") -> dict[str, Any]:
    begun = await api.client.post(f"{BASE}/register/begin", json={"name": name}, headers=bearer(session))
    assert begun.status_code == 200, begun.text
    options = begun.json()
    response = await api.client.post(f"{BASE}/register/complete", headers=bearer(session), json={
        "registration_id": options["registration_id"], "credential": authenticator.create(options)})
    assert response.status_code == 201, response.text
    return response.json()


class TestRegister:
    async def test_begin_answers_creation_options_and_a_registration_id(self, api) -> None:
        session = await api.signed_in()
        options = (await api.client.post(f"{BASE}/register/begin", headers=bearer(session))).json()
        assert options["registration_id"]
        assert options["rp"] == {"id": "localhost", "name": "Atelier"}
        assert options["user"]["name"] == "ada@example.com"
        assert options["challenge"] and options["attestation"] == "none"
        assert {"type": "public-key", "alg": -7} in options["pubKeyCredParams"]

    async def test_complete_verifies_the_attestation_and_stores_the_passkey(self, api, authenticator) -> None:
        session = await api.signed_in()
        registered = await _register(api, session, authenticator, "Work key")
        assert (registered["message"], registered["device_name"]) == ("Passkey registered successfully", "Work key")
        listed = (await api.client.get(BASE, headers=bearer(session))).json()
        assert listed["count"] == 1 and listed["results"][0]["id"] == registered["passkey"]["id"]
        assert set(listed["results"][0]) == {"id", "name", "aaguid", "created_at", "last_used_at"}

    async def test_the_registration_id_works_once(self, api, authenticator, expect_error) -> None:
        session = await api.signed_in()
        options = (await api.client.post(f"{BASE}/register/begin", headers=bearer(session))).json()
        body = {"registration_id": options["registration_id"], "credential": authenticator.create(options)}
        first = await api.client.post(f"{BASE}/register/complete", json=body, headers=bearer(session))
        assert first.status_code == 201
        expect_error(await api.client.post(f"{BASE}/register/complete", json=body, headers=bearer(session)), 400,
                     "INVALID_TOKEN")

    async def test_an_expired_registration_is_400(self, start_identity, authenticator, expect_error) -> None:
        async with start_identity(webauthn_timeout_seconds=0) as api:
            session = await api.signed_in()
            options = (await api.client.post(f"{BASE}/register/begin", headers=bearer(session))).json()
            response = await api.client.post(f"{BASE}/register/complete", headers=bearer(session), json={
                "registration_id": options["registration_id"], "credential": authenticator.create(options)})
            expect_error(response, 400, "INVALID_TOKEN")

    async def test_another_users_registration_id_is_400(self, api, authenticator, expect_error) -> None:
        ada, bob = await api.signed_in("ada@example.com"), await api.signed_in("bob@example.com")
        options = (await api.client.post(f"{BASE}/register/begin", headers=bearer(ada))).json()
        response = await api.client.post(f"{BASE}/register/complete", headers=bearer(bob), json={
            "registration_id": options["registration_id"], "credential": authenticator.create(options)})
        expect_error(response, 400, "INVALID_TOKEN")

    async def test_a_response_for_another_origin_is_refused(self, api, authenticator, expect_error) -> None:
        session = await api.signed_in()
        options = (await api.client.post(f"{BASE}/register/begin", headers=bearer(session))).json()
        response = await api.client.post(f"{BASE}/register/complete", headers=bearer(session), json={
            "registration_id": options["registration_id"],
            "credential": authenticator.create(options, origin="https://phishing.example")})
        expect_error(response, 400, "PASSKEY_INVALID")

    async def test_s2s_flat_credential_format_is_accepted(self, api, authenticator) -> None:
        session = await api.signed_in()
        options = (await api.client.post(f"{BASE}/register/begin", headers=bearer(session))).json()
        standard = authenticator.create(options)
        response = await api.client.post(f"{BASE}/register/complete", headers=bearer(session), json={
            "name": "Phone", "registration_id": options["registration_id"], "credential": {
                "clientDataJSON": standard["response"]["clientDataJSON"],
                "attestationObject": standard["response"]["attestationObject"]}})
        assert response.status_code == 201, response.text
        assert response.json()["device_name"] == "Phone"

    async def test_requires_an_access_token(self, api, expect_error) -> None:
        expect_error(await api.client.post(f"{BASE}/register/begin"), 401, "AUTHENTICATION_REQUIRED")


class TestLogin:
    async def test_a_registered_passkey_signs_in_as_its_user(self, api, authenticator, auth_header) -> None:
        session = await api.signed_in()
        await _register(api, session, authenticator)
        options = await api.passkey_login_begin()  # discoverable: no email
        response = await api.passkey_login_complete(options, authenticator.get(options))
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["user"]["id"] == session["user"]["id"]
        assert response.cookies.get("atelier_refresh") == body["refresh"]
        me = await api.client.get("/api/v1/users/me", headers=auth_header(body["access"]))
        assert me.json()["id"] == session["user"]["id"]

    async def test_with_an_email_only_its_passkeys_are_allowed(self, api, authenticator) -> None:
        session = await api.signed_in()
        registered = await _register(api, session, authenticator)
        options = await api.passkey_login_begin("ada@example.com")
        assert [c["type"] for c in options["allowCredentials"]] == ["public-key"]
        assert (await api.passkey_login_complete(options, authenticator.get(options))).status_code == 200
        passkey = (await api.client.get(BASE, headers=bearer(session))).json()["results"][0]
        assert passkey["id"] == registered["passkey"]["id"] and passkey["last_used_at"] is not None

    async def test_an_assertion_with_the_same_sign_count_is_refused(self, api, authenticator, expect_error) -> None:
        session = await api.signed_in()
        await _register(api, session, authenticator)
        first = await api.passkey_login_begin()
        assert (await api.passkey_login_complete(first, authenticator.get(first))).status_code == 200  # count 1
        replay = await api.passkey_login_begin()
        expect_error(await api.passkey_login_complete(replay, authenticator.get(replay, sign_count=1)), 400,
                     "PASSKEY_INVALID")
        lower = await api.passkey_login_begin()
        expect_error(await api.passkey_login_complete(lower, authenticator.get(lower, sign_count=0)), 400,
                     "PASSKEY_INVALID")
        later = await api.passkey_login_begin()
        assert (await api.passkey_login_complete(later, authenticator.get(later, sign_count=7))).status_code == 200

    async def test_the_same_assertion_replayed_is_refused(self, api, authenticator, expect_error) -> None:
        session = await api.signed_in()
        await _register(api, session, authenticator)
        options = await api.passkey_login_begin()
        assertion = authenticator.get(options)
        assert (await api.passkey_login_complete(options, assertion)).status_code == 200
        expect_error(await api.passkey_login_complete(options, assertion), 400, "INVALID_TOKEN")
        other = await api.passkey_login_begin()  # a fresh challenge: the old signature does not cover it
        expect_error(await api.passkey_login_complete(other, assertion), 400, "PASSKEY_INVALID")

    async def test_a_passkey_of_one_user_cannot_sign_in_as_another(self, api, new_authenticator,
                                                                   expect_error) -> None:
        ada, bob = await api.signed_in("ada@example.com"), await api.signed_in("bob@example.com")
        adas_key, bobs_key = new_authenticator(), new_authenticator()
        await _register(api, ada, adas_key)
        await _register(api, bob, bobs_key)
        options = await api.passkey_login_begin("bob@example.com")
        # Ada's key answers a sign-in begun for Bob (ignoring allowCredentials, as an attacker would).
        [adas_credential] = adas_key.credentials
        forged = adas_key.get(options, credential_id=base64.urlsafe_b64encode(adas_credential).rstrip(b"=").decode())
        expect_error(await api.passkey_login_complete(options, forged), 400, "PASSKEY_INVALID")
        # And a discoverable sign-in with Ada's key is Ada, never Bob.
        options = await api.passkey_login_begin()
        body = (await api.passkey_login_complete(options, adas_key.get(options))).json()
        assert body["user"]["id"] == ada["user"]["id"]

    async def test_a_failed_assertion_spends_the_authentication_id(self, api, authenticator, expect_error) -> None:
        session = await api.signed_in()
        await _register(api, session, authenticator)
        options = await api.passkey_login_begin()
        expect_error(await api.passkey_login_complete(options, authenticator.get(options, origin="https://evil.example")),
                     400, "PASSKEY_INVALID")
        expect_error(await api.passkey_login_complete(options, authenticator.get(options)), 400, "INVALID_TOKEN")

    async def test_an_unknown_credential_is_refused(self, api, new_authenticator, expect_error) -> None:
        stranger = new_authenticator()
        stranger.create({"rp": {"id": "localhost"}, "user": {"id": "AAAA"}, "challenge": "AAAA"})
        options = await api.passkey_login_begin()
        expect_error(await api.passkey_login_complete(options, stranger.get(options)), 400, "PASSKEY_INVALID")

    async def test_an_expired_authentication_is_400(self, start_identity, authenticator, expect_error) -> None:
        async with start_identity(webauthn_timeout_seconds=0) as api:
            options = await api.passkey_login_begin()
            expect_error(await api.passkey_login_complete(options, {"id": "x"}), 400, "INVALID_TOKEN")

    async def test_an_anon_token_is_claimed(self, api, authenticator, harness, test_keys: TestKeys) -> None:
        session = await api.signed_in()
        await _register(api, session, authenticator)
        await harness.drain()
        anon_id = uuid.uuid4()
        options = await api.passkey_login_begin()
        await api.passkey_login_complete(options, authenticator.get(options), test_keys.anon_headers(anon_id))
        await harness.drain()
        [claimed] = harness.published("identity.anonymous_claimed")
        assert claimed.data == {"anon_id": str(anon_id), "user_id": session["user"]["id"]}

    async def test_begin_for_an_account_is_limited_per_account_and_address(self, api, expect_error) -> None:
        """A requester elsewhere never keeps the owner from a challenge (docs/security.md)."""
        here, there = {"X-Forwarded-For": "203.0.113.7"}, {"X-Forwarded-For": "198.51.100.1"}

        async def begin(headers: dict[str, str]):
            return await api.client.post(f"{BASE}/login/begin", json={"email": "ada@example.com"}, headers=headers)

        for _ in range(5):
            assert (await begin(here)).status_code == 200
        expect_error(await begin(here), 429, "RATE_LIMITED")
        assert (await begin(there)).status_code == 200

    async def test_begin_is_rate_limited(self, start_identity, expect_error) -> None:
        async with start_identity(credential_rate_limit_per_ip="2/minute") as api:
            for _ in range(2):
                await api.client.post(f"{BASE}/login/begin")
            expect_error(await api.client.post(f"{BASE}/login/begin"), 429, "RATE_LIMITED")


class TestSignup:
    async def _signup(self, api, authenticator, email: str = "new@example.com",
                      headers: dict[str, str] | None = None):
        begun = await api.client.post(f"{BASE}/signup/begin", headers=headers, json={
            "email": email, "first_name": "Nova", "last_name": "Key"})
        assert begun.status_code == 200, begun.text
        options = begun.json()
        return await api.client.post(f"{BASE}/signup/complete", headers=headers, json={
            "registration_id": options["registration_id"], "credential": authenticator.create(options)})

    async def test_creates_an_email_only_account_with_a_passkey(self, api, authenticator) -> None:
        response = await self._signup(api, authenticator, "New@Example.com")
        assert response.status_code == 201, response.text
        body = response.json()
        assert (body["user"]["email"], body["user"]["has_password"], body["user"]["is_verified"]) == (
            "new@example.com", False, False)
        assert body["device_name"] == "Unnamed Device"
        assert "access" not in body  # verification is required first, like a registration
        [mail] = await api.wait_for_mail("new@example.com")
        assert mail["subject"] == "Confirm your email address"

    async def test_after_verification_the_passkey_signs_in(self, api, authenticator, expect_error) -> None:
        user = (await self._signup(api, authenticator)).json()["user"]
        options = await api.passkey_login_begin()
        expect_error(await api.passkey_login_complete(options, authenticator.get(options)), 403, "EMAIL_NOT_VERIFIED")
        await api.client.post("/api/v1/auth/verify-email", json={"token": await api.mailed_token("new@example.com")})
        options = await api.passkey_login_begin("new@example.com")
        assert (await api.passkey_login_complete(options, authenticator.get(options))).json()["user"]["id"] == user["id"]

    async def test_answers_tokens_when_verification_is_not_required(self, start_identity, authenticator) -> None:
        async with start_identity(require_verified_email=False) as api:
            body = (await self._signup(api, authenticator)).json()
            assert {"access", "refresh", "user"} <= set(body)

    async def test_an_email_of_an_oauth_account_is_refused(self, start_identity, oauth_settings, oidc,
                                                           authenticator, expect_error) -> None:
        async with start_identity(**oauth_settings) as api:
            oidc.add_user("g-1", "grace@example.com")
            started = (await api.client.post("/api/v1/auth/oauth/google/start")).json()
            async with httpx.AsyncClient() as browser:
                location = (await browser.get(started["auth_url"] + "&user=g-1")).headers["location"]
            assert (await api.client.get(location.replace("http://localhost:8000", ""))).status_code == 200
            response = await api.client.post(f"{BASE}/signup/begin", json={"email": "grace@example.com"})
            expect_error(response, 400, "OAUTH_USER_EXISTS")

    async def test_an_email_with_an_account_is_409(self, api, authenticator, expect_error) -> None:
        await api.register("taken@example.com")
        expect_error(await api.client.post(f"{BASE}/signup/begin", json={"email": "taken@example.com"}), 409,
                     "EMAIL_EXISTS")

    async def test_the_registration_id_works_once(self, api, authenticator, expect_error) -> None:
        begun = (await api.client.post(f"{BASE}/signup/begin", json={"email": "new@example.com"})).json()
        body = {"registration_id": begun["registration_id"], "credential": authenticator.create(begun)}
        assert (await api.client.post(f"{BASE}/signup/complete", json=body)).status_code == 201
        expect_error(await api.client.post(f"{BASE}/signup/complete", json=body), 400, "INVALID_TOKEN")

    async def test_an_anon_token_is_claimed(self, api, authenticator, harness, test_keys: TestKeys) -> None:
        anon_id = uuid.uuid4()
        body = (await self._signup(api, authenticator, headers=test_keys.anon_headers(anon_id))).json()
        await harness.drain()
        [claimed] = harness.published("identity.anonymous_claimed")
        assert claimed.data == {"anon_id": str(anon_id), "user_id": body["user"]["id"]}


class TestListAndDelete:
    async def test_a_user_removes_a_passkey_which_then_no_longer_signs_in(self, api, authenticator,
                                                                         expect_error) -> None:
        session = await api.signed_in()
        registered = await _register(api, session, authenticator)
        response = await api.client.delete(f"{BASE}/{registered['passkey']['id']}", headers=bearer(session))
        assert response.status_code == 204
        assert (await api.client.get(BASE, headers=bearer(session))).json()["count"] == 0
        options = await api.passkey_login_begin()
        expect_error(await api.passkey_login_complete(options, authenticator.get(options)), 400, "PASSKEY_INVALID")

    async def test_another_users_passkey_is_404(self, api, authenticator, expect_error) -> None:
        ada, bob = await api.signed_in("ada@example.com"), await api.signed_in("bob@example.com")
        registered = await _register(api, ada, authenticator)
        expect_error(await api.client.delete(f"{BASE}/{registered['passkey']['id']}", headers=bearer(bob)), 404,
                     "PASSKEY_NOT_FOUND")
        assert (await api.client.get(BASE, headers=bearer(ada))).json()["count"] == 1

    @pytest.mark.parametrize("method", ["GET"])
    async def test_listing_requires_an_access_token(self, api, expect_error, method: str) -> None:
        expect_error(await api.client.request(method, BASE), 401, "AUTHENTICATION_REQUIRED")
