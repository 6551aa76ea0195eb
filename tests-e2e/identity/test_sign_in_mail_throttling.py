"""Throttling of the credential routes other than passwords (docs/security.md): a flood of
magic-link and password-reset requests for an account from one client address, and wrong codes
guessed from there, never keep its owner at another address from a fresh code or reset link.
Through the gateway, both modes; each party binds its own loopback address, which the gateway
forwards to identity as the client's."""

from __future__ import annotations

from collections import Counter
from typing import Any

import httpx
import pytest
from infra.identity_steps import code_from, mail_ids, new_mail, visitor_client
from infra.journeys import poll, register_verified, token_from

from atelier_testing.platform import Platform

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.modes("embedded", "distributed", why="limits counted in the process (embedded) or shared in Redis (distributed)"),
]

# Its own loopback address for the session (test_sign_in_throttling's parties use .1 to .5).
ATTACKER = "127.0.0.6"
MAGIC, RESET = "/api/v1/auth/magic-link", "/api/v1/auth/password-reset"


async def flood(attacker: httpx.AsyncClient, path: str, body: dict[str, str], times: int) -> Counter[int]:
    return Counter([(await attacker.post(path, json=body)).status_code for _ in range(times)])


class Turns:
    """An attacker and an account's owner asking for the account's mail in turns."""

    def __init__(self, owner: httpx.AsyncClient, attacker: httpx.AsyncClient, email: str) -> None:
        self.owner, self.attacker, self.email = owner, attacker, email
        self.mailed = 1  # the verification
        self.answered: dict[str, Counter[int]] = {MAGIC: Counter(), RESET: Counter()}

    async def take(self, route: str, subject: str) -> dict[str, Any]:
        """Five requests from the attacker, then one from the owner: the owner's fresh mail."""
        answered = await flood(self.attacker, route, {"email": self.email}, 5)
        self.answered[route] += answered
        self.mailed += answered[200]
        seen = await self._delivered()
        r = await self.owner.post(route, json={"email": self.email})
        assert r.status_code == 200, r.text
        self.mailed += 1
        return await new_mail(self.owner, self.email, subject, seen)

    async def _delivered(self) -> set[str]:
        """The ids of the mail so far once it has all arrived: what the flood sent is in the
        mailbox before the owner asks, so the owner's mail is the next one."""

        async def arrived() -> set[str] | None:
            ids = await mail_ids(self.owner, self.email)
            return ids if len(ids) >= self.mailed else None

        return await poll(arrived, timeout=30, message=f"{self.mailed} mails to {self.email}")


async def test_a_flood_from_one_address_never_keeps_the_owner_from_their_mail(platform: Platform) -> None:
    async with visitor_client(platform.url) as owner, visitor_client(platform.url, ATTACKER) as attacker:
        email = (await register_verified(owner))["email"]
        turns = Turns(owner, attacker, email)
        guesses: Counter[int] = Counter()
        for _ in range(3):
            # Guesses at whatever code is live (one chance in a million each)…
            guesses += await flood(attacker, f"{MAGIC}/verify", {"email": email, "code": "000000"}, 4)
            code = code_from(await turns.take(MAGIC, "sign-in code"))
            r = await owner.post(f"{MAGIC}/verify", json={"email": email, "code": code})
            assert r.status_code == 200 and r.json()["user"]["email"] == email, r.text
        # The attacker's address waited past its own budgets (five requests a minute, ten wrong
        # codes in 15 minutes); the owner's never did.
        assert set(turns.answered[MAGIC]) == {200, 429} and set(guesses) == {400, 429}, (turns.answered, guesses)

        for _ in range(3):
            reset = await turns.take(RESET, "reset your password")
        # Three reset requests a minute from the attacker's address; once the account is past its
        # mail ceiling (ten an hour) the owner's own address still has its reserve.
        assert set(turns.answered[RESET]) == {200, 429}, turns.answered
        password = "a brand new secret"
        r = await owner.post(f"{RESET}/confirm", json={
            "token": token_from(reset), "new_password": password, "new_password_confirm": password})
        assert r.status_code == 200, r.text
