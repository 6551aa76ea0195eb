"""Password reset (no enumeration, single use, every session ends) and password change."""

from __future__ import annotations

from datetime import UTC, datetime

import jwt
import pytest
from sqlmodel import select

from atelier_identity.models import EmailToken

NEW_PASSWORD = "a brand new secret"
HERE, THERE = {"X-Forwarded-For": "203.0.113.7"}, {"X-Forwarded-For": "198.51.100.1"}


async def _request_reset(api, email: str = "ada@example.com", **headers: str):
    return await api.client.post("/api/v1/auth/password-reset", json={"email": email}, headers=headers)


async def _confirm(api, token: str, password: str = NEW_PASSWORD, confirm: str | None = None):
    return await api.client.post("/api/v1/auth/password-reset/confirm", json={
        "token": token, "new_password": password, "new_password_confirm": confirm or password})


async def _reset_token(api, email: str = "ada@example.com") -> str:
    before = await api.mail_count(email)
    assert (await _request_reset(api, email)).status_code == 200
    mails = await api.wait_for_mail(email, before + 1)
    assert mails[0]["subject"] == "Reset your password"
    return await api.mailed_token(email, before + 1)


class TestPasswordResetRequest:
    async def test_known_and_unknown_addresses_get_the_same_answer(self, api) -> None:
        await api.verified_user()
        known, unknown = await _request_reset(api), await _request_reset(api, "nobody@example.com")
        assert (known.status_code, known.json()) == (unknown.status_code, unknown.json()) == (200, known.json())
        assert await api.mail_count("nobody@example.com") == 0
        assert next(m["subject"] for m in await api.wait_for_mail("ada@example.com", 2)) == "Reset your password"

    async def test_the_mail_carries_a_reset_link(self, api) -> None:
        await api.verified_user()
        await _request_reset(api)
        [reset, _verification] = await api.wait_for_mail("ada@example.com", 2)
        assert "/reset-password?token=" in reset["text"] and "token=" in reset["html"]

    async def test_the_fourth_request_for_one_address_within_a_minute_is_429(self, api, expect_error) -> None:
        for _ in range(3):
            assert (await _request_reset(api, "someone@example.com")).status_code == 200
        expect_error(await _request_reset(api, "SomeOne@example.com"), 429, "RATE_LIMITED")

    async def test_requests_from_elsewhere_never_keep_the_owner_from_the_mail(self, api, expect_error) -> None:
        """Counted per (account, client address) (docs/security.md): the owner's budget is their own."""
        await api.verified_user()
        for _ in range(3):
            assert (await _request_reset(api, **HERE)).status_code == 200
        expect_error(await _request_reset(api, **HERE), 429, "RATE_LIMITED")
        assert (await _request_reset(api, **THERE)).status_code == 200
        assert (await _confirm(api, await api.mailed_token("ada@example.com", 5))).status_code == 200

    async def test_reset_and_magic_link_mail_share_the_accounts_ceiling(self, start_identity) -> None:
        async with start_identity(sign_in_mail_per_account="3/hour",
                                  sign_in_mail_reserve_per_account_and_ip="1/hour") as api:
            await api.verified_user()  # the verification mail is not counted
            await api.client.post("/api/v1/auth/magic-link", json={"email": "ada@example.com"}, headers=HERE)
            for _ in range(3):  # two under the ceiling, one from the address's reserve
                assert (await _request_reset(api, **HERE)).status_code == 200
            assert (await _request_reset(api, **THERE)).status_code == 200  # THERE's reserve
            assert len(await api.mailbox_after_delivery("ada@example.com")) == 6
            # Past the ceiling and the reserves: answered alike, nothing mailed.
            for headers in (HERE, THERE):
                assert (await api.client.post("/api/v1/auth/magic-link", json={"email": "ada@example.com"},
                                              headers=headers)).status_code == 200
            assert (await _request_reset(api, **THERE)).status_code == 200
            assert len(await api.mailbox_after_delivery("ada@example.com")) == 6

    async def test_an_invalid_email_is_a_validation_error(self, api, expect_error) -> None:
        expect_error(await _request_reset(api, "not an email"), 400, "VALIDATION_ERROR")


