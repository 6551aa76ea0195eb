"""Password reset (no enumeration, single use, every session ends) and password change."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import jwt
import pytest
from sqlmodel import select

from atelier_identity.models import EmailToken, User

NEW_PASSWORD = "a brand new secret"
HERE, THERE = {"X-Forwarded-For": "203.0.113.7"}, {"X-Forwarded-For": "198.51.100.1"}


def _claims(token: str) -> dict:
    return jwt.decode(token, options={"verify_signature": False})


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

    async def test_changes_the_password_and_hands_back_a_pair_of_the_same_session(self, api, session,
                                                                                  harness) -> None:
        await harness.drain()
        response = await self._change(api, session, api.password)
        assert response.status_code == 200, response.text
        body = response.json()
        assert {"access", "refresh", "token_type", "expires_in", "message"} <= set(body)
        assert (await api.login(password=NEW_PASSWORD)).status_code == 200
        assert (await api.login()).status_code == 401
        # The pair handed back belongs to the caller's session (its `sid`), and works.
        assert _claims(body["access"])["sid"] == _claims(session["access"])["sid"]
        assert (await api.client.post("/api/v1/auth/refresh", json={"refresh": body["refresh"]})).status_code == 200

    @pytest.mark.databases("sqlite", "postgres", why="the revocation's UPDATE and the session's read by timestamps "
                           "(SQLite compares them as text)")
    async def test_every_other_session_ends_and_the_callers_goes_on(self, api, session, harness,
                                                                    auth_header, expect_error) -> None:
        """Saleor, Shopify and GitHub do so: a client that keeps the tokens it holds (Marbelle's
        frontend ignores the new pair) stays signed in; every other device is signed out."""
        other = (await api.login()).json()
        mine, theirs = _claims(session["access"])["sid"], _claims(other["access"])["sid"]
        assert mine and theirs and mine != theirs  # one session per sign-in: its refresh token family
        await harness.drain()
        assert (await self._change(api, session, api.password)).status_code == 200
        await harness.drain()  # identity.token_revoked, heard by identity's own denylist
        [revoked] = harness.published("identity.token_revoked")
        assert revoked.data["keep_session"] == mine
        assert _claims(other["access"])["iat"] <= datetime.fromisoformat(revoked.data["all_before"]).timestamp()
        # The other session: its access token refused, its refresh token revoked at once.
        expect_error(await api.client.get("/api/v1/users/me", headers=auth_header(other["access"])),
                     401, "INVALID_TOKEN")
        expect_error(await api.client.post("/api/v1/auth/refresh", json={"refresh": other["refresh"]}),
                     401, "INVALID_TOKEN")
        # The caller's: the tokens it held before keep working.
        assert (await api.client.get("/api/v1/users/me", headers=auth_header(session["access"]))).status_code == 200
        refreshed = await api.client.post("/api/v1/auth/refresh", json={"refresh": session["refresh"]})
        assert refreshed.status_code == 200, refreshed.text
        assert _claims(refreshed.json()["access"])["sid"] == mine

    async def test_a_token_naming_no_session_ends_every_session(self, api, session, harness, auth_header,
                                                                expect_error) -> None:
        """A token signed before access tokens named their session (no `sid`): all of them end, as
        they did then, and the caller carries on with the new pair."""
        async with api.h.runtime.db.read_only() as s:
            user = (await s.exec(select(User))).one()
        legacy = api.h.runtime.context.signer.sign(user, datetime.now(UTC)).token
        assert "sid" not in _claims(legacy)
        await harness.drain()
        response = await self._change(api, {"access": legacy}, api.password)
        assert response.status_code == 200, response.text
        await harness.drain()
        [revoked] = harness.published("identity.token_revoked")
        assert revoked.data["keep_session"] is None
        expect_error(await api.client.post("/api/v1/auth/refresh", json={"refresh": session["refresh"]}),
                     401, "INVALID_TOKEN")
        expect_error(await api.client.get("/api/v1/users/me", headers=auth_header(legacy)), 401, "INVALID_TOKEN")
        assert (await api.client.get("/api/v1/users/me",
                                     headers=auth_header(response.json()["access"]))).status_code == 200

    async def test_a_session_that_ended_is_not_kept(self, api, session, expect_error) -> None:
        """A session ended while its access token still lives (here a replayed refresh token revoked
        its family): a password change made with that token ends every session and starts a new one,
        never reviving the one that ended."""
        rotated = (await api.client.post("/api/v1/auth/refresh", json={"refresh": session["refresh"]})).json()
        expect_error(await api.client.post("/api/v1/auth/refresh", json={"refresh": session["refresh"]}),
                     401, "INVALID_TOKEN")
        response = await self._change(api, session, api.password)
        assert response.status_code == 200, response.text
        assert _claims(response.json()["access"])["sid"] != _claims(session["access"])["sid"]
        expect_error(await api.client.post("/api/v1/auth/refresh", json={"refresh": rotated["refresh"]}),
                     401, "INVALID_TOKEN")
        assert (await api.client.post("/api/v1/auth/refresh",
                                      json={"refresh": response.json()["refresh"]})).status_code == 200

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


class TestParallelReauthentications:
    """The current password is verified before the request's transaction begins (docs/security.md): on
    SQLite that transaction holds the one write lock, and slow verifications (Argon2 queued on a busy
    CPU) held it in turn until the last requests failed with "database is locked": 500s."""

    ROUTES = {
        "change-password": ("POST", "/api/v1/auth/change-password", {
            "current_password": "wrong password", "new_password": NEW_PASSWORD, "new_password_confirm": NEW_PASSWORD}),
        "email-change": ("POST", "/api/v1/auth/email-change", {
            "current_password": "wrong password", "new_email": "ada.new@example.com"}),
        "delete-account": ("DELETE", "/api/v1/users/me", {"password": "wrong password"}),
    }

    @pytest.mark.databases("sqlite", "postgres", why="parallel requests against the database's locks")
    @pytest.mark.parametrize("route", list(ROUTES))
    async def test_thirty_wrong_passwords_at_once_while_each_check_is_slow_are_all_refused_cleanly(
            self, api, monkeypatch, route: str) -> None:
        session = await api.signed_in()
        # In turn, thirty of these outlast SQLite's busy timeout (30 s); side by side, two seconds.
        api.slow_password_checks(monkeypatch, 1.5)
        method, path, body = self.ROUTES[route]
        headers = {"Authorization": f"Bearer {session['access']}"}
        answers = await asyncio.gather(*(api.client.request(
            method, path, json=body, headers={**headers, "X-Forwarded-For": f"198.51.100.{n}"}) for n in range(30)))
        assert [r.status_code for r in answers] == [400] * 30, [r.text for r in answers if r.status_code != 400]
        monkeypatch.undo()  # checks at full speed again
        assert (await api.login()).status_code == 200  # nothing changed
