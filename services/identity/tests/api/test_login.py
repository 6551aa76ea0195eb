"""POST /api/v1/auth/login."""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta

import jwt
import pytest
from sqlmodel import select

from atelier_common.keys import ALGORITHM, SigningKey
from atelier_identity.models import RefreshToken, User
from atelier_identity.security import PasswordHasher
from atelier_identity.service import create_user
from atelier_testing import TestKeys, poll_until


class TestLogin:
    async def test_answers_tokens_and_the_user(self, api) -> None:
        user = await api.verified_user()
        response = await api.login("ADA@example.com")
        assert response.status_code == 200, response.text
        body = response.json()
        assert set(body) == {"access", "refresh", "token_type", "expires_in", "user"}
        assert (body["token_type"], body["expires_in"]) == ("Bearer", 900)
        assert body["user"]["id"] == user["id"]
        assert body["refresh"] and body["refresh"] != body["access"]

    async def test_sets_the_refresh_cookie_httponly_and_lax(self, api) -> None:
        await api.verified_user()
        response = await api.login()
        cookie = response.headers["set-cookie"]
        assert cookie.startswith(f"atelier_refresh={response.json()['refresh']};")
        assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Path=/api/v1/auth" in cookie
        assert "Secure" not in cookie  # the test environment; see test_cookies_are_secure_outside_dev_and_test

    async def test_cookies_are_secure_outside_dev_and_test(self, start_identity) -> None:
        key_pem = SigningKey.generate().pem().decode()
        async with start_identity(environment="production", signing_key_pem=key_pem,
                                  service_token="a-real-secret") as api:
            await api.verified_user()
            assert "Secure" in (await api.login()).headers["set-cookie"]

    async def test_the_access_token_is_an_eddsa_jwt_with_exactly_the_agreed_claims(self, api, harness) -> None:
        user = await api.verified_user()
        access = (await api.login()).json()["access"]
        header = jwt.get_unverified_header(access)
        key = harness.runtime.context.signing_key
        assert header["alg"] == ALGORITHM and header["kid"] == key.kid
        claims = jwt.decode(access, key.private_key.public_key(), algorithms=[ALGORITHM], audience="atelier",
                            issuer="atelier")
        assert set(claims) == {"iss", "aud", "iat", "exp", "jti", "sub", "typ", "roles", "email", "sid"}
        assert (claims["sub"], claims["typ"], claims["roles"], claims["email"]) == (
            user["id"], "access", ["customer"], "ada@example.com")
        # The session: the family of the refresh token issued with it (what a password change keeps).
        async with harness.runtime.db.read_only() as session:
            [refresh] = (await session.exec(select(RefreshToken))).all()
        assert claims["sid"] == str(refresh.family_id)
        assert claims["exp"] - int(claims["iat"]) == 15 * 60
        assert isinstance(claims["iat"], float)  # sub-second: compared with token_revoked.all_before

    async def test_the_email_may_be_sent_as_username(self, api) -> None:
        await api.verified_user()
        response = await api.client.post("/api/v1/auth/login",
                                          json={"username": "ada@example.com", "password": api.password})
        assert response.status_code == 200, response.text

    async def test_records_the_login_time(self, api) -> None:
        await api.verified_user()
        await api.login()
        async with api.h.runtime.db.read_only() as session:
            user = (await session.exec(select(User))).one()
        assert user.last_login_at is not None


    async def test_a_hash_with_outdated_parameters_is_upgraded_at_login(self, api) -> None:
        stronger = PasswordHasher(time_cost=2, memory_cost_kib=8, parallelism=1)
        await create_user(api.h.runtime.db, email="old@example.com", password=api.password, staff=False,
                          passwords=stronger)
        assert (await api.login("old@example.com")).status_code == 200
        async with api.h.runtime.db.read_only() as session:
            user = (await session.exec(select(User))).one()
        assert ",t=1," in user.password_hash  # the app's current parameters (tests use t=1)
        assert (await api.login("old@example.com")).status_code == 200


