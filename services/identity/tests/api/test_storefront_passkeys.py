"""Passkeys per storefront: each storefront is its own WebAuthn relying party. A passkey made on B
signs in on B only; a ceremony begun on B completes on B only."""

from __future__ import annotations

from typing import Any

import pytest

from atelier_common.contracts.identity import StorefrontPasskey
from atelier_testing.fakes.authenticator import SoftwareAuthenticator
from atelier_testing.storefronts import add_storefront, make_storefront, on_storefront

BASE = "/api/v1/auth/passkeys"
B_ORIGIN = "https://b.example"
ON_B = on_storefront("b")


@pytest.fixture
def storefront_b(api) -> None:
    add_storefront(api.h.app, make_storefront("b"))


def _bearer(session: dict[str, Any], headers: dict[str, str] | None = None) -> dict[str, str]:
    return {"Authorization": f"Bearer {session['access']}", **(headers or {})}


async def _register(api, session: dict[str, Any], authenticator: SoftwareAuthenticator,
                    headers: dict[str, str] | None = None) -> dict[str, Any]:
    begun = await api.client.post(f"{BASE}/register/begin", json={"name": "key"}, headers=_bearer(session, headers))
    assert begun.status_code == 200, begun.text
    options = begun.json()
    response = await api.client.post(f"{BASE}/register/complete", headers=_bearer(session, headers), json={
        "registration_id": options["registration_id"], "credential": authenticator.create(options)})
    assert response.status_code == 201, response.text
    return options


