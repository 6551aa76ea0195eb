"""A password change ends every other session and keeps the caller's (docs/security.md), and parallel
re-authentications never fail the database. Through the gateway, both modes."""

from __future__ import annotations

import asyncio

import httpx
import pytest
from infra.identity_steps import bearer, expect_error, me, refused_by_gateway, signed_in_customer, visitor
from infra.journeys import PASSWORD, login

pytestmark = pytest.mark.e2e

REVOCATION = "a revocation heard in the process (embedded) or broadcast to every gateway process (distributed)"
PARALLEL = "parallel requests meet SQLite's one writer (embedded) or PostgreSQL's row locks (distributed)"

NEW_PASSWORD = "a brand new secret"
# A route of another service: a refusal there comes from the gateway's (and that service's) denylist.
ELSEWHERE = "/api/v1/credits/balance"


def _change(current: str) -> dict[str, str]:
    return {"current_password": current, "new_password": NEW_PASSWORD, "new_password_confirm": NEW_PASSWORD}


@pytest.mark.modes("embedded", "distributed", why=REVOCATION)
async def test_a_password_change_ends_the_other_sessions_and_keeps_the_callers(api: httpx.AsyncClient) -> None:
    mine = await signed_in_customer(api)
    async with visitor(api) as laptop:
        theirs = await login(laptop, mine["email"])  # the same account, signed in elsewhere
        assert (await me(laptop, theirs["access"]))["id"] == mine["id"]

        r = await api.post("/api/v1/auth/change-password", json=_change(PASSWORD), headers=bearer(mine["access"]))
        assert r.status_code == 200, r.text

        # The other session: its access token refused once the revocation is heard, its refresh at once.
        expect_error(await laptop.post("/api/v1/auth/refresh", json={"refresh": theirs["refresh"]}), 401,
                     "INVALID_TOKEN")
        await refused_by_gateway(laptop, theirs["access"])
        await refused_by_gateway(laptop, theirs["access"], ELSEWHERE)

    # The caller's: the tokens it held before the change go on working, here and at other services.
    assert (await me(api, mine["access"]))["id"] == mine["id"]
    assert (await api.get(ELSEWHERE, headers=bearer(mine["access"]))).status_code == 200
    refreshed = await api.post("/api/v1/auth/refresh", json={"refresh": mine["refresh"]})
    assert refreshed.status_code == 200, refreshed.text
    assert (await me(api, refreshed.json()["access"]))["id"] == mine["id"]
    await login(api, mine["email"], NEW_PASSWORD)
    expect_error(await api.post("/api/v1/auth/login", json={"email": mine["email"], "password": PASSWORD}), 401,
                 "INVALID_CREDENTIALS")


@pytest.mark.modes("embedded", "distributed", why=PARALLEL)
async def test_thirty_parallel_changes_with_a_wrong_password_are_all_refused_cleanly(api: httpx.AsyncClient) -> None:
    """The current password is checked before identity's write transaction: on SQLite (embedded) that
    transaction holds the one write lock, and checks made inside it failed parallel requests with 500s."""
    customer = await signed_in_customer(api)

    async def attempt() -> httpx.Response:
        async with visitor(api) as client:  # each from an address of its own: every guess is checked
            return await client.post("/api/v1/auth/change-password", json=_change("not my password"),
                                     headers=bearer(customer["access"]))

    answers = await asyncio.gather(*(attempt() for _ in range(30)))
    assert all(400 <= r.status_code < 500 for r in answers), [(r.status_code, r.text) for r in answers]
    assert {r.json()["error"]["code"] for r in answers} <= {"INVALID_PASSWORD", "RATE_LIMITED"}
    # Nothing changed: the password and the session are the customer's still.
    assert (await me(api, customer["access"]))["id"] == customer["id"]
    await login(api, customer["email"])