class TestLoginRefusals:
    async def test_a_wrong_password_is_401(self, api, expect_error) -> None:
        await api.verified_user()
        expect_error(await api.login(password="wrong password"), 401, "INVALID_CREDENTIALS")

    async def test_an_unknown_email_gets_the_same_answer_as_a_wrong_password(self, api) -> None:
        await api.verified_user()
        wrong = await api.login(password="wrong password")
        unknown = await api.login("nobody@example.com")
        assert (unknown.status_code, unknown.json()) == (wrong.status_code, wrong.json())

    async def test_an_unknown_email_still_costs_one_password_verification(self, api, monkeypatch) -> None:
        calls = api.spy_password_checks(monkeypatch)
        assert (await api.login("nobody@example.com")).status_code == 401
        assert len(calls) == 1 and calls[0].startswith("$argon2id$")

    async def test_an_unverified_account_is_403(self, api, expect_error) -> None:
        await api.register()
        expect_error(await api.login(), 403, "EMAIL_NOT_VERIFIED")

    async def test_an_unverified_account_with_a_wrong_password_learns_nothing_more(self, api, expect_error) -> None:
        await api.register()
        expect_error(await api.login(password="wrong password"), 401, "INVALID_CREDENTIALS")

    async def test_unverified_accounts_may_log_in_when_verification_is_not_required(self, start_identity) -> None:
        async with start_identity(require_verified_email=False) as api:
            await api.register()
            assert (await api.login()).status_code == 200

    @pytest.mark.parametrize("body", [{}, {"email": "ada@example.com"}, {"password": "x"},
                                      {"email": "ada@example.com", "password": 12345678}])
    async def test_malformed_requests_are_validation_errors(self, api, expect_error, body) -> None:
        expect_error(await api.client.post("/api/v1/auth/login", json=body), 400, "VALIDATION_ERROR")

    async def test_an_expired_bearer_token_does_not_get_in_the_way(self, api, test_keys: TestKeys,
                                                                   auth_header) -> None:
        await api.verified_user()
        stale = test_keys.access_token(ttl=-timedelta(minutes=1))
        assert (await api.login(headers=auth_header(stale))).status_code == 200


class TestLoginClaimsTheAnonymousIdentity:
    async def test_an_anon_token_publishes_anonymous_claimed(self, api, harness, test_keys: TestKeys) -> None:
        user = await api.verified_user()
        await harness.drain()
        anon_id = uuid.uuid4()
        assert (await api.login(headers=test_keys.anon_headers(anon_id))).status_code == 200
        await harness.drain()
        [event] = harness.published("identity.anonymous_claimed")
        assert event.data == {"anon_id": str(anon_id), "user_id": user["id"]}

    async def test_a_failed_login_claims_nothing(self, api, harness, test_keys: TestKeys) -> None:
        await api.verified_user()
        assert (await api.login(password="wrong password", headers=test_keys.anon_headers())).status_code == 401
        await harness.drain()
        assert harness.published("identity.anonymous_claimed") == []


HERE, THERE, ELSEWHERE = ({"X-Forwarded-For": ip} for ip in ("203.0.113.7", "198.51.100.1", "192.0.2.10"))


class TestSignInThrottling:
    """docs/security.md "Sign-in throttling": failures count, not successes; per (account, client
    address); the account-wide ceiling slows the addresses that failed, never the others."""

    async def test_successes_are_not_counted(self, api) -> None:
        await api.verified_user()
        for _ in range(15):
            assert (await api.login()).status_code == 200

    async def test_the_eleventh_attempt_after_ten_failures_from_one_address_waits(self, api, expect_error) -> None:
        await api.verified_user()
        for _ in range(10):
            expect_error(await api.login(password="wrong password", headers=HERE), 401, "INVALID_CREDENTIALS")
        limited = await api.login(headers=HERE)  # even with the right password, from there
        details = expect_error(limited, 429, "RATE_LIMITED")
        assert 1 <= int(limited.headers["retry-after"]) <= 15 * 60
        assert details["retry_after"] == int(limited.headers["retry-after"])

    async def test_the_owner_elsewhere_gets_in_every_time_while_an_address_guesses(self, api, expect_error) -> None:
        await api.verified_user()
        statuses = set()
        for _ in range(30):
            statuses.add((await api.login(password="wrong password", headers=HERE)).status_code)
            assert (await api.login(headers=THERE)).status_code == 200
        assert statuses == {401, 429}

    async def test_a_success_clears_the_failures_of_its_address(self, api) -> None:
        await api.verified_user()
        for _ in range(2):
            for _ in range(9):
                assert (await api.login(password="wrong password", headers=HERE)).status_code == 401
            assert (await api.login(headers=HERE)).status_code == 200

    @pytest.mark.databases("sqlite", "postgres", why="parallel requests against the database's locks")
    async def test_guesses_sent_at_once_do_not_all_get_through(self, api) -> None:
        await api.verified_user()
        guesses = await asyncio.gather(*(api.login(password="wrong password", headers=HERE) for _ in range(25)))
        assert sorted(r.status_code for r in guesses) == [401] * 10 + [429] * 15

    async def test_one_budget_per_account_whichever_login_name(self, api, expect_error) -> None:
        await api.verified_user(username="ada")
        for name in ("ada@example.com", "ADA", "Ada@Example.com", "ada", " ada ") * 2:
            assert (await api.login(name, password="wrong password", headers=HERE)).status_code == 401
        expect_error(await api.login("ada@example.com", headers=HERE), 429, "RATE_LIMITED")

    async def test_other_accounts_are_not_limited_by_one_account(self, api) -> None:
        await api.verified_user("bob@example.com")
        for _ in range(11):
            await api.login("ada@example.com", headers=HERE)
        assert (await api.login("bob@example.com", headers=HERE)).status_code == 200

    async def test_an_account_under_attack_slows_the_addresses_that_failed(self, start_identity,
                                                                           expect_error) -> None:
        async with start_identity(sign_in_failures_per_account="5/15 minutes") as api:
            await api.verified_user()
            for address in (HERE, HERE, THERE, THERE, THERE):  # the fifth failure puts the account over
                assert (await api.login(password="wrong password", headers=address)).status_code == 401
            # From now on each failure makes its address wait (its third: 4 s; 1 s, doubling).
            limited = await api.login(password="wrong password", headers=THERE)
            details = expect_error(limited, 429, "RATE_LIMITED")
            assert 1 <= details["retry_after"] == int(limited.headers["retry-after"]) <= 4
            assert (await api.login(password="wrong password", headers=HERE)).status_code == 401
            expect_error(await api.login(headers=HERE), 429, "RATE_LIMITED")  # the right password waits too
            # An address with no failure on the account is never held back.
            for _ in range(3):
                assert (await api.login(headers=ELSEWHERE)).status_code == 200

            async def served() -> bool:
                return (await api.login(headers=THERE)).status_code == 200

            # Slowed, not locked: after its back-off the address is served (and cleared by success).
            await poll_until(served, timeout=30, message="the address served after its back-off")

    async def test_one_address_is_limited_across_accounts(self, start_identity, expect_error) -> None:
        async with start_identity(sign_in_failures_per_ip="3/minute") as api:
            await api.verified_user()
            for _ in range(5):  # successes do not count
                assert (await api.login(headers=HERE)).status_code == 200
            for n in range(3):
                assert (await api.login(f"user{n}@example.com", headers=HERE)).status_code == 401
            expect_error(await api.login("user9@example.com", headers=HERE), 429, "RATE_LIMITED")
            assert (await api.login("user9@example.com", headers=THERE)).status_code == 401