class TestRelyingPartyOfTheStorefront:
    async def test_options_name_the_storefronts_relying_party(self, api, storefront_b) -> None:
        session = await api.signed_in()
        begun = await api.client.post(f"{BASE}/register/begin", headers=_bearer(session, ON_B))
        assert begun.json()["rp"] == {"id": "b.example", "name": "Storefront B"}
        assert (await api.passkey_login_begin(headers=ON_B))["rpId"] == "b.example"
        # The default storefront's relying party is the settings' one, as before.
        assert (await api.passkey_login_begin())["rpId"] == "localhost"

    async def test_a_passkey_made_on_b_signs_in_on_b(self, api, storefront_b) -> None:
        session = await api.signed_in()
        authenticator = SoftwareAuthenticator(origin=B_ORIGIN)
        await _register(api, session, authenticator, ON_B)
        options = await api.passkey_login_begin("ada@example.com", ON_B)
        assert len(options["allowCredentials"]) == 1
        response = await api.passkey_login_complete(options, authenticator.get(options), ON_B)
        assert response.status_code == 200, response.text
        assert response.json()["user"]["email"] == "ada@example.com"

    async def test_a_passkey_made_on_b_is_refused_on_the_default_storefront(self, api, storefront_b,
                                                                            expect_error) -> None:
        session = await api.signed_in()
        authenticator = SoftwareAuthenticator(origin=B_ORIGIN)
        await _register(api, session, authenticator, ON_B)
        # Not offered to the default storefront's relying party...
        options = await api.passkey_login_begin("ada@example.com")
        assert options["allowCredentials"] == []
        # ...and refused when presented there, even signed for it from its own origin.
        credential = authenticator.get(options, origin="http://localhost:3000")
        expect_error(await api.passkey_login_complete(options, credential), 400, "PASSKEY_INVALID")
        discoverable = await api.passkey_login_begin()
        credential = authenticator.get(discoverable, origin="http://localhost:3000")
        expect_error(await api.passkey_login_complete(discoverable, credential), 400, "PASSKEY_INVALID")

    async def test_a_default_passkey_is_not_offered_nor_accepted_on_b(self, api, storefront_b, authenticator,
                                                                     expect_error) -> None:
        session = await api.signed_in()
        await _register(api, session, authenticator)
        options = await api.passkey_login_begin("ada@example.com", ON_B)
        assert options["allowCredentials"] == []
        credential = authenticator.get(options, origin=B_ORIGIN)
        expect_error(await api.passkey_login_complete(options, credential, ON_B), 400, "PASSKEY_INVALID")
        # Still the default storefront's: it signs in there.
        options = await api.passkey_login_begin("ada@example.com")
        assert (await api.passkey_login_complete(options, authenticator.get(options))).status_code == 200

    async def test_a_sign_in_begun_on_b_cannot_be_completed_on_the_default(self, api, storefront_b, authenticator,
                                                                          expect_error) -> None:
        session = await api.signed_in()
        await _register(api, session, authenticator)  # a passkey of the default relying party
        begun_on_b = await api.passkey_login_begin(headers=ON_B)
        # Signed as the default relying party would be: only the challenge's relying party differs.
        credential = authenticator.get({**begun_on_b, "rpId": "localhost"})
        expect_error(await api.passkey_login_complete(begun_on_b, credential), 400, "PASSKEY_INVALID")

    async def test_a_registration_begun_on_b_cannot_be_completed_on_the_default(self, api, storefront_b,
                                                                               authenticator, expect_error) -> None:
        session = await api.signed_in()
        options = (await api.client.post(f"{BASE}/register/begin", headers=_bearer(session, ON_B))).json()
        credential = authenticator.create({**options, "rp": {"id": "localhost", "name": "Atelier"}})
        response = await api.client.post(f"{BASE}/register/complete", headers=_bearer(session), json={
            "registration_id": options["registration_id"], "credential": credential})
        expect_error(response, 400, "PASSKEY_INVALID")
        assert (await api.client.get(BASE, headers=_bearer(session))).json()["count"] == 0

    async def test_b_excludes_only_its_own_passkeys_at_registration(self, api, storefront_b, authenticator) -> None:
        session = await api.signed_in()
        await _register(api, session, authenticator)
        on_b = (await api.client.post(f"{BASE}/register/begin", headers=_bearer(session, ON_B))).json()
        assert on_b["excludeCredentials"] == []
        on_default = (await api.client.post(f"{BASE}/register/begin", headers=_bearer(session))).json()
        assert len(on_default["excludeCredentials"]) == 1

    async def test_origins_fall_back_to_the_storefronts_then_its_frontend(self, api) -> None:
        add_storefront(api.h.app, make_storefront("c", origins=["https://shop.c.example"],
                                                  passkey=StorefrontPasskey(rp_id="c.example")))
        add_storefront(api.h.app, make_storefront("d", origins=[], passkey=None))
        for slug, origin in (("c", "https://shop.c.example"), ("d", "https://d.example")):
            session = await api.signed_in(f"{slug}@example.com")
            authenticator = SoftwareAuthenticator(origin=origin)
            options = await _register(api, session, authenticator, on_storefront(slug))
            assert options["rp"]["id"] == f"{slug}.example"
            begun = await api.passkey_login_begin(f"{slug}@example.com", on_storefront(slug))
            response = await api.passkey_login_complete(begun, authenticator.get(begun), on_storefront(slug))
            assert response.status_code == 200, response.text


class TestPasskeySignupOnAStorefront:
    async def test_the_account_records_b_and_its_verification_comes_from_b(self, api, storefront_b) -> None:
        authenticator = SoftwareAuthenticator(origin=B_ORIGIN)
        begun = await api.client.post(f"{BASE}/signup/begin", json={"email": "nino@example.com"}, headers=ON_B)
        assert begun.status_code == 200, begun.text
        options = begun.json()
        assert options["rp"]["id"] == "b.example"
        response = await api.client.post(f"{BASE}/signup/complete", headers=ON_B, json={
            "registration_id": options["registration_id"], "credential": authenticator.create(options)})
        assert response.status_code == 201, response.text
        assert response.json()["user"]["signup_storefront"] == "b"
        [mail] = await api.wait_for_mail("nino@example.com")
        assert mail["from"] == "B <hello@b.example>"
        assert "https://b.example/verify-email?token=" in mail["text"]
