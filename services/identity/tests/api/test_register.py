"""POST /api/v1/auth/register."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest

from atelier_testing import TestKeys


class TestRegister:
    async def test_creates_an_unverified_customer_and_answers_201(self, api) -> None:
        response = await api.register("Ada@Example.com", phone="+995 555 123", company_name="  ")
        assert response.status_code == 201, response.text
        body = response.json()
        assert set(body) == {"message", "user"}  # no tokens while verification is required
        user = body["user"]
        assert user["email"] == "ada@example.com"
        assert (user["first_name"], user["last_name"], user["phone"]) == ("Ada", "Lovelace", "+995 555 123")
        assert user["company_name"] is None and user["is_business_customer"] is False
        assert user["is_verified"] is False
        assert user["roles"] == ["customer"]
        uuid.UUID(user["id"])
        assert "set-cookie" not in response.headers

    async def test_a_company_name_makes_a_business_customer(self, api) -> None:
        user = (await api.register(company_name="Acme Stone")).json()["user"]
        assert (user["company_name"], user["is_business_customer"]) == ("Acme Stone", True)

    async def test_works_without_any_token(self, api) -> None:
        assert (await api.register()).status_code == 201

    async def test_queues_a_verification_mail_with_a_token_link(self, api) -> None:
        await api.register()
        [mail] = await api.wait_for_mail("ada@example.com")
        assert mail["to"] == "ada@example.com"
        assert mail["subject"] == "Confirm your email address"
        assert "/verify-email?token=" in mail["text"] and "token=" in mail["html"]
        assert mail["sent_at"] is not None

    async def test_an_existing_email_is_409_whatever_its_case(self, api, expect_error) -> None:
        assert (await api.register("ada@example.com")).status_code == 201
        expect_error(await api.register("ADA@example.COM"), 409, "EMAIL_EXISTS")

    async def test_password_confirmation_must_match(self, api, expect_error) -> None:
        response = await api.client.post("/api/v1/auth/register", json={
            "email": "ada@example.com", "password": api.password, "password_confirm": api.password + "x",
            "first_name": "Ada", "last_name": "Lovelace"})
        details = expect_error(response, 400, "VALIDATION_ERROR")
        assert list(details["fields"]) == ["password_confirm"]

    @pytest.mark.parametrize(("password", "problem"), [
        ("short1", "at least 8 characters"),
        ("1234567890", "entirely numeric"),
        ("ada@example.com", "email address"),
        ("xada@example.comx", "email address"),
    ])
    async def test_the_password_policy_is_enforced(self, api, expect_error, password: str, problem: str) -> None:
        details = expect_error(await api.register(password=password), 400, "VALIDATION_ERROR")
        assert problem in " ".join(details["fields"]["password"])
        assert await api.mailbox_after_delivery("ada@example.com") == []

    @pytest.mark.parametrize(("change", "field"), [
        ({"email": "not-an-email"}, "email"),
        ({"first_name": ""}, "first_name"),
        ({"last_name": None}, "last_name"),
        ({"first_name": 42}, "first_name"),
        ({"phone": "call me"}, "phone"),
        ({"company_name": "x" * 201}, "company_name"),
    ])
    async def test_invalid_fields_are_400_with_per_field_details(self, api, expect_error, change, field) -> None:
        body = {"email": "ada@example.com", "password": api.password, "password_confirm": api.password,
                "first_name": "Ada", "last_name": "Lovelace", **change}
        details = expect_error(await api.client.post("/api/v1/auth/register", json=body), 400, "VALIDATION_ERROR")
        assert field in details["fields"]

    async def test_a_missing_body_is_a_validation_error(self, api, expect_error) -> None:
        expect_error(await api.client.post("/api/v1/auth/register"), 400, "VALIDATION_ERROR")

    async def test_unknown_fields_are_ignored(self, api) -> None:
        response = await api.register(is_staff=True, roles=["staff"], is_verified=True)
        assert response.status_code == 201
        assert response.json()["user"]["roles"] == ["customer"]


class TestRegisterClaimsTheAnonymousIdentity:
    async def test_an_anon_token_publishes_anonymous_claimed(self, api, harness, test_keys: TestKeys) -> None:
        anon_id = uuid.uuid4()
        response = await api.register(headers=test_keys.anon_headers(anon_id))
        assert response.status_code == 201
        await harness.drain()
        [event] = harness.published("identity.anonymous_claimed")
        assert event.data == {"anon_id": str(anon_id), "user_id": response.json()["user"]["id"]}
        assert event.producer == "identity"

    async def test_without_an_anon_token_nothing_is_claimed(self, api, harness) -> None:
        await api.register()
        await harness.drain()
        assert harness.published("identity.anonymous_claimed") == []

    async def test_a_stale_anon_token_is_no_identity_rather_than_an_error(self, api, harness, test_keys) -> None:
        stale = test_keys.anon_token(uuid.uuid4(), ttl=-timedelta(minutes=1))
        response = await api.register(headers={"X-Anonymous-Token": stale})
        assert response.status_code == 201
        await harness.drain()
        assert harness.published("identity.anonymous_claimed") == []

    async def test_a_rejected_registration_claims_nothing(self, api, harness, test_keys) -> None:
        await api.register()
        assert (await api.register(headers=test_keys.anon_headers())).status_code == 409
        await harness.drain()
        assert harness.published("identity.anonymous_claimed") == []


class TestRegisterWithoutRequiredVerification:
    async def test_the_response_carries_tokens_and_the_refresh_cookie(self, start_identity, auth_header) -> None:
        async with start_identity(require_verified_email=False) as api:
            response = await api.register()
            assert response.status_code == 201, response.text
            body = response.json()
            assert {"user", "access", "refresh", "token_type", "expires_in"} <= set(body)
            assert body["token_type"] == "Bearer"
            assert "atelier_refresh=" in response.headers["set-cookie"]
            me = await api.client.get("/api/v1/users/me", headers=auth_header(body["access"]))
            assert me.json()["id"] == body["user"]["id"]
