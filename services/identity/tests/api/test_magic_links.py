"""S4's magic links: a code and a link by mail, 15 minutes, 5 attempts, the first use creates the account."""

from __future__ import annotations

import asyncio
import re
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import update
from sqlmodel import col

from atelier_identity.models import MagicLink, User
from atelier_testing import TestKeys

EMAIL = "figure@example.com"
# Client addresses as the gateway forwards them (docs/security.md).
HERE, THERE, ELSEWHERE, OWNER = ({"X-Forwarded-For": ip} for ip in (
    "203.0.113.7", "198.51.100.1", "192.0.2.10", "192.0.2.99"))


async def _request(api, email: str = EMAIL, headers: dict[str, str] | None = None):
    return await api.client.post("/api/v1/auth/magic-link", json={"email": email}, headers=headers)


async def _verify(api, headers: dict[str, str] | None = None, **body: str):
    return await api.client.post("/api/v1/auth/magic-link/verify", json=body, headers=headers)


def _wrong(code: str) -> str:
    return f"{(int(code) + 1) % 1_000_000:06d}"


class TestRequest:
    async def test_known_and_unknown_addresses_get_the_same_answer(self, api) -> None:
        await api.verified_user("ada@example.com")
        known, unknown = await _request(api, "ada@example.com"), await _request(api, EMAIL)
        assert known.status_code == unknown.status_code == 200
        assert known.json() == unknown.json()

    async def test_mails_a_six_digit_code_and_a_link(self, api) -> None:
        await _request(api)
        [mail] = await api.wait_for_mail(EMAIL)
        code = await api.mailed_code(EMAIL)
        assert len(code) == 6 and code.isdigit() and code in mail["subject"]
        assert "/magic-link?token=" in mail["text"] and code in mail["html"]

    async def test_requests_are_limited_per_account_and_address(self, api, expect_error) -> None:
        """A flood of requests from one address never keeps the owner elsewhere from a code."""
        for _ in range(5):
            assert (await _request(api, headers=HERE)).status_code == 200
        expect_error(await _request(api, headers=HERE), 429, "RATE_LIMITED")
        assert (await _request(api, headers=THERE)).status_code == 200
        assert (await _verify(api, THERE, email=EMAIL, code=await api.mailed_code(EMAIL, 6))).status_code == 200

    async def test_past_the_accounts_mail_ceiling_each_address_mails_from_its_reserve(self, start_identity) -> None:
        async with start_identity(sign_in_mail_per_account="3/hour",
                                  sign_in_mail_reserve_per_account_and_ip="1/hour") as api:
            for _ in range(5):  # three under the ceiling, one from its reserve, one not mailed
                assert (await _request(api, headers=HERE)).status_code == 200
            assert len(await api.mailbox_after_delivery(EMAIL)) == 4
            # Another address still gets its mail; once its reserve is spent it is answered alike,
            # and the code already mailed stays live (nothing was voided).
            assert (await _request(api, headers=THERE)).status_code == 200
            code = await api.mailed_code(EMAIL, 5)
            assert (await _request(api, headers=THERE)).status_code == 200
            assert len(await api.mailbox_after_delivery(EMAIL)) == 5
            assert (await _verify(api, THERE, email=EMAIL, code=code)).status_code == 200


