"""The storefront policies identity enforces (docs/storefronts.md#policies), through the gateway in
both modes: two storefronts made by staff with different values, and each policy answering
differently on each — token lifetime, password policy, lock-out, registrations per address and a
passkey sign-up signing in."""

from __future__ import annotations

import math
import uuid
from typing import Any

import httpx
import jwt
import pytest
from infra.identity_steps import PASSKEYS, error_code, unique_email, visitor_client
from infra.journeys import PASSWORD, latest_mail, poll, staff, token_from

from atelier_testing.fakes.authenticator import SoftwareAuthenticator
from atelier_testing.platform import Platform

pytestmark = pytest.mark.e2e

# STRICT is S3's shop and S2's passkey sign-up; LENIENT the opposite on each.
STRICT = {"access_token_minutes": 60, "password_policy": "strict", "signin_lockout_minutes": 2,
          "registrations_per_hour_per_ip": 2, "passkey_signup_signs_in": True}
LENIENT = {"access_token_minutes": 5, "password_policy": "length", "signin_lockout_minutes": 30,
           "registrations_per_hour_per_ip": None, "passkey_signup_signs_in": False}


class Stores:
    def __init__(self, api: httpx.AsyncClient) -> None:
        self.api = api
        suffix = uuid.uuid4().hex[:8]
        self.strict, self.lenient = f"strict-{suffix}", f"lenient-{suffix}"

    def origin(self, slug: str) -> str:
        return f"https://{slug}.example"

    def on(self, slug: str) -> dict[str, str]:
        return {"X-Atelier-Storefront": slug, "Origin": self.origin(slug)}

    async def create(self) -> Stores:
        headers = await staff(self.api)
        for slug, policies in ((self.strict, STRICT), (self.lenient, LENIENT)):
            origin = self.origin(slug)
            r = await self.api.post("/api/v1/storefronts", headers=headers, json={
                "slug": slug, "name": f"Store {slug}", "origins": [origin], "frontend_url": origin,
                "passkey": {"rp_id": f"{slug}.example", "origins": [origin]}, "policies": policies})
            assert r.status_code == 201, r.text
            assert {k: r.json()["policies"][k] for k in policies} == policies

        async def known(slug: str) -> bool:
            r = await self.api.get("/api/v1/storefront", headers=self.on(slug))
            return r.status_code == 200 and r.json()["slug"] == slug

        for slug in (self.strict, self.lenient):
            await poll(lambda slug=slug: known(slug), message=f"storefront {slug} known")
        return self


def lifetime(access: str) -> int:
    claims = jwt.decode(access, options={"verify_signature": False})
    return math.ceil(claims["exp"] - claims["iat"])  # `exp` is whole seconds, `iat` keeps its fraction


async def register(client: httpx.AsyncClient, headers: dict[str, str], email: str | None = None,
                   password: str = PASSWORD) -> httpx.Response:
    return await client.post("/api/v1/auth/register", headers=headers, json={
        "email": email or unique_email("policy"), "password": password, "password_confirm": password,
        "first_name": "Ada", "last_name": "Lovelace"})


@pytest.fixture
async def stores(api: httpx.AsyncClient) -> Stores:
    return await Stores(api).create()


async def test_access_tokens_live_as_their_storefront_says(platform: Platform, stores: Stores) -> None:
    async with visitor_client(platform.url) as client:
        email = unique_email("lifetime")
        assert (await register(client, stores.on(stores.lenient), email)).status_code == 201
        r = await client.post("/api/v1/auth/verify-email", json={"token": await _mailed_token(client, email)})
        assert r.status_code == 200, r.text
        for slug, seconds in ((stores.strict, 3600), (stores.lenient, 300)):
            r = await client.post("/api/v1/auth/login", headers=stores.on(slug),
                                  json={"email": email, "password": PASSWORD})
            assert r.status_code == 200, r.text
            assert (lifetime(r.json()["access"]), r.json()["expires_in"]) == (seconds, seconds)
            # The gateway accepts it, and a refresh there issues the same lifetime.
            assert (await client.get("/api/v1/users/me", headers={
                "Authorization": f"Bearer {r.json()['access']}"})).status_code == 200
            refreshed = await client.post("/api/v1/auth/refresh", headers=stores.on(slug),
                                          json={"refresh": r.json()["refresh"]})
            assert refreshed.status_code == 200, refreshed.text
            assert lifetime(refreshed.json()["access"]) == seconds


