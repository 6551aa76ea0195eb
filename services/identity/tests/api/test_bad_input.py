"""Bad input on identity's routes is a 4xx in the common error format, never a 500."""

from __future__ import annotations

import json

import pytest

from atelier_testing import TestKeys


@pytest.mark.parametrize("field", ["email", "password"])
@pytest.mark.parametrize("bad", ["ada\x00@example.com", "\ud800"])
async def test_nul_or_a_lone_surrogate_in_login_is_a_validation_error(api, expect_error, field: str,
                                                                        bad: str) -> None:
    await api.verified_user()
    body = {"email": "ada@example.com", "password": api.password, field: bad}
    response = await api.client.post("/api/v1/auth/login", content=json.dumps(body),  # escapes surrogates
                                     headers={"content-type": "application/json"})
    expect_error(response, 400, "VALIDATION_ERROR")


@pytest.mark.parametrize("fields", [{"first_name": "A\x00da"}, {"email": "a\x00@example.com"},
                                    {"last_name": "\udfff"}])
async def test_nul_in_registration_is_a_validation_error(api, expect_error, fields) -> None:
    body = {"email": "ada@example.com", "password": api.password, "password_confirm": api.password,
            "first_name": "Ada", "last_name": "Lovelace", **fields}
    response = await api.client.post("/api/v1/auth/register", content=json.dumps(body),
                                     headers={"content-type": "application/json"})
    expect_error(response, 400, "VALIDATION_ERROR")


async def test_nul_in_an_address_or_a_query_is_a_validation_error(api, expect_error, test_keys: TestKeys) -> None:
    headers = {"X-Anonymous-Token": test_keys.anon_token()}
    body = {"label": "Home\x00", "first_name": "Ada", "last_name": "Lovelace", "address_line_1": "1 Road",
            "city": "London", "postal_code": "N1", "country": "GB"}
    expect_error(await api.client.post("/api/v1/addresses", json=body, headers=headers), 400, "VALIDATION_ERROR")
    expect_error(await api.client.get("/api/v1/addresses?offset=9223372036854775808", headers=headers), 400,
                 "VALIDATION_ERROR")
    expect_error(await api.client.get("/api/v1/addresses/%00", headers=headers), 400, "VALIDATION_ERROR")


async def test_every_answer_says_nosniff(api, test_keys: TestKeys) -> None:
    # The service's own answers (not only the gateway's): what it serves, refuses and does not know.
    answers = [await api.client.get("/.well-known/jwks.json"),
               await api.client.get("/api/v1/users/me"),
               await api.client.post("/api/v1/auth/login", json={"email": 1}),
               await api.client.get("/api/v1/nowhere", headers={"X-Anonymous-Token": test_keys.anon_token()})]
    assert [r.status_code for r in answers] == [200, 401, 400, 404], [r.text for r in answers]
    assert all(r.headers.get_list("x-content-type-options") == ["nosniff"] for r in answers), answers
