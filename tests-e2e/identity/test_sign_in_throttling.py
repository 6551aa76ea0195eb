"""Sign-in throttling (docs/security.md): wrong passwords from one client address never keep the
account's owner out elsewhere, the admin's account included. Through the gateway, both modes; each
party binds its own loopback address, which the gateway forwards to identity as the client's."""

from __future__ import annotations

from collections import Counter
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager

import httpx
import pytest
from infra.identity_steps import error_code
from infra.journeys import PASSWORD, register_verified

from atelier_testing.platform import STAFF_EMAIL, STAFF_PASSWORD, Platform

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.modes("embedded", "distributed", why="limits counted in the process (embedded) or shared in Redis (distributed)"),
]

OWNER_ADDRESS = "127.0.0.1"


@asynccontextmanager
async def client_from(platform: Platform, address: str) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=platform.url, timeout=30,
                                 transport=httpx.AsyncHTTPTransport(local_address=address)) as client:
        yield client


async def sign_in(client: httpx.AsyncClient, email: str, password: str) -> httpx.Response:
    return await client.post("/api/v1/auth/login", json={"email": email, "password": password})


async def test_an_attacker_at_100_guesses_a_minute_never_keeps_the_admin_out(platform: Platform) -> None:
    async with client_from(platform, "127.0.0.2") as attacker, client_from(platform, OWNER_ADDRESS) as owner:
        guesses = []
        for n in range(100):
            guesses.append(await sign_in(attacker, STAFF_EMAIL, f"wrong-password-{n}"))
            if n % 4 == 3:
                r = await sign_in(owner, STAFF_EMAIL, STAFF_PASSWORD)
                assert r.status_code == 200, (n, r.text)
        statuses = [r.status_code for r in guesses]
        # Ten failures from that address, then it waits: the right password does not help it.
        assert statuses == [401] * 10 + [429] * 90, statuses
        assert all(error_code(r) == "RATE_LIMITED" and int(r.headers["retry-after"]) >= 1 for r in guesses[10:])
        r = await sign_in(attacker, STAFF_EMAIL, STAFF_PASSWORD)
        assert r.status_code == 429 and error_code(r) == "RATE_LIMITED", r.text


async def test_guessing_from_many_addresses_is_slowed_and_the_owner_still_gets_in(platform: Platform) -> None:
    async with client_from(platform, OWNER_ADDRESS) as owner, AsyncExitStack() as stack:
        email = (await register_verified(owner))["email"]
        attackers = [await stack.enter_async_context(client_from(platform, f"127.0.0.{n}")) for n in (3, 4, 5)]
        statuses: Counter[int] = Counter()
        for n in range(12):
            for attacker in attackers:
                statuses[(await sign_in(attacker, email, f"wrong-password-{n}")).status_code] += 1
            r = await sign_in(owner, email, PASSWORD)
            assert r.status_code == 200, (n, r.text)
        # Past the account's ceiling (20 failures) each address waits after each failure: fewer
        # guesses got through than the three addresses' own limits (10 each) would allow.
        assert set(statuses) == {401, 429} and 20 <= statuses[401] < 30, statuses