class TestVerifyByCode:
    async def test_creates_a_verified_passwordless_account_on_first_use(self, api, auth_header) -> None:
        await _request(api)
        response = await _verify(api, email=EMAIL, code=await api.mailed_code(EMAIL))
        assert response.status_code == 200, response.text
        body = response.json()
        assert {"access", "refresh", "token_type", "expires_in", "user", "created"} <= set(body)
        assert body["created"] is True
        assert (body["user"]["email"], body["user"]["is_verified"], body["user"]["has_password"]) == (
            EMAIL, True, False)
        assert response.cookies.get("atelier_refresh") == body["refresh"]
        me = await api.client.get("/api/v1/users/me", headers=auth_header(body["access"]))
        assert me.json()["id"] == body["user"]["id"]

    async def test_a_new_account_gets_a_generated_username(self, api, auth_header) -> None:
        """S4's original names a magic-link account `user_<8 hex>`; the owner may rename it."""
        await _request(api)
        body = (await _verify(api, email=EMAIL, code=await api.mailed_code(EMAIL))).json()
        assert re.fullmatch(r"user_[0-9a-f]{8}", body["user"]["username"]), body["user"]
        me = await api.client.get("/api/v1/users/me", headers=auth_header(body["access"]))
        assert me.json()["username"] == body["user"]["username"]

    async def test_an_existing_account_signs_in_as_itself(self, api) -> None:
        user = await api.verified_user("Ada@Example.com")
        await _request(api, "ada@example.com")
        code = await api.mailed_code("ada@example.com", 2)
        body = (await _verify(api, email="ADA@example.com", code=code)).json()
        assert (body["user"]["id"], body["created"]) == (user["id"], False)
        assert (await api.login()).status_code == 200  # a verified account keeps its password

    async def test_the_code_works_once(self, start_identity, expect_error) -> None:
        async with start_identity(magic_link_retry_seconds=0) as api:
            await _request(api)
            code = await api.mailed_code(EMAIL)
            assert (await _verify(api, email=EMAIL, code=code)).status_code == 200
            expect_error(await _verify(api, email=EMAIL, code=code), 400, "INVALID_TOKEN")
    async def test_six_wrong_codes_lock_the_code(self, api, expect_error) -> None:
        await _request(api)
        code = await api.mailed_code(EMAIL)
        for _ in range(6):
            expect_error(await _verify(api, email=EMAIL, code=_wrong(code)), 400, "INVALID_TOKEN")
        expect_error(await _verify(api, email=EMAIL, code=code), 400, "INVALID_TOKEN")

    async def test_four_wrong_codes_still_leave_the_fifth_attempt(self, api) -> None:
        await _request(api)
        code = await api.mailed_code(EMAIL)
        for _ in range(4):
            assert (await _verify(api, email=EMAIL, code=_wrong(code))).status_code == 400
        assert (await _verify(api, email=EMAIL, code=code)).status_code == 200

    async def test_five_wrong_codes_make_the_right_one_useless(self, api, expect_error) -> None:
        await _request(api)
        code = await api.mailed_code(EMAIL)
        for _ in range(5):
            assert (await _verify(api, email=EMAIL, code=_wrong(code))).status_code == 400
        expect_error(await _verify(api, email=EMAIL, code=code), 400, "INVALID_TOKEN")

    async def test_wrong_codes_are_limited_per_account_and_address(self, start_identity, expect_error) -> None:
        async with start_identity(magic_code_failures_per_account_and_ip="3/15 minutes") as api:
            await _request(api)
            code = await api.mailed_code(EMAIL)
            for _ in range(3):
                expect_error(await _verify(api, HERE, email=EMAIL, code=_wrong(code)), 400, "INVALID_TOKEN")
            limited = await _verify(api, HERE, email=EMAIL, code=code)  # even the right code, from there
            assert 1 <= expect_error(limited, 429, "RATE_LIMITED")["retry_after"] == int(limited.headers["retry-after"])
            await _request(api)  # a fresh code gives that address no more guesses
            expect_error(await _verify(api, HERE, email=EMAIL, code=await api.mailed_code(EMAIL, 2)), 429,
                         "RATE_LIMITED")
            # The owner, elsewhere, is not held back.
            assert (await _verify(api, THERE, email=EMAIL, code=await api.mailed_code(EMAIL, 2))).status_code == 200

    async def test_at_the_accounts_ceiling_a_wrong_code_ends_the_code_not_the_account(self, start_identity,
                                                                                    expect_error) -> None:
        async with start_identity(magic_code_failures_per_account="3/hour") as api:
            await _request(api)
            code, token = await api.mailed_code(EMAIL), await api.mailed_token(EMAIL)
            for address in (HERE, THERE, ELSEWHERE):  # the third failure reaches the ceiling
                expect_error(await _verify(api, address, email=EMAIL, code=_wrong(code)), 400, "INVALID_TOKEN")
            # The code guessed at is over (two of its five attempts unused); its link still signs in.
            expect_error(await _verify(api, OWNER, email=EMAIL, code=code), 400, "INVALID_TOKEN")
            assert (await _verify(api, OWNER, token=token)).status_code == 200
            # While the account is at its ceiling, a code ends at its first wrong guess…
            await _request(api)
            code = await api.mailed_code(EMAIL, 2)
            expect_error(await _verify(api, HERE, email=EMAIL, code=_wrong(code)), 400, "INVALID_TOKEN")
            expect_error(await _verify(api, OWNER, email=EMAIL, code=code), 400, "INVALID_TOKEN")
            # …and a right one is never refused: the owner asks for a new code and signs in.
            await _request(api)
            assert (await _verify(api, OWNER, email=EMAIL, code=await api.mailed_code(EMAIL, 3))).status_code == 200

    @pytest.mark.databases("sqlite", "postgres", why="parallel requests against the database's locks")
    async def test_parallel_guesses_count_every_attempt(self, start_identity, expect_error) -> None:
        # Without the per-address limit: only the code's own attempt counter refuses them.
        async with start_identity(magic_code_failures_per_account_and_ip="100/minute") as api:
            await _request(api)
            code = await api.mailed_code(EMAIL)
            guesses = await asyncio.gather(*(_verify(api, email=EMAIL, code=_wrong(code)) for _ in range(8)))
            assert [g.status_code for g in guesses] == [400] * 8
            expect_error(await _verify(api, email=EMAIL, code=code), 400, "INVALID_TOKEN")

    async def test_a_new_request_voids_the_previous_code(self, api, expect_error) -> None:
        await _request(api)
        first = await api.mailed_code(EMAIL)
        await _request(api)
        second = await api.mailed_code(EMAIL, 2)
        if first != second:  # one chance in a million that they are equal
            expect_error(await _verify(api, email=EMAIL, code=first), 400, "INVALID_TOKEN")
        assert (await _verify(api, email=EMAIL, code=second)).status_code == 200

    async def test_an_expired_code_is_400(self, start_identity, expect_error) -> None:
        async with start_identity(magic_link_ttl_minutes=0) as api:
            await _request(api)
            expect_error(await _verify(api, email=EMAIL, code=await api.mailed_code(EMAIL)), 400, "INVALID_TOKEN")

    async def test_a_code_for_one_address_does_not_open_another(self, api, expect_error) -> None:
        await _request(api)
        expect_error(await _verify(api, email="other@example.com", code=await api.mailed_code(EMAIL)), 400,
                     "INVALID_TOKEN")

    async def test_neither_token_nor_code_is_a_validation_error(self, api, expect_error) -> None:
        expect_error(await _verify(api, email=EMAIL), 400, "VALIDATION_ERROR")