async def test_strict_refuses_common_passwords_length_only_counts(platform: Platform, stores: Stores) -> None:
    async with visitor_client(platform.url) as strict, visitor_client(platform.url) as lenient:
        for password in ("password1", "qwerty123", "123456789"):
            r = await register(strict, stores.on(stores.strict), password=password)
            assert (r.status_code, error_code(r)) == (400, "VALIDATION_ERROR"), r.text
            assert r.json()["error"]["details"]["fields"]["password"]
        r = await register(lenient, stores.on(stores.lenient), password="123456789")
        assert r.status_code == 201, r.text
        r = await register(lenient, stores.on(stores.lenient), password="short")
        assert (r.status_code, error_code(r)) == (400, "VALIDATION_ERROR"), r.text


async def test_each_storefront_locks_an_address_out_for_its_own_time(platform: Platform, stores: Stores) -> None:
    for slug, low, high in ((stores.strict, 60, 120), (stores.lenient, 25 * 60, 30 * 60)):
        async with visitor_client(platform.url) as client:
            email = unique_email("lockout")
            assert (await register(client, stores.on(slug), email)).status_code == 201
            for _ in range(10):
                r = await client.post("/api/v1/auth/login", headers=stores.on(slug),
                                      json={"email": email, "password": "wrong-password-1"})
                assert r.status_code == 401, r.text
            r = await client.post("/api/v1/auth/login", headers=stores.on(slug),
                                  json={"email": email, "password": PASSWORD})
            assert (r.status_code, error_code(r)) == (429, "RATE_LIMITED"), r.text
            retry_after = int(r.headers["retry-after"])
            assert low < retry_after <= high and r.json()["error"]["details"]["retry_after"] == retry_after


async def test_registrations_per_address_are_the_storefronts(platform: Platform, stores: Stores) -> None:
    async with visitor_client(platform.url) as client:
        for _ in range(2):
            assert (await register(client, stores.on(stores.strict))).status_code == 201
        r = await register(client, stores.on(stores.strict))
        assert (r.status_code, error_code(r)) == (429, "RATE_LIMITED"), r.text
        details = r.json()["error"]["details"]
        assert details["limit"] == "registrations_per_hour_per_ip" and details["per_hour"] == 2
        assert 0 < details["retry_after"] <= 3600
        # The same address on the other storefront has no such limit.
        for _ in range(3):
            assert (await register(client, stores.on(stores.lenient))).status_code == 201


async def test_a_passkey_sign_up_signs_in_where_the_storefront_says(platform: Platform, stores: Stores) -> None:
    for slug, signs_in in ((stores.strict, True), (stores.lenient, False)):
        async with visitor_client(platform.url) as client:
            done = await _passkey_sign_up(client, stores, slug)
            assert done["user"]["is_verified"] is False
            assert ("access" in done) is signs_in, done
            if signs_in:
                assert lifetime(done["access"]) == 3600
                r = await client.get("/api/v1/users/me", headers={"Authorization": f"Bearer {done['access']}"})
                assert r.status_code == 200 and r.json()["email"] == done["user"]["email"], r.text


async def _passkey_sign_up(client: httpx.AsyncClient, stores: Stores, slug: str) -> dict[str, Any]:
    authenticator = SoftwareAuthenticator(origin=stores.origin(slug))
    begun = await client.post(f"{PASSKEYS}/signup/begin", headers=stores.on(slug),
                              json={"email": unique_email("passkey")})
    assert begun.status_code == 200, begun.text
    options = begun.json()
    done = await client.post(f"{PASSKEYS}/signup/complete", headers=stores.on(slug), json={
        "registration_id": options["registration_id"], "credential": authenticator.create(options)})
    assert done.status_code == 201, done.text
    result: dict[str, Any] = done.json()
    return result


async def _mailed_token(client: httpx.AsyncClient, email: str) -> str:
    return token_from(await latest_mail(client, email, "confirm your email"))
