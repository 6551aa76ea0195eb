"""Password-reset and magic-link requests tell nobody whether an address has an account; six wrong magic
codes lock the code (the right one is refused after). Through the gateway, both modes."""

from __future__ import annotations

import httpx
import pytest
from infra.identity_steps import code_from, expect_error, magic_link, new_mail, unique_email, visitor, wrong
from infra.journeys import register_verified

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.modes("embedded", "distributed", why="limits counted in the process (embedded) or shared in Redis (distributed)"),
]


@pytest.mark.parametrize("route", ["/api/v1/auth/password-reset", "/api/v1/auth/magic-link"])
async def test_known_and_unknown_addresses_get_the_same_answer(api: httpx.AsyncClient, route: str) -> None:
    known = (await register_verified(api))["email"]
    unknown = unique_email("nobody")
    async with visitor(api) as first, visitor(api) as second:  # alike from any client
        for_known = await first.post(route, json={"email": known})
        for_unknown = await second.post(route, json={"email": unknown})
    assert for_known.status_code == for_unknown.status_code == 200, (for_known.text, for_unknown.text)
    assert for_known.json() == for_unknown.json()
    assert for_known.headers.get("content-type") == for_unknown.headers.get("content-type")
    # …and the answer for the known address was real: its owner got the mail.
    subject = "reset your password" if route.endswith("password-reset") else "sign-in code"
    await new_mail(api, known, subject)


async def test_six_wrong_codes_lock_the_code(api: httpx.AsyncClient) -> None:
    email = unique_email("figure")
    code = code_from(await magic_link(api, email))
    for _ in range(6):
        r = await api.post("/api/v1/auth/magic-link/verify", json={"email": email, "code": wrong(code)})
        expect_error(r, 400, "INVALID_TOKEN")
    # The right code now answers like a wrong one: nothing left to try.
    expect_error(await api.post("/api/v1/auth/magic-link/verify", json={"email": email, "code": code}), 400,
                 "INVALID_TOKEN")
    # No account came out of the guessing.
    r = await api.post("/api/v1/auth/magic-link/check-user", json={"email": email})
    assert r.status_code == 200 and r.json() == {"exists": False}, r.text


async def test_four_wrong_codes_still_leave_the_right_one_usable(api: httpx.AsyncClient) -> None:
    """The contrast to the lockout: the limit is the code's five attempts, not the first mistake."""
    email = unique_email("figure")
    code = code_from(await magic_link(api, email))
    for _ in range(4):
        expect_error(await api.post("/api/v1/auth/magic-link/verify", json={"email": email, "code": wrong(code)}),
                     400, "INVALID_TOKEN")
    r = await api.post("/api/v1/auth/magic-link/verify", json={"email": email, "code": code})
    assert r.status_code == 200, r.text
    assert r.json()["user"]["email"] == email
