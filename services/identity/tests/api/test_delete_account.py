"""DELETE /api/v1/users/me: re-authentication, erasure, and every token of the account stops working."""

from __future__ import annotations

from datetime import datetime

import jwt


def _bearer(session: dict) -> dict[str, str]:
    return {"Authorization": f"Bearer {session['access']}"}


class TestDeleteAccount:
    async def test_with_the_password_the_account_is_erased_and_announced(self, api, harness, expect_error) -> None:
        session = await api.signed_in()
        await api.client.post("/api/v1/addresses", headers=_bearer(session), json={
            "label": "Home", "first_name": "Ada", "address_line_1": "1 Main St", "city": "London", "country": "GB"})
        await harness.drain()
        response = await api.client.request("DELETE", "/api/v1/users/me", headers=_bearer(session),
                                            json={"password": api.password})
        assert response.status_code == 204, response.text
        await harness.drain()
        [deleted] = harness.published("identity.user_deleted")
        assert deleted.data == {"user_id": session["user"]["id"]}
        [revoked] = harness.published("identity.token_revoked")
        assert revoked.data["user_id"] == session["user"]["id"]
        claims = jwt.decode(session["access"], options={"verify_signature": False})
        assert claims["iat"] <= datetime.fromisoformat(revoked.data["all_before"]).timestamp()
        # Identity itself refuses the token at once; the refresh token is gone; so is the login.
        expect_error(await api.client.get("/api/v1/users/me", headers=_bearer(session)), 401, "INVALID_TOKEN")
        expect_error(await api.client.post("/api/v1/auth/refresh", json={"refresh": session["refresh"]}), 401,
                     "INVALID_TOKEN")
        expect_error(await api.login(), 401, "INVALID_CREDENTIALS")
        assert (await api.register()).status_code == 201  # the address is free again

    async def test_addresses_are_erased(self, api, test_keys) -> None:
        session = await api.signed_in()
        created = (await api.client.post("/api/v1/addresses", headers=_bearer(session), json={
            "label": "Home", "first_name": "Ada", "address_line_1": "1 Main St", "city": "London",
            "country": "GB"})).json()
        await api.client.request("DELETE", "/api/v1/users/me", headers=_bearer(session),
                                 json={"password": api.password})
        response = await api.client.get(f"/internal/addresses/{created['id']}",
                                        params={"owner_id": session["user"]["id"]},
                                        headers={"X-Service-Token": "changethis"})
        assert response.status_code == 404

    async def test_a_wrong_password_changes_nothing(self, api, expect_error) -> None:
        session = await api.signed_in()
        response = await api.client.request("DELETE", "/api/v1/users/me", headers=_bearer(session),
                                            json={"password": "wrong password"})
        expect_error(response, 400, "INVALID_PASSWORD")
        assert (await api.client.get("/api/v1/users/me", headers=_bearer(session))).status_code == 200

    async def test_an_account_with_a_password_must_give_it(self, api, expect_error) -> None:
        session = await api.signed_in()
        response = await api.client.request("DELETE", "/api/v1/users/me", headers=_bearer(session),
                                            json={"confirm": "DELETE"})
        assert "password" in expect_error(response, 400, "VALIDATION_ERROR")["fields"]

    async def test_a_passwordless_account_confirms_with_delete(self, api, expect_error) -> None:
        await api.client.post("/api/v1/auth/magic-link", json={"email": "figure@example.com"})
        session = (await api.client.post("/api/v1/auth/magic-link/verify", json={
            "email": "figure@example.com", "code": await api.mailed_code("figure@example.com")})).json()
        refused = await api.client.request("DELETE", "/api/v1/users/me", headers=_bearer(session),
                                           json={"confirm": "yes"})
        assert "confirm" in expect_error(refused, 400, "VALIDATION_ERROR")["fields"]
        response = await api.client.request("DELETE", "/api/v1/users/me", headers=_bearer(session),
                                            json={"confirm": "DELETE"})
        assert response.status_code == 204

    async def test_requires_an_access_token(self, api, expect_error) -> None:
        expect_error(await api.client.request("DELETE", "/api/v1/users/me", json={"confirm": "DELETE"}), 401,
                     "AUTHENTICATION_REQUIRED")
