"""GET /internal/users/{id}: other services read a user's public fields."""

from __future__ import annotations

import uuid


class TestInternalUser:
    async def test_answers_the_public_fields_to_a_service(self, api) -> None:
        user = await api.verified_user()
        response = await api.client.get(f"/internal/users/{user['id']}", headers={"X-Service-Token": "changethis"})
        assert response.status_code == 200
        assert response.json() == user
        assert "password_hash" not in response.text

    async def test_requires_the_service_credential(self, api, expect_error) -> None:
        user = await api.verified_user()
        expect_error(await api.client.get(f"/internal/users/{user['id']}"), 401, "AUTHENTICATION_REQUIRED")
        expect_error(await api.client.get(f"/internal/users/{user['id']}", headers={"X-Service-Token": "guess"}),
                     401, "AUTHENTICATION_REQUIRED")

    async def test_an_unknown_user_is_404(self, api, expect_error) -> None:
        response = await api.client.get(f"/internal/users/{uuid.uuid4()}", headers={"X-Service-Token": "changethis"})
        expect_error(response, 404, "USER_NOT_FOUND")

    async def test_a_malformed_id_is_a_validation_error(self, api, expect_error) -> None:
        response = await api.client.get("/internal/users/42", headers={"X-Service-Token": "changethis"})
        expect_error(response, 400, "VALIDATION_ERROR")


class TestInternalUserByEmail:
    async def test_an_account_is_found_by_its_email(self, api, expect_error) -> None:
        user = await api.verified_user("ada@example.com")
        service = {"X-Service-Token": "changethis"}
        response = await api.client.post("/internal/users/lookup", json={"email": " Ada@Example.com"}, headers=service)
        assert response.status_code == 200, response.text
        assert response.json() == user
        expect_error(await api.client.post("/internal/users/lookup", json={"email": "nobody@example.com"},
                                           headers=service), 404, "USER_NOT_FOUND")
        expect_error(await api.client.post("/internal/users/lookup", json={"email": 42}, headers=service), 400,
                     "VALIDATION_ERROR")
        expect_error(await api.client.post("/internal/users/lookup", json={"email": "ada@example.com"}), 401,
                     "AUTHENTICATION_REQUIRED")


class TestInternalUserAccess:
    """What a money-moving staff write asks about its caller: the account's roles and status now."""

    async def test_answers_the_roles_and_status_of_now(self, api, test_keys, expect_error) -> None:
        user = await api.verified_user("fin@example.com")
        service = {"X-Service-Token": "changethis"}
        url = f"/internal/users/{user['id']}/access"
        admin = test_keys.staff_headers()
        await api.client.post("/api/v1/staff/accounts", json={"email": "fin@example.com", "roles": ["finance"]},
                              headers=admin)
        assert (await api.client.get(url, headers=service)).json() == {
            "id": user["id"], "is_active": True, "roles": ["customer", "staff", "finance"]}
        await api.client.post("/api/v1/staff/accounts", json={"email": "fin@example.com", "roles": ["support"]},
                              headers=admin)
        await api.client.post(f"/api/v1/staff/customers/{user['id']}/suspend", headers=admin)
        assert (await api.client.get(url, headers=service)).json() == {
            "id": user["id"], "is_active": False, "roles": ["customer", "staff", "support"]}
        expect_error(await api.client.get(url), 401, "AUTHENTICATION_REQUIRED")
        expect_error(await api.client.get(f"/internal/users/{uuid.uuid4()}/access", headers=service), 404,
                     "USER_NOT_FOUND")
