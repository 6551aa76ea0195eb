"""Passkeys with real attestations and signed assertions (a software authenticator, verified by the platform
with py_webauthn): replays and cross-account use are refused. Through the gateway, both modes."""

from __future__ import annotations

import httpx
import pytest
from infra.identity_steps import (
    PASSKEYS,
    bearer,
    expect_error,
    me,
    passkey_login_begin,
    passkey_login_complete,
    register_passkey,
    signed_in_customer,
    visitor,
)
from infra.oidc import b64url

pytestmark = pytest.mark.e2e


async def test_an_assertion_with_a_replayed_sign_count_is_refused(api: httpx.AsyncClient,
                                                                  new_authenticator) -> None:
    customer = await signed_in_customer(api)
    authenticator = new_authenticator()
    await register_passkey(api, customer["access"], authenticator)

    async with visitor(api) as browser:
        options = await passkey_login_begin(browser, customer["email"])
        assertion = authenticator.get(options, sign_count=3)
        r = await passkey_login_complete(browser, options, assertion)
        assert r.status_code == 200, r.text
        assert (await me(browser, r.json()["access"]))["id"] == customer["id"]

        # The very same assertion again: its challenge is spent.
        expect_error(await passkey_login_complete(browser, options, assertion), 400, "INVALID_TOKEN")
        # A fresh challenge, signed properly, but with the sign count already seen (a cloned key): refused.
        options = await passkey_login_begin(browser, customer["email"])
        expect_error(await passkey_login_complete(browser, options, authenticator.get(options, sign_count=3)), 400,
                     "PASSKEY_INVALID")
        # …and a lower one too.
        options = await passkey_login_begin(browser)
        expect_error(await passkey_login_complete(browser, options, authenticator.get(options, sign_count=2)), 400,
                     "PASSKEY_INVALID")
        # The genuine authenticator, counting on, still gets in.
        options = await passkey_login_begin(browser)
        r = await passkey_login_complete(browser, options, authenticator.get(options, sign_count=4))
        assert r.status_code == 200, r.text
        assert r.json()["user"]["id"] == customer["id"]


async def test_a_passkey_of_one_user_cannot_sign_in_as_another(api: httpx.AsyncClient,
                                                               new_authenticator) -> None:
    async with visitor(api) as ada_client, visitor(api) as bob_client:
        ada, bob = await signed_in_customer(ada_client), await signed_in_customer(bob_client)
        adas_key, bobs_key = new_authenticator(), new_authenticator()
        await register_passkey(ada_client, ada["access"], adas_key)
        bobs = await register_passkey(bob_client, bob["access"], bobs_key)
    [adas_credential] = adas_key.credentials
    adas_credential_id = b64url(adas_credential)

    async with visitor(api) as attacker:
        # A sign-in begun for Bob, answered by Ada's key (ignoring allowCredentials, as an attacker would).
        options = await passkey_login_begin(attacker, bob["email"])
        assert options["allowCredentials"] and all(c["id"] != adas_credential_id for c in options["allowCredentials"])
        forged = adas_key.get(options, credential_id=adas_credential_id)
        expect_error(await passkey_login_complete(attacker, options, forged), 400, "PASSKEY_INVALID")

        # Ada's key claiming Bob's user handle (it is not covered by the signature): refused.
        options = await passkey_login_begin(attacker)
        forged = adas_key.get(options, credential_id=adas_credential_id)
        forged["response"]["userHandle"] = bobs["options"]["user"]["id"]
        expect_error(await passkey_login_complete(attacker, options, forged), 400, "PASSKEY_INVALID")

        # Used honestly, Ada's key is Ada — never Bob.
        options = await passkey_login_begin(attacker)
        r = await passkey_login_complete(attacker, options, adas_key.get(options, credential_id=adas_credential_id))
        assert r.status_code == 200, r.text
        assert (await me(attacker, r.json()["access"]))["id"] == ada["id"] != bob["id"]

    # Bob's own key still works (the attempts did not disturb his passkey).
    async with visitor(api) as browser:
        options = await passkey_login_begin(browser, bob["email"])
        r = await passkey_login_complete(browser, options, bobs_key.get(options))
        assert r.status_code == 200, r.text
        assert (await me(browser, r.json()["access"]))["id"] == bob["id"]


async def test_the_registration_id_works_once_and_passkeys_are_listed(api: httpx.AsyncClient,
                                                                      new_authenticator) -> None:
    customer = await signed_in_customer(api)
    authenticator = new_authenticator()
    begun = await api.post(f"{PASSKEYS}/register/begin", json={"name": "Phone"}, headers=bearer(customer["access"]))
    assert begun.status_code == 200, begun.text
    options = begun.json()
    body = {"registration_id": options["registration_id"], "credential": authenticator.create(options)}
    first = await api.post(f"{PASSKEYS}/register/complete", json=body, headers=bearer(customer["access"]))
    assert first.status_code == 201, first.text
    expect_error(await api.post(f"{PASSKEYS}/register/complete", json=body, headers=bearer(customer["access"])), 400,
                 "INVALID_TOKEN")
    listed = (await api.get(PASSKEYS, headers=bearer(customer["access"]))).json()
    assert [p["id"] for p in listed["results"]] == [first.json()["passkey"]["id"]]
