"""Storefront policies identity stores and enforces (docs/storefronts.md#policies): the staff API
keeps them (a PATCH field by field, null back to the install's setting), and each applies to the
requests of its storefront only."""

from __future__ import annotations

import math
from typing import Any

import jwt
import pytest

from atelier_common.contracts.identity import StorefrontPolicies
from atelier_identity import policies
from atelier_testing.fakes.authenticator import SoftwareAuthenticator
from atelier_testing.storefronts import add_storefront, make_storefront, on_storefront

URL = "/api/v1/storefronts"
ON_B = on_storefront("b")
HERE, THERE = {"X-Forwarded-For": "203.0.113.7"}, {"X-Forwarded-For": "198.51.100.1"}


def _body(slug: str = "b", **overrides: Any) -> dict[str, Any]:
    origin = f"https://{slug}.example"
    return {"slug": slug, "name": f"Storefront {slug.upper()}", "origins": [origin], "frontend_url": origin,
            "passkey": {"rp_id": f"{slug}.example", "origins": [origin]}, **overrides}


def _on_b(app: Any, **values: Any) -> None:
    add_storefront(app, make_storefront("b", policies=StorefrontPolicies(**values)))


def _lifetime(access: str) -> int:
    claims = jwt.decode(access, options={"verify_signature": False})
    return math.ceil(claims["exp"] - claims["iat"])  # `exp` is whole seconds, `iat` keeps its fraction


class TestStaffApi:
    async def test_created_with_policies_and_patched_field_by_field(self, api, staff) -> None:
        created = await api.client.post(URL, headers=staff, json=_body(policies={
            "access_token_minutes": 60, "password_policy": "strict", "alert_emails": ["Ops@B.example"]}))
        assert created.status_code == 201, created.text
        assert created.json()["policies"] == {
            **StorefrontPolicies().model_dump(mode="json"), "access_token_minutes": 60, "password_policy": "strict",
            "alert_emails": ["Ops@b.example"]}
        patched = await api.client.patch(f"{URL}/b", headers=staff, json={
            "policies": {"signin_lockout_minutes": 5, "access_token_minutes": None}})
        assert patched.status_code == 200, patched.text
        body = patched.json()["policies"]
        # Sent: replaced (null: the install's setting again); not sent: kept.
        assert (body["signin_lockout_minutes"], body["access_token_minutes"]) == (5, None)
        assert (body["password_policy"], body["alert_emails"]) == ("strict", ["Ops@b.example"])
        fetched = (await api.client.get(f"{URL}/b", headers=staff)).json()
        assert fetched["policies"] == body

    @pytest.mark.parametrize("policies", [
        {"access_token_minutes": 0}, {"access_token_minutes": 1441}, {"password_policy": "weak"},
        {"signin_lockout_minutes": -1}, {"registrations_per_hour_per_ip": 0}, {"cart_line_limit": -1},
        {"alert_emails": ["not an address"]}, {"passkey_signup_signs_in": "maybe"}])
    async def test_values_out_of_range_are_refused(self, api, staff, expect_error, policies) -> None:
        expect_error(await api.client.post(URL, headers=staff, json=_body(policies=policies)), 400,
                     "VALIDATION_ERROR")

    async def test_policies_cannot_be_null(self, api, staff, expect_error) -> None:
        assert (await api.client.post(URL, headers=staff, json=_body())).status_code == 201
        expect_error(await api.client.patch(f"{URL}/b", headers=staff, json={"policies": None}), 400,
                     "VALIDATION_ERROR")


class TestAccessTokenLifetime:
    async def test_each_storefront_issues_its_own_lifetime(self, api) -> None:
        _on_b(api.h.app, access_token_minutes=60)
        await api.verified_user()
        default = (await api.login()).json()
        on_b = (await api.login(headers=ON_B)).json()
        assert (_lifetime(default["access"]), default["expires_in"]) == (15 * 60, 15 * 60)
        assert (_lifetime(on_b["access"]), on_b["expires_in"]) == (3600, 3600)
        # A refresh issues the lifetime of the storefront refreshing.
        refreshed = await api.client.post("/api/v1/auth/refresh", json={"refresh": on_b["refresh"]}, headers=ON_B)
        assert refreshed.status_code == 200, refreshed.text
        assert _lifetime(refreshed.json()["access"]) == 3600
        # A password change's new pair too.
        changed = await api.client.post("/api/v1/auth/change-password", headers={
            **ON_B, "Authorization": f"Bearer {on_b['access']}"}, json={
            "current_password": api.password, "new_password": "an-entirely-new-one-9",
            "new_password_confirm": "an-entirely-new-one-9"})
        assert changed.status_code == 200, changed.text
        assert _lifetime(changed.json()["access"]) == 3600

    async def test_revocations_last_the_longest_lifetime_in_force(self, api) -> None:
        _on_b(api.h.app, access_token_minutes=90)
        context = api.h.runtime.context
        assert context.longest_access_ttl.total_seconds() == 90 * 60
        assert policies.longest_access_ttl(context.settings, []).total_seconds() == 15 * 60