class TestParallelSignIns:
    @pytest.mark.databases("sqlite", "postgres", why="parallel requests against the database's locks")
    async def test_a_hundred_at_once_while_each_password_check_is_slow_all_get_in(self, api, monkeypatch) -> None:
        """The password is verified outside the request's transaction: on SQLite that transaction
        holds the one write lock, and slow verifications (Argon2 queued on a busy CPU) held it in
        turn until the last sign-ins failed: 500s, "database is locked" or no pooled connection left."""
        await api.verified_user()
        api.slow_password_checks(monkeypatch, 0.5)
        owners = [api.login(headers={"X-Forwarded-For": f"198.51.100.{n}"}) for n in range(100)]
        guesses = [api.login(password="wrong password", headers=HERE) for _ in range(25)]
        answers = await asyncio.gather(*owners, *guesses)
        assert [r.status_code for r in answers[:100]] == [200] * 100
        # Attempts are still counted before the check: the guesses in flight use up their pair's budget.
        assert sorted(r.status_code for r in answers[100:]) == [401] * 10 + [429] * 15
        async with api.h.runtime.db.read_only() as session:
            assert len((await session.exec(select(RefreshToken))).all()) == 100


class TestLoginByUsername:
    """docs/api.md: login takes the email or the username (S4), on the same timing-safe path."""

    async def test_the_username_signs_in_whatever_its_case(self, api) -> None:
        await api.verified_user(username="Ada.L")
        for name in ("Ada.L", "ada.l", " ADA.L "):
            response = await api.client.post("/api/v1/auth/login", json={"username": name, "password": api.password})
            assert response.status_code == 200, response.text
            assert response.json()["user"]["email"] == "ada@example.com"

    async def test_a_wrong_password_or_unknown_username_is_the_same_401(self, api) -> None:
        await api.verified_user(username="ada")
        wrong = await api.client.post("/api/v1/auth/login", json={"email": "ada", "password": "wrong password"})
        unknown = await api.client.post("/api/v1/auth/login", json={"email": "nobody", "password": api.password})
        assert wrong.status_code == unknown.status_code == 401
        assert wrong.json() == unknown.json()

    async def test_an_unknown_username_still_costs_one_password_verification(self, api, monkeypatch) -> None:
        calls = api.spy_password_checks(monkeypatch)
        response = await api.client.post("/api/v1/auth/login", json={"username": "nobody", "password": "x"})
        assert response.status_code == 401
        assert len(calls) == 1 and calls[0].startswith("$argon2id$")