class TestRepeat:
    """The same right code again within `magic_link_retry_seconds` of its use (S4's frontend
    verifies its link at every render): acknowledged, 200, without a new session."""

    async def test_a_repeat_of_the_used_code_is_acknowledged_without_a_session(self, api) -> None:
        await _request(api)
        code = await api.mailed_code(EMAIL)
        first = (await _verify(api, email=EMAIL, code=code)).json()
        assert first["user"]["email"] == EMAIL
        again = await _verify(api, email=EMAIL, code=code)
        assert again.status_code == 200, again.text
        body = again.json()
        assert body["repeated"] is True
        assert not {"access", "refresh"} & set(body) and "atelier_refresh" not in again.cookies

    async def test_a_repeat_answers_nothing_of_the_account(self, api) -> None:
        # Whoever replays the code (read off a screen, a log, a shared link) is not told who it opened.
        await _request(api)
        code = await api.mailed_code(EMAIL)
        first = (await _verify(api, email=EMAIL, code=code)).json()
        async with api.h.runtime.db.transaction() as session:  # a profile worth hiding
            await session.execute(update(User).where(col(User.email) == EMAIL)
                                  .values(first_name="Ada", last_name="Lovelace", phone="+447700900123"))
        again = await _verify(api, email=EMAIL, code=code)
        assert again.status_code == 200, again.text
        assert set(again.json()) == {"repeated", "message"}, again.text
        for personal in (first["user"]["id"], EMAIL, "Ada", "Lovelace", "+447700900123", "customer"):
            assert personal not in again.text, again.text

    @pytest.mark.databases("sqlite", "postgres", why="parallel requests against the database's locks")
    async def test_repeats_at_once_make_one_session(self, api) -> None:
        await _request(api)
        code = await api.mailed_code(EMAIL)
        answers = await asyncio.gather(*(_verify(api, email=EMAIL, code=code) for _ in range(3)))
        assert [a.status_code for a in answers] == [200] * 3, [a.text for a in answers]
        assert sum("access" in a.json() for a in answers) == 1
        assert sum(a.json().get("repeated", False) for a in answers) == 2

    async def test_after_the_window_the_code_is_spent(self, api, expect_error) -> None:
        await _request(api)
        code = await api.mailed_code(EMAIL)
        assert (await _verify(api, email=EMAIL, code=code)).status_code == 200
        async with api.h.runtime.db.transaction() as session:  # used 11 seconds ago: the window has passed
            await session.execute(update(MagicLink).where(col(MagicLink.email) == EMAIL)
                                  .values(used_at=datetime.now(UTC) - timedelta(seconds=11)))
        expect_error(await _verify(api, email=EMAIL, code=code), 400, "INVALID_TOKEN")

    async def test_wrong_codes_in_the_window_count_and_lock_it(self, api, expect_error) -> None:
        await _request(api)
        code = await api.mailed_code(EMAIL)
        assert (await _verify(api, email=EMAIL, code=code)).status_code == 200  # attempt 1
        for _ in range(4):  # attempts 2-5
            expect_error(await _verify(api, email=EMAIL, code=_wrong(code)), 400, "INVALID_TOKEN")
        expect_error(await _verify(api, email=EMAIL, code=code), 400, "INVALID_TOKEN")

    async def test_a_voided_code_is_not_retried(self, api, expect_error) -> None:
        await _request(api)
        first = await api.mailed_code(EMAIL)
        await _request(api)  # voids the first: it is spent, but never signed in
        second = await api.mailed_code(EMAIL, 2)
        if first != second:
            expect_error(await _verify(api, email=EMAIL, code=first), 400, "INVALID_TOKEN")

    async def test_a_used_code_is_not_retried_once_a_new_one_is_sent(self, api, expect_error) -> None:
        await _request(api)
        first = await api.mailed_code(EMAIL)
        assert (await _verify(api, email=EMAIL, code=first)).status_code == 200
        await _request(api)
        second = await api.mailed_code(EMAIL, 2)
        if first != second:
            expect_error(await _verify(api, email=EMAIL, code=first), 400, "INVALID_TOKEN")

