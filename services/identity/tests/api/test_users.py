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
        assert set(response.json()) == {"id", "email", "username", "display_name", "first_name", "last_name",
                                        "phone", "company_name", "tax_number", "is_business_customer", "is_verified",
                                        "has_password", "roles", "signup_storefront", "created_at", "subscription",
                                        "quota"}
        assert response.json()["signup_storefront"] == "default"
        assert (response.json()["username"], response.json()["display_name"]) == (None, None)
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
        me = (await api.client.get("/api/v1/users/me", headers=ada)).json()
        assert {k: v for k, v in me.items() if k not in ("subscription", "quota")} == user

    async def test_a_company_name_makes_a_business_customer_and_clearing_it_undoes_that(self, api, ada) -> None:
        business = await api.client.patch("/api/v1/users/me", headers=ada, json={"company_name": "Acme"})
        assert business.json()["is_business_customer"] is True
        cleared = await api.client.patch("/api/v1/users/me", headers=ada, json={"company_name": ""})
        assert (cleared.json()["company_name"], cleared.json()["is_business_customer"]) == (None, False)

    async def test_a_tax_number_is_kept_for_invoices_and_a_malformed_one_refused(self, api, ada,
                                                                                  expect_error) -> None:
        kept = await api.client.patch("/api/v1/users/me", headers=ada, json={"tax_number": "  GB 123 4567.89 "})
        assert kept.status_code == 200, kept.text
        assert kept.json()["tax_number"] == "GB 123 4567.89"
        for wrong in ("GB/123", "-GB1", "G" * 41, "ΕΛ123"):
            expect_error(await api.client.patch("/api/v1/users/me", headers=ada, json={"tax_number": wrong}), 400,
                         "VALIDATION_ERROR")
        assert (await api.client.get("/api/v1/users/me", headers=ada)).json()["tax_number"] == "GB 123 4567.89"
        cleared = await api.client.patch("/api/v1/users/me", headers=ada, json={"tax_number": " "})
        assert cleared.json()["tax_number"] is None

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


class TestProfileFields:
    """S4: `username` (optional, unique whatever its case) and `display_name` are real profile fields."""

    async def test_registration_takes_them_and_the_profile_returns_them(self, api, auth_header) -> None:
        registered = await api.register(username="Ada.L", display_name="Countess of Lovelace")
        assert registered.status_code == 201, registered.text
        assert (registered.json()["user"]["username"], registered.json()["user"]["display_name"]) == (
            "Ada.L", "Countess of Lovelace")
        verified = await api.client.post("/api/v1/auth/verify-email", json={"token": await api.mailed_token(
            "ada@example.com")})
        assert verified.status_code == 200
        login = await api.login()
        assert login.json()["user"]["username"] == "Ada.L"
        me = (await api.client.get("/api/v1/users/me", headers=auth_header(login.json()["access"]))).json()
        assert (me["username"], me["display_name"]) == ("Ada.L", "Countess of Lovelace")

    @pytest.mark.parametrize("method", ["PATCH", "PUT"])
    async def test_put_and_patch_set_and_clear_them(self, api, ada, method: str) -> None:
        response = await api.client.request(method, "/api/v1/users/me", headers=ada,
                                            json={"username": "ada_99", "display_name": "Ada"})
        assert response.status_code == 200, response.text
        assert (response.json()["username"], response.json()["display_name"]) == ("ada_99", "Ada")
        assert "subscription" not in response.json()  # only GET /users/me asks payments
        me = (await api.client.get("/api/v1/users/me", headers=ada)).json()
        assert (me["username"], me["display_name"]) == ("ada_99", "Ada")
        cleared = await api.client.request(method, "/api/v1/users/me", headers=ada,
                                           json={"username": None, "display_name": None})
        assert (cleared.json()["username"], cleared.json()["display_name"]) == (None, None)

    async def test_keeping_ones_own_username_in_another_case_is_allowed(self, api, ada) -> None:
        await api.client.patch("/api/v1/users/me", headers=ada, json={"username": "ada"})
        response = await api.client.patch("/api/v1/users/me", headers=ada, json={"username": "ADA"})
        assert (response.status_code, response.json()["username"]) == (200, "ADA")

    async def test_a_username_is_unique_whatever_its_case(self, api, ada, expect_error) -> None:
        assert (await api.client.patch("/api/v1/users/me", headers=ada, json={"username": "Ada"})).status_code == 200
        expect_error(await api.register("grace@example.com", username="ADA"), 409, "USERNAME_TAKEN")
        grace = await api.signed_in("grace@example.com")
        response = await api.client.patch("/api/v1/users/me", json={"username": "aDa"},
                                          headers={"Authorization": f"Bearer {grace['access']}"})
        expect_error(response, 409, "USERNAME_TAKEN")

    @pytest.mark.parametrize("username", ["ab", "x" * 31, "ada lovelace", "ada@example", "adä", "", 42])
    async def test_a_malformed_username_is_a_validation_error(self, api, ada, expect_error, username) -> None:
        expect_error(await api.client.patch("/api/v1/users/me", headers=ada, json={"username": username}),
                     400, "VALIDATION_ERROR")
        expect_error(await api.register("grace@example.com", username=username), 400, "VALIDATION_ERROR")

    async def test_a_display_name_has_at_most_100_characters(self, api, ada, expect_error) -> None:
        expect_error(await api.client.patch("/api/v1/users/me", headers=ada, json={"display_name": "x" * 101}),
                     400, "VALIDATION_ERROR")
        response = await api.client.patch("/api/v1/users/me", headers=ada, json={"display_name": "x" * 100})
        assert response.status_code == 200


