"""Throttling of the credential routes other than passwords (docs/security.md): a flood of
magic-link and password-reset requests for an account from one client address, and wrong codes
guessed from there, never keep its owner at another address from a fresh code or reset link.
Through the gateway, both modes; each party binds its own loopback address, which the gateway
forwards to identity as the client's."""

from __future__ import annotations

from collections import Counter

import httpx
import pytest
from infra.identity_steps import code_from, mail_ids, new_mail, visitor_client
from infra.journeys import poll, register_verified, token_from

from atelier_testing.platform import Platform

pytestmark = pytest.mark.e2e

# Its own loopback address for the session (test_sign_in_throttling's parties use .1 to .5).
ATTACKER = "127.0.0.6"
MAGIC, RESET = "/api/v1/auth/magic-link", "/api/v1/auth/password-reset"


async def flood(attacker: httpx.AsyncClient, path: str, body: dict[str, str], times: int) -> Counter[int]:
    return Counter([(await attacker.post(path, json=body)).status_code for _ in range(times)])


async def delivered(api: httpx.AsyncClient, email: str, count: int) -> set[str]:
    """The ids of the mail to `email` once `count` have arrived: what the flood sent is in the
    mailbox before the owner asks, so the owner's mail is the next one."""

    async def arrived() -> set[str] | None:
        ids = await mail_ids(api, email)
        return ids if len(ids) >= count else None

    return await poll(arrived, timeout=30, message=f"{count} mails to {email}")


async def test_a_flood_from_one_address_never_keeps_the_owner_from_their_mail(platform: Platform) -> None:
    async with visitor_client(platform.url) as owner, visitor_client(platform.url, ATTACKER) as attacker:
        email = (await register_verified(owner))["email"]
        mailed = 1  # the verification
        requests: Counter[int] = Counter()
        guesses: Counter[int] = Counter()
        resets: Counter[int] = Counter()
        for _ in range(3):
            answered = await flood(attacker, MAGIC, {"email": email}, 5)
            # …and guesses at the code that flood had mailed (one chance in a million each).
            guesses += await flood(attacker, f"{MAGIC}/verify", {"email": email, "code": "000000"}, 4)
            requests += answered
            mailed += answered[200]
            seen = await delivered(owner, email, mailed)
            r = await owner.post(MAGIC, json={"email": email})
            assert r.status_code == 200, r.text
            mailed += 1
            code = code_from(await new_mail(owner, email, "sign-in code", seen))
            r = await owner.post(f"{MAGIC}/verify", json={"email": email, "code": code})
            assert r.status_code == 200 and r.json()["user"]["email"] == email, r.text
        # The attacker's address waited past its own budgets (five requests a minute, ten wrong
        # codes in 15 minutes); the owner's never did.
        assert set(requests) == {200, 429} and set(guesses) == {400, 429}, (requests, guesses)

        for _ in range(3):
            answered = await flood(attacker, RESET, {"email": email}, 5)
            resets += answered
            mailed += answered[200]
            seen = await delivered(owner, email, mailed)
            r = await owner.post(RESET, json={"email": email})
            assert r.status_code == 200, r.text
            mailed += 1
            reset = await new_mail(owner, email, "reset your password", seen)
        # Three reset requests a minute from the attacker's address; once the account is past its
        # mail ceiling (ten an hour) the owner's own address still has its reserve.
        assert set(resets) == {200, 429}, resets
        r = await owner.post(f"{RESET}/confirm", json={
            "token": token_from(reset), "new_password": "a brand new secret", "new_password_confirm": "a brand new secret"})
        assert r.status_code == 200, r.text