class TestPasswordPolicy:
    @pytest.mark.parametrize("password", ["password1", "qwerty123", "ada.lovelace1", "Lovelace2024"])
    async def test_strict_refuses_what_the_install_rule_accepts(self, api, expect_error, password) -> None:
        _on_b(api.h.app, password_policy="strict")
        email = "ada.lovelace@example.com"
        details = expect_error(await api.register(email, password, headers=ON_B), 400, "VALIDATION_ERROR")
        assert details["fields"]["password"]
        assert (await api.register(email, password)).status_code == 201

    async def test_length_only_checks_the_length(self, api, expect_error) -> None:
        _on_b(api.h.app, password_policy="length")
        assert (await api.register("a@example.com", "123456789", headers=ON_B)).status_code == 201
        expect_error(await api.register("b@example.com", "short1", headers=ON_B), 400, "VALIDATION_ERROR")
        # Unset: the install's rule, which refuses an all-numeric password.
        expect_error(await api.register("c@example.com", "123456789"), 400, "VALIDATION_ERROR")

    async def test_strict_applies_to_a_change_and_a_reset(self, api, expect_error) -> None:
        _on_b(api.h.app, password_policy="strict")
        session = await api.signed_in()
        headers = {**ON_B, "Authorization": f"Bearer {session['access']}"}
        expect_error(await api.client.post("/api/v1/auth/change-password", headers=headers, json={
            "current_password": api.password, "new_password": "password1", "new_password_confirm": "password1"}),
            400, "VALIDATION_ERROR")
        await api.client.post("/api/v1/auth/password-reset", json={"email": "ada@example.com"}, headers=ON_B)
        token = await api.mailed_token("ada@example.com", 2)
        expect_error(await api.client.post("/api/v1/auth/password-reset/confirm", headers=ON_B, json={
            "token": token, "new_password": "iloveyou", "new_password_confirm": "iloveyou"}), 400, "VALIDATION_ERROR")
        done = await api.client.post("/api/v1/auth/password-reset/confirm", headers=ON_B, json={
            "token": token, "new_password": "Tr1cky-Horse-88", "new_password_confirm": "Tr1cky-Horse-88"})
        assert done.status_code == 200, done.text


class TestSignInLockout:
    async def _lock(self, api, email: str, headers: dict[str, str]) -> int:
        await api.verified_user(email)
        for _ in range(10):
            assert (await api.login(email, "wrong password", headers=headers)).status_code == 401
        locked = await api.login(email, headers=headers)
        assert locked.status_code == 429, locked.text
        assert locked.json()["error"]["details"]["retry_after"] == int(locked.headers["retry-after"])
        return int(locked.headers["retry-after"])

    async def test_each_storefront_locks_for_its_own_time(self, api) -> None:
        _on_b(api.h.app, signin_lockout_minutes=2)
        assert 100 < await self._lock(api, "a@example.com", {**ON_B, **HERE}) <= 120
        assert 800 < await self._lock(api, "b@example.com", HERE) <= 900

    async def test_a_lock_holds_on_every_storefront_and_for_that_address_only(self, api) -> None:
        _on_b(api.h.app, signin_lockout_minutes=60)
        await self._lock(api, "a@example.com", {**ON_B, **HERE})
        # Changing storefront is no second budget...
        assert (await api.login("a@example.com", headers=HERE)).status_code == 429
        # ...and another address is not locked out.
        assert (await api.login("a@example.com", headers={**ON_B, **THERE})).status_code == 200


class TestRegistrationsPerAddress:
    async def test_an_address_registers_the_storefronts_number_an_hour(self, api, expect_error) -> None:
        _on_b(api.h.app, registrations_per_hour_per_ip=2)
        for n in range(2):
            assert (await api.register(f"u{n}@example.com", headers={**ON_B, **HERE})).status_code == 201
        refused = await api.register("u2@example.com", headers={**ON_B, **HERE})
        details = expect_error(refused, 429, "RATE_LIMITED")
        assert details["limit"] == "registrations_per_hour_per_ip" and details["per_hour"] == 2
        assert 0 < details["retry_after"] <= 3600 and refused.headers["retry-after"]
        # Another address, and the same address on another storefront, go on.
        assert (await api.register("u3@example.com", headers={**ON_B, **THERE})).status_code == 201
        assert (await api.register("u4@example.com", headers=HERE)).status_code == 201


class TestPasskeySignup:
    PASSKEYS = "/api/v1/auth/passkeys"

    async def _signup(self, api, authenticator: SoftwareAuthenticator) -> Any:
        begun = await api.client.post(f"{self.PASSKEYS}/signup/begin", headers=ON_B, json={"email": "new@example.com"})
        assert begun.status_code == 200, begun.text
        options = begun.json()
        return await api.client.post(f"{self.PASSKEYS}/signup/complete", headers=ON_B, json={
            "registration_id": options["registration_id"], "credential": authenticator.create(options)})

    async def _login(self, api, authenticator: SoftwareAuthenticator) -> Any:
        options = (await api.client.post(f"{self.PASSKEYS}/login/begin", headers=ON_B,
                                         json={"email": "new@example.com"})).json()
        return await api.client.post(f"{self.PASSKEYS}/login/complete", headers=ON_B, json={
            "authentication_id": options["authentication_id"], "credential": authenticator.get(options)})

    async def test_signs_in_at_once_where_the_storefront_says(self, api) -> None:
        _on_b(api.h.app, passkey_signup_signs_in=True, access_token_minutes=30)
        authenticator = SoftwareAuthenticator(origin="https://b.example")
        response = await self._signup(api, authenticator)
        assert response.status_code == 201, response.text
        body = response.json()
        assert body["user"]["is_verified"] is False and _lifetime(body["access"]) == 30 * 60
        # Its passkey signs it in again later there, the address still unconfirmed.
        again = await self._login(api, authenticator)
        assert again.status_code == 200, again.text

    async def test_waits_for_the_address_elsewhere(self, api, expect_error) -> None:
        _on_b(api.h.app)
        authenticator = SoftwareAuthenticator(origin="https://b.example")
        response = await self._signup(api, authenticator)
        assert response.status_code == 201 and "access" not in response.json()
        expect_error(await self._login(api, authenticator), 403, "EMAIL_NOT_VERIFIED")