class TestSubscription:
    """GET /users/me carries `subscription` and `quota` from payments' internal API."""

    async def test_a_subscriber_sees_plan_and_quota(self, api, auth_header) -> None:
        session = await api.signed_in()
        api.payments.subscribe(session["user"]["id"], cancel_at_period_end=True)
        me = (await api.client.get("/api/v1/users/me", headers=auth_header(session["access"]))).json()
        assert me["subscription"] == {
            "plan_id": "plan-pro-monthly", "tier": "pro", "status": "active",
            "current_period_start": "2026-11-01T00:00:00Z", "current_period_end": "2026-12-01T00:00:00Z",
            "cancel_at_period_end": True}
        assert me["quota"] == {"monthly": 200, "used": 12, "remaining": 188}
        assert api.payments.calls == [session["user"]["id"]]

    async def test_without_a_plan_the_free_tier_is_answered(self, api, ada) -> None:
        me = (await api.client.get("/api/v1/users/me", headers=ada)).json()
        assert (me["subscription"]["plan_id"], me["subscription"]["tier"]) == (None, "free")
        assert me["quota"] == {"monthly": 10, "used": 0, "remaining": 10}

    @pytest.mark.parametrize("down", ["5xx", "unreachable"])
    async def test_payments_down_leaves_them_null_and_the_profile_answers(self, api, ada, caplog, down) -> None:
        if down == "5xx":
            api.payments.status = 503
        else:
            api.payments.unreachable = True
        with caplog.at_level("WARNING", logger="atelier.identity.clients"):
            response = await api.client.get("/api/v1/users/me", headers=ada)
        assert response.status_code == 200, response.text
        assert (response.json()["subscription"], response.json()["quota"]) == (None, None)
        assert response.json()["email"] == "ada@example.com"
        assert any("payments" in r.getMessage() for r in caplog.records)

    async def test_login_and_profile_changes_do_not_ask_payments(self, api, ada) -> None:
        await api.client.patch("/api/v1/users/me", headers=ada, json={"first_name": "Augusta"})
        assert (await api.login()).status_code == 200
        assert api.payments.calls == []