class TestPasswordResetConfirm:
    async def test_sets_the_new_password(self, api) -> None:
        await api.verified_user()
        response = await _confirm(api, await _reset_token(api))
        assert response.status_code == 200, response.text
        assert (await api.login(password=NEW_PASSWORD)).status_code == 200
        assert (await api.login()).status_code == 401

    async def test_the_token_works_once(self, api, expect_error) -> None:
        await api.verified_user()
        token = await _reset_token(api)
        assert (await _confirm(api, token)).status_code == 200
        expect_error(await _confirm(api, token, "yet another secret"), 400, "INVALID_TOKEN")
        assert (await api.login(password=NEW_PASSWORD)).status_code == 200

    async def test_using_one_link_voids_the_others(self, api, expect_error) -> None:
        await api.verified_user()
        first, second = await _reset_token(api), await _reset_token(api)
        assert (await _confirm(api, second)).status_code == 200
        expect_error(await _confirm(api, first), 400, "INVALID_TOKEN")

    async def test_an_expired_token_is_400(self, start_identity, expect_error) -> None:
        async with start_identity(password_reset_ttl_minutes=0) as api:
            await api.verified_user()
            expect_error(await _confirm(api, await _reset_token(api)), 400, "INVALID_TOKEN")

    async def test_an_unknown_token_is_400(self, api, expect_error) -> None:
        expect_error(await _confirm(api, "x" * 43), 400, "INVALID_TOKEN")

    async def test_a_verification_token_is_not_a_reset_token(self, api, expect_error) -> None:
        await api.register()
        expect_error(await _confirm(api, await api.mailed_token("ada@example.com")), 400, "INVALID_TOKEN")

    async def test_a_weak_password_is_refused_and_the_token_stays_usable(self, api, expect_error) -> None:
        await api.verified_user()
        token = await _reset_token(api)
        details = expect_error(await _confirm(api, token, "12345678901"), 400, "VALIDATION_ERROR")
        assert "password" in details["fields"]
        assert (await _confirm(api, token)).status_code == 200

    async def test_mismatched_confirmation_is_a_validation_error(self, api, expect_error) -> None:
        details = expect_error(await _confirm(api, "t", NEW_PASSWORD, "something else"), 400, "VALIDATION_ERROR")
        assert "new_password_confirm" in details["fields"]

    async def test_s1_field_names_are_accepted(self, api) -> None:
        await api.verified_user()
        response = await api.client.post("/api/v1/auth/password-reset/confirm", json={
            "token": await _reset_token(api), "password": NEW_PASSWORD, "password_confirm": NEW_PASSWORD})
        assert response.status_code == 200, response.text

    async def test_every_session_ends(self, api, harness, expect_error) -> None:
        session = await api.signed_in()
        await harness.drain()
        before = datetime.now(UTC)
        assert (await _confirm(api, await _reset_token(api))).status_code == 200
        expect_error(await api.client.post("/api/v1/auth/refresh", json={"refresh": session["refresh"]}), 401,
                     "INVALID_TOKEN")
        await harness.drain()
        [revoked] = harness.published("identity.token_revoked")
        assert revoked.data["user_id"] == session["user"]["id"]
        all_before = datetime.fromisoformat(revoked.data["all_before"])
        assert all_before >= before
        assert jwt.decode(session["access"], options={"verify_signature": False})["iat"] <= all_before.timestamp()
        # A sign-in right after is not caught by the revocation (its iat is later).
        fresh = (await api.login(password=NEW_PASSWORD)).json()["access"]
        assert jwt.decode(fresh, options={"verify_signature": False})["iat"] > all_before.timestamp()

    async def test_an_unverified_account_is_verified_by_the_reset_link(self, api) -> None:
        await api.register()
        assert (await _confirm(api, await _reset_token(api))).status_code == 200
        assert (await api.login(password=NEW_PASSWORD)).json()["user"]["is_verified"] is True


