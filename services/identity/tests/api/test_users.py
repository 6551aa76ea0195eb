"""GET, PUT and PATCH /api/v1/users/me."""

from __future__ import annotations

import pytest


@pytest.fixture
async def ada(api, auth_header) -> dict[str, str]:
    session = await api.signed_in()
    return auth_header(session["access"])


class TestGetMe:
    async def test_answers_the_profile(self, api, ada) -> None:
        response = await api.client.get("/api/v1/users/me", headers=ada)
        assert response.status_code == 200
        assert set(response.json()) == {"id", "email", "username", "first_name", "last_name", "phone",
                                        "company_name", "is_business_customer", "is_verified", "has_password",
                                        "roles", "created_at"}
        assert response.json()["username"] == response.json()["email"]
        assert response.json()["has_password"] is True

    async def test_requires_an_access_token(self, api, expect_error) -> None:
        expect_error(await api.client.get("/api/v1/users/me"), 401, "AUTHENTICATION_REQUIRED")

    async def test_an_anonymous_visitor_is_not_a_user(self, api, test_keys, expect_error) -> None:
        response = await api.client.get("/api/v1/users/me", headers=test_keys.anon_headers())
        expect_error(response, 401, "AUTHENTICATION_REQUIRED")


class TestUpdateMe:
    @pytest.mark.parametrize("method", ["PATCH", "PUT"])
    async def test_updates_only_the_fields_sent(self, api, ada, method: str) -> None:
        response = await api.client.request(method, "/api/v1/users/me", headers=ada,
                                            json={"first_name": " Augusta ", "phone": "+44 20 7946 0000"})
        assert response.status_code == 200, response.text
        user = response.json()
        assert (user["first_name"], user["last_name"], user["phone"]) == ("Augusta", "Lovelace", "+44 20 7946 0000")
        assert (await api.client.get("/api/v1/users/me", headers=ada)).json() == user

    async def test_a_company_name_makes_a_business_customer_and_clearing_it_undoes_that(self, api, ada) -> None:
        business = await api.client.patch("/api/v1/users/me", headers=ada, json={"company_name": "Acme"})
        assert business.json()["is_business_customer"] is True
        cleared = await api.client.patch("/api/v1/users/me", headers=ada, json={"company_name": ""})
        assert (cleared.json()["company_name"], cleared.json()["is_business_customer"]) == (None, False)

    async def test_optional_fields_can_be_cleared_with_null(self, api, ada) -> None:
        await api.client.patch("/api/v1/users/me", headers=ada, json={"phone": "+1 555 0100"})
        response = await api.client.patch("/api/v1/users/me", headers=ada, json={"phone": None})
        assert response.json()["phone"] is None

    async def test_the_email_is_not_changed_here(self, api, ada) -> None:
        response = await api.client.patch("/api/v1/users/me", headers=ada,
                                          json={"email": "mallory@example.com", "last_name": "King"})
        assert response.status_code == 200
        assert (response.json()["email"], response.json()["last_name"]) == ("ada@example.com", "King")

    async def test_roles_cannot_be_granted_through_the_profile(self, api, ada) -> None:
        response = await api.client.patch("/api/v1/users/me", headers=ada, json={"roles": ["staff"], "is_staff": True})
        assert response.json()["roles"] == ["customer"]

    @pytest.mark.parametrize(("body", "field"), [
        ({"first_name": None}, "first_name"), ({"last_name": "  "}, "last_name"), ({"first_name": 7}, "first_name"),
        ({"phone": "phone me maybe"}, "phone"),
    ])
    async def test_invalid_values_are_validation_errors(self, api, ada, expect_error, body, field) -> None:
        details = expect_error(await api.client.patch("/api/v1/users/me", headers=ada, json=body), 400,
                               "VALIDATION_ERROR")
        assert field in details["fields"]

    async def test_requires_an_access_token(self, api, expect_error) -> None:
        expect_error(await api.client.patch("/api/v1/users/me", json={"first_name": "X"}), 401,
                     "AUTHENTICATION_REQUIRED")

    async def test_a_wrong_method_is_405_in_the_error_format(self, api, ada, expect_error) -> None:
        expect_error(await api.client.post("/api/v1/users/me", headers=ada), 405, "METHOD_NOT_ALLOWED")