class TestVerifyByLink:
    async def test_the_link_token_signs_in_once(self, api, expect_error) -> None:
        await _request(api)
        token = await api.mailed_token(EMAIL)
        assert (await _verify(api, token=token)).json()["user"]["email"] == EMAIL
        expect_error(await _verify(api, token=token), 400, "INVALID_TOKEN")

    async def test_the_link_and_the_code_are_one_credential(self, start_identity, expect_error) -> None:
        async with start_identity(magic_link_retry_seconds=0) as api:
            await _request(api)
            token, code = await api.mailed_token(EMAIL), await api.mailed_code(EMAIL)
            assert (await _verify(api, token=token)).status_code == 200
            expect_error(await _verify(api, email=EMAIL, code=code), 400, "INVALID_TOKEN")


class TestUnprovenAccounts:
    async def test_proving_the_address_drops_a_password_set_without_proof(self, api) -> None:
        # Someone registered this address (unverified) with a password of their choosing.
        assert (await api.register("victim@example.com", "attackers password")).status_code == 201
        await _request(api, "victim@example.com")
        body = (await _verify(api, email="victim@example.com",
                              code=await api.mailed_code("victim@example.com", 2))).json()
        assert (body["user"]["is_verified"], body["user"]["has_password"]) == (True, False)
        assert (await api.login("victim@example.com", "attackers password")).status_code == 401


class TestClaim:
    async def test_an_anon_token_is_claimed_by_the_new_account(self, api, harness, test_keys: TestKeys) -> None:
        anon_id = uuid.uuid4()
        await _request(api)
        body = (await _verify(api, test_keys.anon_headers(anon_id), email=EMAIL,
                              code=await api.mailed_code(EMAIL))).json()
        await harness.drain()
        [claimed] = harness.published("identity.anonymous_claimed")
        assert claimed.data == {"anon_id": str(anon_id), "user_id": body["user"]["id"]}


class TestCheckUser:
    async def test_answers_whether_an_account_exists(self, api) -> None:
        await api.verified_user("ada@example.com")
        for email, exists in (("ADA@example.com", True), ("nobody@example.com", False)):
            response = await api.client.post("/api/v1/auth/magic-link/check-user", json={"email": email})
            assert response.json() == {"exists": exists}

    async def test_is_limited_per_account_and_address(self, api, expect_error) -> None:
        async def check(headers: dict[str, str]):
            return await api.client.post("/api/v1/auth/magic-link/check-user", json={"email": EMAIL}, headers=headers)

        for _ in range(5):
            assert (await check(HERE)).status_code == 200
        expect_error(await check(HERE), 429, "RATE_LIMITED")
        assert (await check(THERE)).json() == {"exists": False}

    async def test_is_rate_limited(self, start_identity, expect_error) -> None:
        async with start_identity(credential_rate_limit_per_ip="3/minute") as api:
            for n in range(3):
                await api.client.post("/api/v1/auth/magic-link/check-user", json={"email": f"u{n}@example.com"})
            response = await api.client.post("/api/v1/auth/magic-link/check-user", json={"email": "x@example.com"})
            expect_error(response, 429, "RATE_LIMITED")