class TestChangePassword:
    @pytest.fixture
    async def session(self, api) -> dict:
        return await api.signed_in()

    async def _change(self, api, session: dict, current: str, new: str = NEW_PASSWORD, *,
                      headers: dict[str, str] | None = None):
        return await api.client.post("/api/v1/auth/change-password", headers={
            "Authorization": f"Bearer {session['access']}", **(headers or {})}, json={
            "current_password": current, "new_password": new, "new_password_confirm": new})

    async def test_changes_the_password_and_hands_back_a_new_session(self, api, session, harness) -> None:
        await harness.drain()
        response = await self._change(api, session, api.password)
        assert response.status_code == 200, response.text
        body = response.json()
        assert {"access", "refresh", "token_type", "expires_in", "message"} <= set(body)
        assert (await api.login(password=NEW_PASSWORD)).status_code == 200
        assert (await api.login()).status_code == 401
        # Every earlier session ends; the one handed back works.
        old = await api.client.post("/api/v1/auth/refresh", json={"refresh": session["refresh"]})
        assert old.status_code == 401
        assert (await api.client.post("/api/v1/auth/refresh", json={"refresh": body["refresh"]})).status_code == 200
        await harness.drain()
        [revoked] = harness.published("identity.token_revoked")
        all_before = datetime.fromisoformat(revoked.data["all_before"]).timestamp()
        assert jwt.decode(session["access"], options={"verify_signature": False})["iat"] <= all_before
        assert jwt.decode(body["access"], options={"verify_signature": False})["iat"] > all_before

    async def test_a_wrong_current_password_is_400_and_changes_nothing(self, api, session, expect_error) -> None:
        expect_error(await self._change(api, session, "wrong password"), 400, "INVALID_PASSWORD")
        assert (await api.login()).status_code == 200

    async def test_the_policy_applies(self, api, session, expect_error) -> None:
        expect_error(await self._change(api, session, api.password, "ada@example.com"), 400, "VALIDATION_ERROR")

    async def test_requires_an_access_token(self, api, expect_error) -> None:
        response = await api.client.post("/api/v1/auth/change-password", json={
            "current_password": "a", "new_password": NEW_PASSWORD, "new_password_confirm": NEW_PASSWORD})
        expect_error(response, 401, "AUTHENTICATION_REQUIRED")

    async def test_guessing_the_current_password_is_throttled_like_a_sign_in(self, api, session,
                                                                               expect_error) -> None:
        """docs/security.md: one budget of failures per (account, client address), whichever check
        of the password the guesses use; the account's owner elsewhere is not held back."""
        here, there = {"X-Forwarded-For": "203.0.113.7"}, {"X-Forwarded-For": "198.51.100.1"}
        for _ in range(5):
            expect_error(await api.login(password="wrong password", headers=here), 401, "INVALID_CREDENTIALS")
        for _ in range(5):
            expect_error(await self._change(api, session, "wrong password", headers=here), 400, "INVALID_PASSWORD")
        expect_error(await self._change(api, session, api.password, headers=here), 429, "RATE_LIMITED")
        expect_error(await api.login(headers=here), 429, "RATE_LIMITED")
        assert (await api.login(headers=there)).status_code == 200
        assert (await self._change(api, session, api.password, headers=there)).status_code == 200


class TestTokensAreStoredHashed:
    async def test_no_reset_token_is_stored_in_clear(self, api) -> None:
        await api.verified_user()
        token = await _reset_token(api)
        async with api.h.runtime.db.read_only() as s:
            stored = [t.token_hash for t in (await s.exec(select(EmailToken))).all()]
        assert token not in stored and all(len(h) == 64 for h in stored)
